/**
 * The training loop: the study's Adam + binary cross-entropy on one-hot labels, mini-batches drawn in a
 * seeded order, validation after every epoch, Keras-style callbacks.
 *
 * The dataset stays uint8 (6,000 images at 128px are 295 MB; the study's float64 copy was 2.4 GB): each
 * batch is scaled to [0, 1] float32 only when it is used.
 */
import * as tf from '@tensorflow/tfjs';
import type { Config } from '../config';
import { Callback, History, TrainingContext } from './callbacks';
import type { EpochLogs } from '../runs/history';
import { setDropoutStep } from '../model/layers';
import { fakeScores } from '../model/model';
import { makeRng, shuffleInPlace } from '../random';
import { augmentRows } from '../data/augment';
import { scaledRows, scaleToUnit, type ImageData } from '../data/pixels';
import { getScorer } from '../metrics/scorers';
import { learningRateAt } from './schedule';
import { NativeAdamOptimizer } from '../backend/native-adam';
import { endNativeTraining, prepareNativeTraining } from '../backend/native-backend';

export function oneHotLabels(y: Uint8Array, indices: ArrayLike<number>, labelSmoothing = 0): tf.Tensor2D {
  const ys = new Float32Array(indices.length * 2).fill(labelSmoothing / 2);
  for (let b = 0; b < indices.length; b++) ys[b * 2 + y[indices[b]]] = 1 - labelSmoothing / 2;
  return tf.tensor2d(ys, [indices.length, 2]);
}

/** Builds the float32 [0,1] inputs and one-hot labels for the given rows (pixels: already-augmented rows). */
export function makeBatch(
  data: ImageData,
  indices: ArrayLike<number>,
  options: { labelSmoothing?: number; pixels?: Uint8Array } = {},
): { xs: tf.Tensor4D; ys: tf.Tensor2D } {
  let xs: Float32Array;
  if (options.pixels) {
    xs = new Float32Array(options.pixels.length);
    scaleToUnit(options.pixels, xs);
  } else xs = scaledRows(data, indices);
  return {
    xs: tf.tensor4d(xs, [indices.length, data.size, data.size, 3]),
    ys: oneHotLabels(data.y, indices, options.labelSmoothing),
  };
}

/** Makes a training batch (inputs, targets) for the given rows at a given step. */
export type BatchMaker = (rows: number[], step: number) => Promise<{ xs: tf.Tensor; ys: tf.Tensor2D }>;

/** The image batch maker: augmentation (seeded by step and row) and label smoothing per config. */
export function imageBatchMaker(
  data: ImageData,
  config: Pick<Config, 'augment' | 'labelSmoothing' | 'seed'>,
): BatchMaker {
  return async (rows, step) => {
    const pixels = config.augment
      ? await augmentRows(data.x, data.size, rows, config.augment, config.seed, step)
      : undefined;
    return makeBatch(data, rows, { labelSmoothing: config.labelSmoothing, pixels });
  };
}

/**
 * Decoupled weight decay (AdamW): w <- w - lr * wd * w on kernels (weights of rank >= 2), not on biases or
 * BatchNorm parameters, as is usual.
 */
export function applyWeightDecay(variables: tf.Variable[], learningRate: number, weightDecay: number): void {
  if (weightDecay === 0) return;
  tf.tidy(() => {
    for (const v of variables) if (v.rank >= 2) v.assign(v.mul(1 - learningRate * weightDecay));
  });
}

/** Keras's binary_crossentropy: predictions clipped to [1e-7, 1 - 1e-7], mean over outputs and rows. */
export function binaryCrossEntropy(labels: tf.Tensor, predictions: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const p = predictions.clipByValue(1e-7, 1 - 1e-7);
    return labels
      .mul(p.log())
      .add(tf.scalar(1).sub(labels).mul(tf.scalar(1).sub(p).log()))
      .neg()
      .mean() as tf.Scalar;
  });
}

/** Rows whose argmax verdict matches the label (the study's accuracy). */
export function countCorrect(labels: tf.Tensor2D, outputs: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => outputs.argMax(1).equal(labels.argMax(1)).sum() as tf.Scalar);
}

/** The study's Adam (tfjs's, with its update in one native call per variable on the native backend). */
export function makeOptimizer(config: Pick<Config, 'learningRate' | 'beta1' | 'beta2' | 'epsilon'>): tf.AdamOptimizer {
  return new NativeAdamOptimizer(config.learningRate, config.beta1, config.beta2, config.epsilon);
}

/** Result of one optimizer update: the batch's mean loss and how many rows it got right. */
export interface StepResult {
  loss: number;
  correct: number;
}

/** Computes and applies one update. The local one below; lib/parallel offers one over worker threads. */
export interface TrainStepper {
  step(indices: number[], stepNumber: number): Promise<StepResult>;
  /** Sets the optimizer's learning rate (for schedules); steppers without it train at a constant rate. */
  setLearningRate?(lr: number): void;
  dispose?(): Promise<void> | void;
}

