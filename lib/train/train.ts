/**
 * The training loop: the study's Adam + binary cross-entropy on one-hot labels, mini-batches drawn in a
 * seeded order, validation after every epoch, Keras-style callbacks.
 *
 * The dataset stays uint8 (6,000 images at 128px are 295 MB; the study's float64 copy was 2.4 GB): each
 * batch is scaled to [0, 1] float32 only when it is used.
 */
import * as tf from '@tensorflow/tfjs';
import type { Config } from '../config';
import { Callback, EpochLogs, History, TrainingContext } from './callbacks';
import { setDropoutStep } from '../model/layers';
import { fakeScores } from '../model/model';
import { makeRng, shuffleInPlace } from '../random';

/** Images (N x size x size x 3, uint8) and labels (0 real, 1 fake). */
export interface ImageData {
  x: Uint8Array;
  y: Uint8Array;
  size: number;
}

/** Copies uint8 pixels into `dst` at `offset`, scaled to [0, 1] as the study's preprocessing does. */
export function scaleToUnit(src: Uint8Array, dst: Float32Array, offset = 0): void {
  for (let p = 0; p < src.length; p++) dst[offset + p] = src[p] / 255;
}

/** The given rows' pixels as one float32 [0, 1] array (rows x pixels). */
export function scaledRows(data: ImageData, rows: ArrayLike<number>): Float32Array {
  const pixels = data.size * data.size * 3;
  const out = new Float32Array(rows.length * pixels);
  for (let i = 0; i < rows.length; i++) scaleToUnit(data.x.subarray(rows[i] * pixels, (rows[i] + 1) * pixels), out, i * pixels);
  return out;
}

/** Builds the float32 [0,1] inputs and one-hot labels for the given rows. */
export function makeBatch(data: ImageData, indices: ArrayLike<number>): { xs: tf.Tensor4D; ys: tf.Tensor2D } {
  const ys = new Float32Array(indices.length * 2);
  for (let b = 0; b < indices.length; b++) ys[b * 2 + data.y[indices[b]]] = 1;
  return {
    xs: tf.tensor4d(scaledRows(data, indices), [indices.length, data.size, data.size, 3]),
    ys: tf.tensor2d(ys, [indices.length, 2]),
  };
}

/** Keras's binary_crossentropy: predictions clipped to [1e-7, 1 - 1e-7], mean over outputs and rows. */
export function binaryCrossEntropy(labels: tf.Tensor, predictions: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const p = predictions.clipByValue(1e-7, 1 - 1e-7);
    return labels.mul(p.log()).add(tf.scalar(1).sub(labels).mul(tf.scalar(1).sub(p).log())).neg().mean() as tf.Scalar;
  });
}

/** Rows whose argmax verdict matches the label (the study's accuracy). */
export function countCorrect(labels: tf.Tensor2D, outputs: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => outputs.argMax(1).equal(labels.argMax(1)).sum() as tf.Scalar);
}

export function makeOptimizer(config: Pick<Config, 'learningRate' | 'beta1' | 'beta2' | 'epsilon'>): tf.AdamOptimizer {
  return tf.train.adam(config.learningRate, config.beta1, config.beta2, config.epsilon);
}

/** Result of one optimizer update: the batch's mean loss and how many rows it got right. */
export interface StepResult {
  loss: number;
  correct: number;
}

/** Computes and applies one update. The local one below; lib/parallel offers one over worker threads. */
export interface TrainStepper {
  step(indices: number[], stepNumber: number): Promise<StepResult>;
  dispose?(): Promise<void> | void;
}

export class LocalStepper implements TrainStepper {
  constructor(private readonly model: tf.LayersModel, private readonly data: ImageData, private readonly optimizer: tf.Optimizer) {}

  async step(indices: number[], stepNumber: number): Promise<StepResult> {
    const { xs, ys } = makeBatch(this.data, indices);
    let correct: tf.Scalar | undefined;
    const variables = this.model.trainableWeights.map((w) => w.read() as tf.Variable);
    const loss = this.optimizer.minimize(() => {
      setDropoutStep({ step: stepNumber, globalBatchSize: indices.length, rowOffset: 0 });
      const outputs = this.model.apply(xs, { training: true }) as tf.Tensor2D;
      correct = tf.keep(countCorrect(ys, outputs));
      return binaryCrossEntropy(ys, outputs);
    }, true, variables) as tf.Scalar;
    setDropoutStep(null);
    const result = { loss: (await loss.data())[0], correct: (await correct!.data())[0] };
    tf.dispose([xs, ys, loss, correct!]);
    return result;
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}

export interface Evaluation {
  loss: number;
  accuracy: number;
  /** pFake per row, in the order of the indices given. */
  scores: Float32Array;
  labels: Uint8Array;
}

/** Runs the model in inference mode (no dropout) over the given rows, in batches. */
export async function evaluateRows(model: tf.LayersModel, data: ImageData, indices: number[], batchSize: number): Promise<Evaluation> {
  const scores = new Float32Array(indices.length);
  const labels = new Uint8Array(indices.length);
  let lossSum = 0;
  let correct = 0;
  for (let start = 0; start < indices.length; start += batchSize) {
    const rows = indices.slice(start, start + batchSize);
    const { xs, ys } = makeBatch(data, rows);
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
  config: Pick<Config, 'epochs' | 'batchSize' | 'seed' | 'learningRate' | 'beta1' | 'beta2' | 'epsilon'>;
  callbacks?: Callback[];
  /** Defaults to a LocalStepper with the study's Adam. */
  stepper?: TrainStepper;
  /** Epoch to start from (1-based), for resumed runs. */
  initialEpoch?: number;
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
  const all: Callback[] = [history, ...callbacks];
  const stepsPerEpoch = Math.ceil(trainIndices.length / config.batchSize);
  const context: TrainingContext = { model, epochs: config.epochs, stepsPerEpoch, stopTraining: false };
  for (const cb of all) await cb.onTrainBegin?.(context);
  try {
    for (let epoch = options.initialEpoch ?? 1; epoch <= config.epochs && !context.stopTraining; epoch++) {
      const started = performance.now();
      const order = shuffleInPlace(trainIndices.slice(), makeRng(config.seed * 7919 + epoch));
      let lossSum = 0;
      let correct = 0;
      for (let s = 0; s < stepsPerEpoch; s++) {
        const rows = order.slice(s * config.batchSize, (s + 1) * config.batchSize);
        const result = await stepper.step(rows, (epoch - 1) * stepsPerEpoch + s);
        if (!Number.isFinite(result.loss)) throw new Error(`training diverged: loss is ${result.loss} at epoch ${epoch}, step ${s + 1}`);
        lossSum += result.loss * rows.length;
        correct += result.correct;
        for (const cb of all) await cb.onBatchEnd?.(s, { loss: result.loss, accuracy: result.correct / rows.length }, context);
        // Let the event loop turn: on wasm and cpu every await above resolves as a microtask, so without this a
        // one-thread run never delivers signals (Ctrl-C was ignored) or timers until training ends.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      const val = await evaluateRows(model, data, valIndices, Math.max(config.batchSize, 64));
      const logs: EpochLogs = {
        epoch,
        loss: lossSum / trainIndices.length,
        accuracy: correct / trainIndices.length,
        val_loss: val.loss,
        val_accuracy: val.accuracy,
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
