/**
 * A run's training history as a danfojs DataFrame: one row per epoch with the gap between validation and
 * training loss (a widening gap is overfitting), and describe() over the epochs.
 */
import * as dfd from 'danfojs-node';
import type { HistoryData } from '../runs/history';

/** One row per epoch: epoch, loss, accuracy, val_loss, val_accuracy, val_auc, gap = val_loss - loss, seconds. */
export function historyFrame(history: HistoryData): dfd.DataFrame {
  return new dfd.DataFrame({
    epoch: history.epoch,
    loss: history.loss,
    accuracy: history.accuracy,
    val_loss: history.val_loss,
    val_accuracy: history.val_accuracy,
    // Older histories have no val_auc; their column is NaN.
    val_auc: history.epoch.map((_, i) => history.val_auc?.[i] ?? NaN),
    gap: history.val_loss.map((v, i) => v - history.loss[i]),
    seconds: history.seconds,
  });
}

/** count, mean, std, min, median, max, variance of every column but the epoch number. */
export function historySummary(history: HistoryData): dfd.DataFrame {
  return historyFrame(history)
    .drop({ columns: ['epoch'] })
    .describe();
}
