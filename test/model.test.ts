import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib/backend/backend';
import { buildModel, modelSummaryText, STUDY_PARAMETER_COUNT, fakeScores } from '../lib/model/model';
import { dilatedConv2dSame } from '../lib/model/layers';

test('the study model has 653,314 parameters at 128px and the study layer list', async () => {
  await initBackend('cpu');
  const model = buildModel({ imageSize: 128, dropout: 0.5, seed: 1 });
  assert.equal(model.countParams(), STUDY_PARAMETER_COUNT);
  const types = model.layers.map((l) => l.getClassName());
  assert.deepEqual(types, [
    'Conv2D',
    'MaxPooling2D',
    'Conv2D',
    'MaxPooling2D',
    'Conv2D',
    'MaxPooling2D',
    'DilatedConv2D',
    'MaxPooling2D',
    'DilatedConv2D',
    'MaxPooling2D',
    'DilatedConv2D',
    'MaxPooling2D',
    'GlobalAveragePooling2D',
    'Dense',
    'SeededDropout',
    'Activation',
    'Dense',
    'SeededDropout',
    'Activation',
    'Dense',
    'SeededDropout',
    'Activation',
    'Dense',
  ]);
  assert.deepEqual(model.outputs[0].shape, [null, 2]);
  assert.match(modelSummaryText(model), /Total params: 653,314/);
  model.dispose();
});

test('pFake = p1 / (p0 + p1) agrees with the argmax verdict', async () => {
  await initBackend('cpu');
  const scores = fakeScores(
    tf.tensor2d([
      [0.9, 0.1],
      [0.2, 0.6],
      [0.5, 0.5],
    ]),
  ).arraySync();
  assert.ok(Math.abs(scores[0] - 0.1) < 1e-6);
  assert.ok(Math.abs(scores[1] - 0.75) < 1e-6);
  assert.ok(Math.abs(scores[2] - 0.5) < 1e-6);
});

for (const backend of ['cpu', 'wasm'] as const) {
  test(`dilated conv equals tf.conv2d with dilations (${backend})`, async () => {
    await initBackend(backend);
    for (const [h, w, k, d] of [
      [8, 8, 3, 2],
      [7, 9, 3, 2],
      [10, 6, 3, 3],
      [9, 9, 5, 2],
    ]) {
      const x = tf.randomNormal([2, h, w, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
      const kernel = tf.randomNormal([k, k, 3, 4], 0, 1, 'float32', 8) as tf.Tensor4D;
      const expected = tf.conv2d(x, kernel, 1, 'same', 'NHWC', d);
      const actual = dilatedConv2dSame(x, kernel, d);
      assert.deepEqual(actual.shape, expected.shape);
      const diff = tf.max(tf.abs(actual.sub(expected))).dataSync()[0];
      assert.ok(diff < 1e-4, `max diff ${diff} for ${h}x${w} k${k} d${d}`);
    }
  });

  test(`dilated conv gradients match numerical gradients (${backend})`, async () => {
    await initBackend(backend);
    const x = tf.randomNormal([1, 6, 5, 2], 0, 1, 'float32', 3) as tf.Tensor4D;
    const kernel = tf.randomNormal([3, 3, 2, 2], 0, 1, 'float32', 4) as tf.Tensor4D;
    const weights = tf.randomNormal([1, 6, 5, 2], 0, 1, 'float32', 5);
    const loss = (xx: tf.Tensor4D, kk: tf.Tensor4D) => dilatedConv2dSame(xx, kk, 2).mul(weights).sum() as tf.Scalar;
    const [gx, gk] = tf.grads((xx: tf.Tensor, kk: tf.Tensor) => loss(xx as tf.Tensor4D, kk as tf.Tensor4D))([
      x,
      kernel,
    ]);
    // Central differences in float32: the loss is linear in each input, so the estimate is exact up to rounding.
    const eps = 1e-2;
    const check = (which: 'x' | 'k', analytic: tf.Tensor, base: tf.Tensor4D) => {
      const values = Float32Array.from(base.dataSync());
      const grad = analytic.dataSync();
      for (let i = 0; i < values.length; i += 3) {
        const plus = values.slice();
        plus[i] += eps;
        const minus = values.slice();
        minus[i] -= eps;
        const f = (v: Float32Array) => {
          const t = tf.tensor4d(v, base.shape);
          const out = which === 'x' ? loss(t, kernel) : loss(x, t);
          const value = out.dataSync()[0];
          tf.dispose([t, out]);
          return value;
        };
        const numeric = (f(plus) - f(minus)) / (2 * eps);
        assert.ok(
          Math.abs(numeric - grad[i]) < 1e-2 * Math.max(1, Math.abs(numeric)),
          `${which}[${i}]: numeric ${numeric} vs analytic ${grad[i]}`,
        );
      }
    };
    check('x', gx, x);
    check('k', gk, kernel);
  });
}

test("wasm conv gradients equal the cpu backend's", async () => {
  const shapes: Array<
    [[number, number, number, number], [number, number, number, number], number | 'same' | 'valid', number]
  > = [
    [[2, 9, 8, 3], [5, 5, 3, 4], 'same', 1],
    [[1, 7, 7, 2], [3, 3, 2, 3], 'valid', 1],
    [[2, 8, 8, 2], [3, 3, 2, 2], 'same', 2],
  ];
  for (const [xShape, kShape, pad, stride] of shapes) {
    const run = async (backend: 'cpu' | 'wasm') => {
      await initBackend(backend);
      const x = tf.randomNormal(xShape, 0, 1, 'float32', 11) as tf.Tensor4D;
      const k = tf.randomNormal(kShape, 0, 1, 'float32', 12) as tf.Tensor4D;
      const f = (xx: tf.Tensor, kk: tf.Tensor) =>
        tf
          .conv2d(xx as tf.Tensor4D, kk as tf.Tensor4D, stride, pad as 'same')
          .square()
          .sum();
      const grads = tf.grads(f)([x, k]);
      return grads.map((g) => Array.from(g.dataSync()));
    };
    const [cpuGx, cpuGk] = await run('cpu');
    const [wasmGx, wasmGk] = await run('wasm');
    const maxDiff = (a: number[], b: number[]) =>
      a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]) / Math.max(1, Math.abs(v))), 0);
    assert.ok(
      maxDiff(cpuGx, wasmGx) < 1e-4,
      `dx ${JSON.stringify(xShape)} pad ${pad} stride ${stride}: ${maxDiff(cpuGx, wasmGx)}`,
    );
    assert.ok(
      maxDiff(cpuGk, wasmGk) < 1e-4,
      `dW ${JSON.stringify(xShape)} pad ${pad} stride ${stride}: ${maxDiff(cpuGk, wasmGk)}`,
    );
  }
});
