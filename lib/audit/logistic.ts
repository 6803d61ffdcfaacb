/**
 * L2-regularised logistic regression on a small feature table, fitted with TensorFlow.js (one sigmoid unit,
 * binary cross-entropy, full-batch Adam): the linear probe behind the metadata and spectrum probes.
 * Features are standardised with the training rows' mean and standard deviation; weights start at zero and
 * the rows are never shuffled, so a fit is deterministic.
 */
import * as tf from '@tensorflow/tfjs';

export interface LogisticOptions {
  /** L2 penalty on the weights (Keras's l2: added to the mean loss as l2 * sum(w^2)). */
  l2?: number;
  epochs?: number;
  learningRate?: number;
}

export interface LogisticModel {
  /** P(label 1) for each row of a features table with the training table's columns. */
  predict(rows: ArrayLike<number>[]): Float32Array;
  /** Weights per (standardised) feature, for reading which columns carry the label. */
  weights: Float32Array;
  bias: number;
}

export const LOGISTIC_DEFAULTS = { l2: 1e-3, epochs: 300, learningRate: 0.05 } as const;

function standardiser(rows: ArrayLike<number>[]): (rows: ArrayLike<number>[]) => tf.Tensor2D {
  const d = rows[0]?.length ?? 0;
  const mean = new Float64Array(d);
  const sd = new Float64Array(d);
  for (const row of rows) for (let j = 0; j < d; j++) mean[j] += row[j] / rows.length;
  for (const row of rows) for (let j = 0; j < d; j++) sd[j] += (row[j] - mean[j]) ** 2 / rows.length;
  for (let j = 0; j < d; j++) sd[j] = Math.sqrt(sd[j]) || 1; // a constant column stays 0, carrying nothing
  return (table) => {
    const out = new Float32Array(table.length * d);
    table.forEach((row, i) => {
      if (row.length !== d) throw new Error(`logistic regression: a row has ${row.length} features, expected ${d}`);
      for (let j = 0; j < d; j++) out[i * d + j] = (row[j] - mean[j]) / sd[j];
    });
    return tf.tensor2d(out, [table.length, d]);
  };
}

/** Fits P(y = 1 | x) = sigmoid(w . standardise(x) + b). Call after a tfjs backend is ready. */
export async function fitLogistic(
  rows: ArrayLike<number>[],
  labels: ArrayLike<number>,
  options: LogisticOptions = {},
): Promise<LogisticModel> {
  const { l2, epochs, learningRate } = { ...LOGISTIC_DEFAULTS, ...options };
  if (rows.length === 0) throw new Error('logistic regression: no training rows');
  if (rows.length !== labels.length)
    throw new Error(`logistic regression: ${rows.length} rows but ${labels.length} labels`);
  const standardise = standardiser(rows);
  const d = rows[0].length;
  const model = tf.sequential();
  model.add(
    tf.layers.dense({
      inputShape: [d],
      units: 1,
      activation: 'sigmoid',
      kernelInitializer: 'zeros',
      kernelRegularizer: tf.regularizers.l2({ l2 }),
    }),
  );
  model.compile({ optimizer: tf.train.adam(learningRate), loss: 'binaryCrossentropy' });
  const xs = standardise(rows);
  const ys = tf.tensor2d(Array.from(labels), [labels.length, 1]);
  try {
    await model.fit(xs, ys, { epochs, batchSize: rows.length, shuffle: false, verbose: 0 });
    const [kernel, bias] = model.getWeights();
    const weights = (await kernel.data()) as Float32Array;
    const b = (await bias.data())[0];
    return {
      weights,
      bias: b,
      predict(table) {
        if (table.length === 0) return new Float32Array(0);
        return tf.tidy(() => {
          const logits = standardise(table)
            .matMul(tf.tensor2d(weights, [d, 1]))
            .add(b);
          return tf.sigmoid(logits).dataSync() as Float32Array;
        });
      },
    };
  } finally {
    tf.dispose([xs, ys]);
    model.dispose();
  }
}
