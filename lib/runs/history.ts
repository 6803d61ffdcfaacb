/**
 * A run's training history (history.csv, history.json in its folder): one row per epoch, Keras's names. It lives
 * with the run store, not the training loop, because evaluation, comparison and the notebooks read it back.
 */

/** One row of the training history, per epoch (Keras's names). */
export interface EpochLogs {
  epoch: number;
  loss: number;
  accuracy: number;
  val_loss: number;
  val_accuracy: number;
  /** ROC AUC of the validation scores (NaN when validation holds one class). */
  val_auc: number;
  seconds: number;
}

export type HistoryKey = keyof EpochLogs;
export const HISTORY_KEYS: readonly HistoryKey[] = [
  'epoch',
  'loss',
  'accuracy',
  'val_loss',
  'val_accuracy',
  'val_auc',
  'seconds',
];
export type HistoryData = Record<HistoryKey, number[]>;

export function emptyHistory(): HistoryData {
  return Object.fromEntries(HISTORY_KEYS.map((k) => [k, []])) as unknown as HistoryData;
}

export function historyToCsv(history: HistoryData): string {
  const rows = history.epoch.map((_, i) => HISTORY_KEYS.map((k) => history[k][i]).join(','));
  return [HISTORY_KEYS.join(','), ...rows].join('\n') + '\n';
}
