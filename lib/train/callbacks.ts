/**
 * Keras's callback vocabulary for realfake's training loop: History, ModelCheckpoint, EarlyStopping,
 * CSVLogger, and a progress logger. Each hook may be async; the loop awaits it.
 */
import * as path from 'path';
import type * as tf from '@tensorflow/tfjs';
import { writeFileAtomic, writeJsonAtomic } from '../files';
import { saveModel } from '../model/model-io';
import { emptyHistory, historyToCsv, HISTORY_KEYS, type EpochLogs, type HistoryData } from '../runs/history';

export interface TrainingContext {
  model: tf.LayersModel;
  epochs: number;
  stepsPerEpoch: number;
  /** Set by a callback (EarlyStopping, a Ctrl-C handler) to end training after this epoch. */
  stopTraining: boolean;
  stopReason?: string;
}

export interface Callback {
  onTrainBegin?(ctx: TrainingContext): void | Promise<void>;
  onBatchEnd?(step: number, logs: { loss: number; accuracy: number }, ctx: TrainingContext): void | Promise<void>;
  onEpochEnd?(logs: EpochLogs, ctx: TrainingContext): void | Promise<void>;
  onTrainEnd?(ctx: TrainingContext): void | Promise<void>;
}

/** Records every epoch's logs (Keras's History). */
export class History implements Callback {
  readonly history: HistoryData = emptyHistory();
  onEpochEnd(logs: EpochLogs): void {
    for (const k of HISTORY_KEYS) this.history[k].push(logs[k]);
  }
}

/** Writes history.csv and history.json after every epoch, so a crash keeps the curves so far (Keras's CSVLogger). */
export class CSVLogger implements Callback {
  private readonly history = new History();
  constructor(private readonly dir: string) {}
  onEpochEnd(logs: EpochLogs): void {
    this.history.onEpochEnd(logs);
    writeFileAtomic(path.join(this.dir, 'history.csv'), historyToCsv(this.history.history));
    writeJsonAtomic(path.join(this.dir, 'history.json'), this.history.history);
  }
}

export type Monitor = 'val_accuracy' | 'val_loss' | 'val_auc' | 'accuracy' | 'loss';
// A NaN (e.g. val_auc on one-class validation) never counts as an improvement.
const isBetter = (monitor: Monitor, value: number, best: number) =>
  Number.isNaN(value) ? false : Number.isNaN(best) ? true : monitor.endsWith('loss') ? value < best : value > best;

/** Saves the model whenever the monitored value improves (Keras's ModelCheckpoint with save_best_only). */
export class ModelCheckpoint implements Callback {
  best = NaN;
  bestEpoch = 0;
  /** The whole epoch's logs at the best epoch (whatever the monitor). */
  bestLogs?: EpochLogs;
  constructor(
    private readonly dir: string,
    private readonly monitor: Monitor = 'val_accuracy',
    private readonly onSave?: (logs: EpochLogs) => void,
  ) {}
  async onEpochEnd(logs: EpochLogs, ctx: TrainingContext): Promise<void> {
    const value = logs[this.monitor];
    if (Number.isNaN(this.best) || isBetter(this.monitor, value, this.best)) {
      this.best = value;
      this.bestEpoch = logs.epoch;
      this.bestLogs = logs;
      await saveModel(ctx.model, path.join(this.dir, 'model'));
      writeJsonAtomic(path.join(this.dir, 'checkpoint.json'), {
        monitor: this.monitor,
        best: value,
        epoch: logs.epoch,
        logs,
      });
      this.onSave?.(logs);
    }
  }
}

/** Stops when the monitored value has not improved for `patience` epochs (Keras's EarlyStopping). */
export class EarlyStopping implements Callback {
  private best = NaN;
  private wait = 0;
  constructor(
    private readonly patience: number,
    private readonly monitor: Monitor = 'val_accuracy',
  ) {}
  onEpochEnd(logs: EpochLogs, ctx: TrainingContext): void {
    const value = logs[this.monitor];
    if (Number.isNaN(this.best) || isBetter(this.monitor, value, this.best)) {
      this.best = value;
      this.wait = 0;
    } else if (++this.wait >= this.patience) {
      ctx.stopTraining = true;
      ctx.stopReason = `early stopping: no ${this.monitor} improvement in ${this.patience} epochs`;
    }
  }
}

export function formatEpoch(logs: EpochLogs, epochs: number): string {
  const f = (v: number) => v.toFixed(4);
  return (
    `epoch ${String(logs.epoch).padStart(String(epochs).length)}/${epochs}  loss ${f(logs.loss)}  accuracy ${f(logs.accuracy)}  ` +
    `val_loss ${f(logs.val_loss)}  val_accuracy ${f(logs.val_accuracy)}  ${logs.seconds.toFixed(1)}s`
  );
}

/** One line per epoch through `write` (stdout by default). */
export class EpochLogger implements Callback {
  constructor(private readonly write: (line: string) => void = (l) => process.stdout.write(l + '\n')) {}
  onEpochEnd(logs: EpochLogs, ctx: TrainingContext): void {
    this.write(formatEpoch(logs, ctx.epochs));
  }
  onTrainEnd(ctx: TrainingContext): void {
    if (ctx.stopReason) this.write(ctx.stopReason);
  }
}
