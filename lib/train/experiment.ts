/**
 * One training run, start to finish: load the preprocessed dataset, take the configured rows and split
 * them (lib/data/split.ts), build the study's model, train with checkpointing, record everything in a run folder.
 */
import * as path from 'path';
import type { Config } from '../config';
import { initBackend, describeBackend, BackendInfo } from '../backend/backend';
import { Callback, CSVLogger, EarlyStopping, EpochLogger, ModelCheckpoint, TrainingContext } from './callbacks';
import { loadDataset, Dataset } from '../data/dataset';
import * as tf from '@tensorflow/tfjs';
import { assembleFaceModel, buildFaceHead, buildFamilyModel } from '../model/families';
import {
  cacheFeatures,
  featureBatchMaker,
  featureFile,
  featureKey,
  featureTensor,
  frozenFeatureProblem,
} from './frozen-features';
import { datasetSplit } from '../data/split';
import type { SplitIndices } from '../random';
import { createRun, DEFAULT_RUNS_DIR, Run, updateRunMeta } from '../runs/runs';
import { removeStaleTempFiles } from '../files';
import { interruptRequested, InterruptedError } from '../interrupt';
import { fit, FitOptions, imageBatchMaker, LocalStepper, makeOptimizer, TrainStepper } from './train';

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
  makeStepper?: (args: {
    run: Run;
    dataset: Dataset;
    model: import('@tensorflow/tfjs').LayersModel;
    backend: BackendInfo;
  }) => Promise<TrainStepper | undefined>;
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
  let model: tf.LayersModel;
  let stepper: TrainStepper | undefined;
  let validation: FitOptions['validation'];
  if (config.model === 'facefeat') {
    const problem = frozenFeatureProblem(config);
    if (problem) throw new Error(`config: ${problem}`);
    const head = buildFaceHead(config);
    model = assembleFaceModel(config.imageSize, head, config.facePooling);
    const started = Date.now();
    const flipped = (config.augment?.flip ?? 0) > 0 ? split.train : [];
    const cache = await cacheFeatures(model, dataset, [...split.train, ...split.val], flipped, {
      key: featureKey(dataset.info.fingerprint, config),
      file: featureFile(options.dataDir, dataset.info.fingerprint, config),
    });
    log(
      `features: ${split.train.length + split.val.length + flipped.length} images through the frozen face backbone in ${((Date.now() - started) / 1000).toFixed(0)}s`,
    );
    stepper = new LocalStepper(head, dataset, makeOptimizer(config), {
      batches: featureBatchMaker(cache, dataset, config),
      weightDecay: config.weightDecay,
    });
    validation = { model: head, inputs: (rows) => featureTensor(cache, rows) };
    updateRunMeta(run, { workers: 1 });
  } else {
    model = buildFamilyModel(config);
    stepper = await options.makeStepper?.({ run, dataset, model, backend });
    stepper ??= new LocalStepper(model, dataset, makeOptimizer(config), {
      batches: imageBatchMaker(dataset, config),
      weightDecay: config.weightDecay,
    });
  }
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
