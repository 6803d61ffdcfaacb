/**
 * One training run, start to finish: load the preprocessed dataset, take the configured rows and split
 * them (lib/data/split.ts), build the config's model family and train it as its plan says (lib/train/training-plans.ts),
 * with checkpointing, recording everything in a run folder.
 */
import * as path from 'path';
import type { Config } from '../config';
import { initBackend, describeBackend, BackendInfo } from '../backend/backend';
import { Callback, CSVLogger, EarlyStopping, EpochLogger, ModelCheckpoint, TrainingContext } from './callbacks';
import { loadDataset } from '../data/dataset';
import { datasetSplit } from '../data/split';
import type { SplitIndices } from '../random';
import { createRun, DEFAULT_RUNS_DIR, Run, updateRunMeta } from '../runs/runs';
import { removeStaleTempFiles } from '../files';
import { interruptRequested, InterruptedError } from '../interrupt';
import { fit } from './train';
import { prepareTraining, type StepperFactory } from './training-plans';

export interface TrainRunOptions {
  dataDir: string;
  config: Config;
  preset: string;
  runsDir?: string;
  /** Extra callbacks (progress bars, notebook plots, a Ctrl-C handler ...). */
  callbacks?: Callback[];
  /** Where epoch lines and notes go (stdout by default; null for silence). */
  log?: ((line: string) => void) | null;
  /**
   * The rows to train, validate and test on, instead of the config's split of the dataset (leave-one-source-out
   * cross-validation trains without one source and tests on it). Recorded in split.json like any split.
   */
  split?: SplitIndices;
  /** A custom stepper factory (e.g. data-parallel workers); defaults to one thread. */
  makeStepper?: StepperFactory;
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
  const log =
    options.log === null ? () => undefined : (options.log ?? ((line: string) => process.stdout.write(line + '\n')));
  const dataset = loadDataset(options.dataDir);
  if (dataset.size !== config.imageSize) {
    throw new Error(
      `${options.dataDir}: images are ${dataset.size}px but the config asks for ${config.imageSize}px (preprocess with --size ${config.imageSize})`,
    );
  }
  if ((dataset.info.harmonize ?? false) !== config.harmonize) {
    const made = dataset.info.harmonize ? 'with' : 'without';
    throw new Error(
      `${options.dataDir}: preprocessed ${made} --harmonize but the config says harmonize ${config.harmonize}`,
    );
  }
  if ((dataset.info.alignFaces ?? false) !== (config.alignFaces ?? false)) {
    const made = dataset.info.alignFaces ? 'with' : 'without';
    throw new Error(
      `${options.dataDir}: preprocessed ${made} --align-faces but the config says alignFaces ${config.alignFaces ?? false}`,
    );
  }
  const split = options.split ?? datasetSplit(dataset.y, config, dataset.sources);
  const used = split.train.length + split.val.length + split.test.length;
  const backend = await initBackend();
  // Temporary files of a run killed mid-save (SIGKILL, power loss) are removed here, before the next run starts.
  removeStaleTempFiles(options.runsDir ?? DEFAULT_RUNS_DIR, 2);
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
  log(
    `data: ${used} images (train ${split.train.length}, validation ${split.val.length}, test ${split.test.length}), ${config.imageSize}px, resize ${dataset.info.resize}${dataset.info.alignFaces ? `, faces aligned in ${(dataset.info.aligned?.real ?? 0) + (dataset.info.aligned?.fake ?? 0)}` : ''}`,
  );
  const checkpoint = new ModelCheckpoint(run.dir, config.monitor);
  const callbacks: Callback[] = [new CSVLogger(run.dir), checkpoint];
  if (config.earlyStoppingPatience !== null)
    callbacks.push(new EarlyStopping(config.earlyStoppingPatience, config.monitor));
  if (options.log !== null) callbacks.push(new EpochLogger(log));
  callbacks.push(...(options.callbacks ?? []));
  const { model, stepper, validation } = await prepareTraining({
    config,
    dataDir: options.dataDir,
    dataset,
    split,
    run,
    backend,
    log,
    makeStepper: options.makeStepper,
  });
  try {
    const { context } = await fit({
      model,
      data: dataset,
      trainIndices: split.train,
      valIndices: split.val,
      config,
      callbacks,
      stepper,
      validation,
      sources: dataset.sources,
    });
    updateRunMeta(run, {
      finishedAt: new Date().toISOString(),
      stopReason: context.stopReason,
      bestEpoch: checkpoint.bestEpoch,
    });
    log(
      `best ${config.monitor} ${checkpoint.best.toFixed(4)} at epoch ${checkpoint.bestEpoch}; model saved in ${path.join(run.dir, 'model')}`,
    );
    if (interruptRequested()) {
      const where = checkpoint.bestEpoch
        ? `best checkpoint: ${path.join(run.dir, 'model')} (epoch ${checkpoint.bestEpoch}, ${config.monitor} ${checkpoint.best.toFixed(4)})`
        : 'no epoch finished, no checkpoint';
      throw new InterruptedError(`training interrupted (Ctrl-C); ${where}`);
    }
    return {
      run,
      backend,
      context,
      bestEpoch: checkpoint.bestEpoch,
      bestValAccuracy: checkpoint.bestLogs?.val_accuracy ?? NaN,
    };
  } finally {
    model.dispose();
  }
}