export class LocalStepper implements TrainStepper {
  private readonly batches: BatchMaker;
  private learningRate: number;

  constructor(
    private readonly model: tf.LayersModel,
    data: ImageData,
    private readonly optimizer: tf.Optimizer,
    options: { batches?: BatchMaker; weightDecay?: number } = {},
  ) {
    this.batches = options.batches ?? (async (rows) => makeBatch(data, rows));
    this.weightDecay = options.weightDecay ?? 0;
    this.learningRate = (optimizer as unknown as { learningRate: number }).learningRate;
    // Every training path (fit, experiments, estimates, benches) steps through here, and only training does.
    prepareNativeTraining();
  }

  private readonly weightDecay: number;

  setLearningRate(lr: number): void {
    this.learningRate = lr;
    (this.optimizer as unknown as { learningRate: number }).learningRate = lr;
  }

  async step(indices: number[], stepNumber: number): Promise<StepResult> {
    const { xs, ys } = await this.batches(indices, stepNumber);
    let correct: tf.Scalar | undefined;
    const variables = this.model.trainableWeights.map((w) => w.read() as tf.Variable);
    const loss = this.optimizer.minimize(
      () => {
        setDropoutStep({ step: stepNumber, globalBatchSize: indices.length, rowOffset: 0 });
        const outputs = this.model.apply(xs, { training: true }) as tf.Tensor2D;
        correct = tf.keep(countCorrect(ys, outputs));
        return binaryCrossEntropy(ys, outputs);
      },
      true,
      variables,
    ) as tf.Scalar;
    setDropoutStep(null);
    applyWeightDecay(variables, this.learningRate, this.weightDecay);
    const result = { loss: (await loss.data())[0], correct: (await correct!.data())[0] };
    tf.dispose([xs, ys, loss, correct!]);
    return result;
  }

  dispose(): void {
    this.optimizer.dispose();
    endNativeTraining();
  }
}

export interface Evaluation {
  loss: number;
  accuracy: number;
  /** pFake per row, in the order of the indices given. */
  scores: Float32Array;
  labels: Uint8Array;
}

/** Runs the model in inference mode (no dropout) over the given rows, in batches (inputs from `inputs`, default the images). */
export async function evaluateRows(
  model: tf.LayersModel,
  data: ImageData,
  indices: number[],
  batchSize: number,
  inputs: (rows: number[]) => tf.Tensor = (rows) => makeBatch(data, rows).xs,
): Promise<Evaluation> {
  const scores = new Float32Array(indices.length);
  const labels = new Uint8Array(indices.length);
  let lossSum = 0;
  let correct = 0;
  for (let start = 0; start < indices.length; start += batchSize) {
    const rows = indices.slice(start, start + batchSize);
    const xs = inputs(rows);
    const ys = oneHotLabels(data.y, rows);
    const [batchLoss, batchCorrect, batchScores] = tf.tidy(() => {
      const outputs = model.predict(xs) as tf.Tensor2D;
      return [binaryCrossEntropy(ys, outputs), countCorrect(ys, outputs), fakeScores(outputs)];
    });
    lossSum += (await batchLoss.data())[0] * rows.length;
    correct += (await batchCorrect.data())[0];
    scores.set(await batchScores.data(), start);
    rows.forEach((row, i) => (labels[start + i] = data.y[row]));
    tf.dispose([xs, ys, batchLoss, batchCorrect, batchScores]);
  }
  const n = Math.max(indices.length, 1);
  return { loss: lossSum / n, accuracy: correct / n, scores, labels };
}

export interface FitOptions {
  model: tf.LayersModel;
  data: ImageData;
  trainIndices: number[];
  valIndices: number[];
  config: Pick<Config, 'epochs' | 'batchSize' | 'seed' | 'learningRate' | 'beta1' | 'beta2' | 'epsilon'> &
    Partial<Pick<Config, 'lrSchedule' | 'warmupEpochs' | 'balancedSampling'>>;
  callbacks?: Callback[];
  /** Defaults to a LocalStepper with the study's Adam. */
  stepper?: TrainStepper;
  /** Validates with this model and these inputs instead (e.g. a head on cached features); default: model, images. */
  validation?: { model: tf.LayersModel; inputs: (rows: number[]) => tf.Tensor };
  /** Epoch to start from (1-based), for resumed runs. */
  initialEpoch?: number;
  /** Each dataset row's source (lib/data/dataset.ts), for balancedSampling 'source'. */
  sources?: string[];
}

export interface FitResult {
  history: History;
  context: TrainingContext;
}

