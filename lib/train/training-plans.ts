/**
 * Carries out a model family's training plan (lib/model/families/family.ts TrainingPlan): builds the family's
 * model and the stepper and validation that train it, for the training loop (fit) to run. The plans are named by
 * kind, never by family, so the loop and trainRun treat every family alike.
 */
import * as tf from '@tensorflow/tfjs';
import type { Config } from '../config';
import type { BackendInfo } from '../backend/backend';
import type { Dataset } from '../data/dataset';
import type { SplitIndices } from '../random';
import { familyOf, type TrainingPlan } from '../model/families';
import {
  cacheFeatures,
  featureBatchMaker,
  featureFile,
  featureKey,
  featureTensor,
  frozenBackbone,
  frozenFeatureProblem,
  headAfter,
} from './frozen-features';
import { updateRunMeta, type Run } from '../runs/runs';
import { FitOptions, imageBatchMaker, LocalStepper, makeOptimizer, TrainStepper } from './train';

/** Makes the stepper of an end-to-end plan (e.g. data-parallel workers); undefined: one thread. */
export type StepperFactory = (args: {
  run: Run;
  dataset: Dataset;
  model: tf.LayersModel;
  backend: BackendInfo;
}) => Promise<TrainStepper | undefined>;

export interface PlanContext {
  config: Config;
  dataDir: string;
  dataset: Dataset;
  split: SplitIndices;
  run: Run;
  backend: BackendInfo;
  log: (line: string) => void;
  makeStepper?: StepperFactory;
}

/** What fit() needs: the model whose checkpoints are saved, the stepper that trains it, and how to validate it. */
export interface PreparedTraining {
  model: tf.LayersModel;
  stepper: TrainStepper;
  validation?: FitOptions['validation'];
}

/** Every layer learns from (augmented) image batches; a custom stepper (data-parallel workers) when one is given. */
async function endToEnd(context: PlanContext): Promise<PreparedTraining> {
  const { config, dataset, run, backend } = context;
  const model = familyOf(config).build(config);
  const stepper =
    (await context.makeStepper?.({ run, dataset, model, backend })) ??
    new LocalStepper(model, dataset, makeOptimizer(config), {
      batches: imageBatchMaker(dataset, config),
      weightDecay: config.weightDecay,
    });
  return { model, stepper };
}

/** The backbone's features are computed once and cached; the head (the layers after it) learns from them. */
async function frozenBackboneTraining(
  context: PlanContext,
  plan: Extract<TrainingPlan, { kind: 'frozen-backbone' }>,
): Promise<PreparedTraining> {
  const { config, dataset, split, run } = context;
  const problem = frozenFeatureProblem(config);
  if (problem) throw new Error(`config: ${problem}`);
  const model = familyOf(config).build(config);
  const head = headAfter(model, frozenBackbone(model, plan.backbone));
  const started = Date.now();
  const flipped = (config.augment?.flip ?? 0) > 0 ? split.train : [];
  const cache = await cacheFeatures(model, dataset, [...split.train, ...split.val], flipped, {
    backbone: plan.backbone,
    key: featureKey(dataset.info.fingerprint, config),
    file: featureFile(context.dataDir, dataset.info.fingerprint, config),
  });
  context.log(
    `features: ${split.train.length + split.val.length + flipped.length} images through the frozen ${plan.backbone} layer in ${((Date.now() - started) / 1000).toFixed(0)}s`,
  );
  const stepper = new LocalStepper(head, dataset, makeOptimizer(config), {
    batches: featureBatchMaker(cache, dataset, config),
    weightDecay: config.weightDecay,
  });
  updateRunMeta(run, { workers: 1 });
  return { model, stepper, validation: { model: head, inputs: (rows) => featureTensor(cache, rows) } };
}

/** The model, stepper and validation of the config's family, as its plan says. */
export async function prepareTraining(context: PlanContext): Promise<PreparedTraining> {
  const plan = familyOf(context.config).training;
  switch (plan.kind) {
    case 'end-to-end':
      return endToEnd(context);
    case 'frozen-backbone':
      return frozenBackboneTraining(context, plan);
  }
}
