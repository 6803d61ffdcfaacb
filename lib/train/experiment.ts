/**
 * One training run, start to finish: load the preprocessed dataset, take the configured rows and split
 * them (lib/data/split.ts), build the study's model, train with checkpointing, record everything in a run folder.
 */
import * as path from 'path';
import type { Config } from '../config';
import { initBackend, describeBackend, BackendInfo } from '../backend/backend';
import { Callback, CSVLogger, EarlyStopping, EpochLogger, ModelCheckpoint, TrainingContext } from './callbacks';
import { loadDataset, Dataset } from '../data/dataset';
import { buildModel } from '../model/model';
import { selectRows, splitRows } from '../data/split';
import { createRun, Run, updateRunMeta } from './runs';
import { fit, TrainStepper } from './train';

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
  const run = createRun({
    root: options.runsDir,
    config,
    preset: options.preset,
    dataDir: options.dataDir,
    datasetFingerprint: dataset.info.fingerprint,
    split,
    backend: backend.name,
  });
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