/** Keras's model.fit, for realfake's data: shuffles per epoch with (seed, epoch), validates after each. */
export async function fit(options: FitOptions): Promise<FitResult> {
  const { model, data, trainIndices, valIndices, config, callbacks = [] } = options;
  if (trainIndices.length === 0) throw new Error('no training images (the split left the training set empty)');
  if (valIndices.length === 0) throw new Error('no validation images (increase the data or valFraction)');
  const stepper: TrainStepper = options.stepper ?? new LocalStepper(model, data, makeOptimizer(config));
  const history = new History();
  const valAuc = getScorer('roc_auc'); // the history's val_auc, by name (lib/metrics/scorers.ts)
  const all: Callback[] = [history, ...callbacks];
  const stepsPerEpoch = Math.ceil(trainIndices.length / config.batchSize);
  const context: TrainingContext = { model, epochs: config.epochs, stepsPerEpoch, stopTraining: false };
  for (const cb of all) await cb.onTrainBegin?.(context);
  try {
    for (let epoch = options.initialEpoch ?? 1; epoch <= config.epochs && !context.stopTraining; epoch++) {
      const started = performance.now();
      const rng = makeRng(config.seed * 7919 + epoch);
      const order = config.balancedSampling
        ? balancedOrder(trainIndices, data.y, rng, config.balancedSampling === 'source' ? options.sources : undefined)
        : shuffleInPlace(trainIndices.slice(), rng);
      let lossSum = 0;
      let correct = 0;
      for (let s = 0; s < stepsPerEpoch; s++) {
        const rows = order.slice(s * config.batchSize, (s + 1) * config.batchSize);
        const stepNumber = (epoch - 1) * stepsPerEpoch + s;
        if ((config.lrSchedule ?? 'constant') !== 'constant' || (config.warmupEpochs ?? 0) > 0) {
          const schedule = {
            learningRate: config.learningRate,
            lrSchedule: config.lrSchedule ?? 'constant',
            warmupEpochs: config.warmupEpochs ?? 0,
          };
          stepper.setLearningRate?.(learningRateAt(stepNumber, config.epochs * stepsPerEpoch, stepsPerEpoch, schedule));
        }
        const result = await stepper.step(rows, stepNumber);
        if (!Number.isFinite(result.loss))
          throw new Error(`training diverged: loss is ${result.loss} at epoch ${epoch}, step ${s + 1}`);
        lossSum += result.loss * rows.length;
        correct += result.correct;
        for (const cb of all)
          await cb.onBatchEnd?.(s, { loss: result.loss, accuracy: result.correct / rows.length }, context);
        // Let the event loop turn: on wasm and cpu every await above resolves as a microtask, so without this a
        // one-thread run never delivers signals (Ctrl-C was ignored) or timers until training ends.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      // Validation batches are training's (as Keras's fit does): the same tensor sizes, so on the native
      // backend validation reuses the arrays training recycles instead of adding its own.
      const val = options.validation
        ? await evaluateRows(options.validation.model, data, valIndices, config.batchSize, options.validation.inputs)
        : await evaluateRows(model, data, valIndices, config.batchSize);
      const logs: EpochLogs = {
        epoch,
        loss: lossSum / trainIndices.length,
        accuracy: correct / trainIndices.length,
        val_loss: val.loss,
        val_accuracy: val.accuracy,
        val_auc: valAuc(val.labels, val.scores),
        seconds: (performance.now() - started) / 1000,
      };
      for (const cb of all) await cb.onEpochEnd?.(logs, context);
    }
  } finally {
    await stepper.dispose?.();
  }
  for (const cb of all) await cb.onTrainEnd?.(context);
  return { history, context };
}

/**
 * One epoch's order with every pair of rows one real, one fake (the smaller class cycled, so it repeats).
 * With `sources` (each dataset row's source), each class's turn also cycles through its sources, so a source with
 * 200 images is drawn as often as one with 1,000 (its images repeat): no generator or camera dominates a class.
 */
export function balancedOrder(
  trainIndices: number[],
  y: Uint8Array,
  rng: () => number,
  sources?: ArrayLike<string>,
): number[] {
  const byClass = [0, 1].map((c) =>
    shuffleInPlace(
      trainIndices.filter((i) => y[i] === c),
      rng,
    ),
  );
  if (byClass.some((rows) => rows.length === 0)) return shuffleInPlace(trainIndices.slice(), rng);
  // Per class, its rows grouped by source (sources in sorted order; rows keep their shuffled order).
  const groups = byClass.map((rows) => {
    if (!sources) return [rows];
    const bySource = new Map<string, number[]>();
    for (const r of rows) (bySource.get(sources[r]) ?? bySource.set(sources[r], []).get(sources[r])!).push(r);
    return [...bySource.keys()].sort().map((k) => bySource.get(k)!);
  });
  const order: number[] = [];
  for (let k = 0; order.length < trainIndices.length; k++) {
    const turn = Math.floor(k / 2);
    const classGroups = groups[k % 2];
    const rows = classGroups[turn % classGroups.length];
    order.push(rows[Math.floor(turn / classGroups.length) % rows.length]);
  }
  return order;
}
