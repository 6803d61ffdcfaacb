/**
 * The small-CNN probe: three 3x3 convolutions (8, 16, 32 filters) and a sigmoid, trained for a fixed short
 * budget from a seeded start. If a network this small, trained this briefly, already separates the classes,
 * the cue is low-level (resampling, compression, noise), not a face. The study's own CNN is trained separately.
 */
import * as tf from '@tensorflow/tfjs';
import { makeRng, shuffleInPlace } from '../random';
import { ImageData, scaledRows } from '../data/pixels';

export interface CnnProbeOptions {
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  seed?: number;
}

export const CNN_PROBE_DEFAULTS = { epochs: 10, batchSize: 16, learningRate: 3e-3, seed: 0 } as const;

export function buildProbeCnn(size: number, seed: number): tf.Sequential {
  let layerSeed = seed * 100;
  const init = () => tf.initializers.glorotUniform({ seed: ++layerSeed });
  const model = tf.sequential({ name: 'probe_cnn' });
  [8, 16, 32].forEach((filters, i) => {
    model.add(
      tf.layers.conv2d({
        ...(i === 0 ? { inputShape: [size, size, 3] } : {}),
        filters,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
        kernelInitializer: init(),
      }),
    );
    if (i < 2) model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  });
  model.add(tf.layers.globalAveragePooling2d({}));
  model.add(tf.layers.dense({ units: 1, activation: 'sigmoid', kernelInitializer: init() }));
  return model;
}

function batch(data: ImageData, rows: number[]): { xs: tf.Tensor4D; ys: tf.Tensor2D } {
  return {
    xs: tf.tensor4d(scaledRows(data, rows), [rows.length, data.size, data.size, 3]),
    ys: tf.tensor2d(
      rows.map((r) => data.y[r]),
      [rows.length, 1],
    ),
  };
}

/** Trains the probe on `trainRows` and returns P(fake) for `evalRows`. Call after a tfjs backend is ready. */
export async function cnnProbeScores(
  data: ImageData,
  trainRows: number[],
  evalRows: number[],
  options: CnnProbeOptions = {},
): Promise<Float32Array> {
  const o = { ...CNN_PROBE_DEFAULTS, ...options };
  const model = buildProbeCnn(data.size, o.seed);
  model.compile({ optimizer: tf.train.adam(o.learningRate), loss: 'binaryCrossentropy' });
  try {
    for (let epoch = 1; epoch <= o.epochs; epoch++) {
      const order = shuffleInPlace(trainRows.slice(), makeRng(o.seed * 7919 + epoch));
      for (let start = 0; start < order.length; start += o.batchSize) {
        const { xs, ys } = batch(data, order.slice(start, start + o.batchSize));
        await model.trainOnBatch(xs, ys);
        tf.dispose([xs, ys]);
      }
    }
    const scores = new Float32Array(evalRows.length);
    for (let start = 0; start < evalRows.length; start += 64) {
      const { xs, ys } = batch(data, evalRows.slice(start, start + 64));
      const out = model.predict(xs) as tf.Tensor;
      scores.set((await out.data()) as Float32Array, start);
      tf.dispose([xs, ys, out]);
    }
    return scores;
  } finally {
    model.dispose();
  }
}
