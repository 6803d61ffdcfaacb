/**
 * One training run, start to finish: load the preprocessed dataset, take the configured rows, split them
 * with the seed, build the study's model, train with checkpointing, record everything in a run folder.
 */
import * as path from 'path';
import type { Config } from '../config';
import { initBackend, describeBackend, BackendInfo } from '../backend/backend';
import { Callback, CSVLogger, EarlyStopping, EpochLogger, ModelCheckpoint, TrainingContext } from './callbacks';
import { loadDataset, Dataset } from '../data/dataset';
import { buildModel } from '../model/model';
import { splitIndices, SplitIndices } from '../random';
import { createRun, Run, updateRunMeta } from './runs';
import { fit, TrainStepper } from './train';

/** The first `limit` rows of each class, in dataset (sorted file) order; all rows when limit is null. */
export function selectRows(labels: Uint8Array, limit: number | null): number[] {
  const taken = [0, 0];
  const rows: number[] = [];
  labels.forEach((label, row) => {
    if (limit === null || taken[label] < limit) {
      taken[label]++;
      rows.push(row);
    }
  });
  return rows;
}

/** Splits the selected rows with the config's fractions and seed; returns dataset row numbers. */
export function splitRows(rows: number[], config: Pick<Config, 'valFraction' | 'testFraction' | 'seed'>): SplitIndices {
  const split = splitIndices(rows.length, config.valFraction, config.testFraction, config.seed);
  const pick = (indices: number[]) => indices.map((i) => rows[i]).sort((a, b) => a - b);
  return { train: pick(split.train), val: pick(split.val), test: pick(split.test) };
}

export interface TrainRunOptions {
  dataDir: string;
  config: Config;
  preset: string;
  runsDir?: string;
  /** Extra callbacks (progress bars, notebook plots, a Ctrl-C handler ...). */
  callbacks?: Callback[];
  /** Where epoch lines and notes go (stdout by default; null for silence). */
  log?: ((line: string) => void) | null;
  /** A custom stepper factory (e.g. data-parallel workers); defaults to one thread. */
  makeStepper?: (args: { run: Run; dataset: Dataset; model: import('@tensorflow/tfjs').LayersModel; backend: BackendInfo }) => Promise<TrainStepper | undefined>;
}

export interface TrainRunResult {
  run: Run;
  backend: BackendInfo;
  context: TrainingContext;
  bestEpoch: number;
  bestValAccuracy: number;
}

export async function trainRun(options: TrainRunOptions): Promise<TrainRunResult> {
  const { config } = options;
  const log = options.log === null ? () => undefined : options.log ?? ((line: string) => process.stdout.write(line + '\n'));
  const dataset = loadDataset(options.dataDir);
  if (dataset.size !== config.imageSize) {
    throw new Error(`${options.dataDir}: images are ${dataset.size}px but the config asks for ${config.imageSize}px (preprocess with --size ${config.imageSize})`);
  }
  if ((dataset.info.harmonize ?? false) !== config.harmonize) {
    const made = dataset.info.harmonize ? 'with' : 'without';
    throw new Error(`${options.dataDir}: preprocessed ${made} --harmonize but the config says harmonize ${config.harmonize}`);
  }
  const rows = selectRows(dataset.y, config.limitPerClass);
  const split = splitRows(rows, config);
  const backend = await initBackend();
  const run = createRun({ root: options.runsDir, config, preset: options.preset, dataDir: options.dataDir, split, backend: backend.name });
  log(`backend: ${describeBackend(backend)}`);
  log(`run: ${run.dir}`);
  log(`data: ${rows.length} images (train ${split.train.length}, validation ${split.val.length}, test ${split.test.length}), ${config.imageSize}px, resize ${dataset.info.resize}`);
  const model = buildModel(config);
  const checkpoint = new ModelCheckpoint(run.dir, 'val_accuracy');
  const callbacks: Callback[] = [new CSVLogger(run.dir), checkpoint];
  if (config.earlyStoppingPatience !== null) callbacks.push(new EarlyStopping(config.earlyStoppingPatience));
  if (options.log !== null) callbacks.push(new EpochLogger(log));
  callbacks.push(...(options.callbacks ?? []));
  const stepper = await options.makeStepper?.({ run, dataset, model, backend });
  try {
    const { context } = await fit({ model, data: dataset, trainIndices: split.train, valIndices: split.val, config, callbacks, stepper });
    updateRunMeta(run, { finishedAt: new Date().toISOString(), stopReason: context.stopReason, bestEpoch: checkpoint.bestEpoch });
    log(`best val_accuracy ${checkpoint.best.toFixed(4)} at epoch ${checkpoint.bestEpoch}; model saved in ${path.join(run.dir, 'model')}`);
    return { run, backend, context, bestEpoch: checkpoint.bestEpoch, bestValAccuracy: checkpoint.best };
  } finally {
    model.dispose();
  }
}
