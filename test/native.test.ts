/**
 * The native (oneDNN) backend against tfjs's own kernels: every native kernel on random shapes (strides,
 * padding, dilation, broadcasts, transposes), forward and gradients, within float32 tolerance; and a short
 * training run on the embedded data whose loss curve matches the wasm backend's. Skips (with the reason)
 * when the addon was not built, except under REALFAKE_REQUIRE_ALL=1 (CI), where that is a failure (helpers/tools).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { initBackend } from '../lib/backend/backend';
import { loadNativeAddon } from '../lib/backend/native-addon';
import { NativeAdamOptimizer } from '../lib/backend/native-adam';
import {
  endNativeTraining,
  kernelProfile,
  prepareNativeTraining,
  setKernelProfiling,
} from '../lib/backend/native-backend';
import { nativeKernelStats, NATIVE_KERNELS } from '../lib/backend/native-kernels';
import { synthImage } from '../lib/data/synth';
import { Conv2D } from '../lib/model/fused-conv';
import { dilatedConv2dSame } from '../lib/model/layers';
import { loadOnnxRuntime, OnnxEngine } from '../lib/infer/onnx-engine';
import { modelToOnnx } from '../lib/infer/onnx-export';
import { buildModel } from '../lib/model/model';
import { loadModel, saveModel } from '../lib/model/model-io';
import { makeRng } from '../lib/random';
import { LocalStepper, makeOptimizer } from '../lib/train/train';
import { toolSkip } from './helpers/tools';

const loaded = loadNativeAddon();
const skip = toolSkip('missing' in loaded ? `native backend not built: ${loaded.missing}` : false);

const rng = makeRng(2024);
const int = (lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));
const pick = <T>(items: readonly T[]): T => items[int(0, items.length - 1)];
const values = (shape: number[]) =>
  Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng() * 2 - 1);

type Inputs = Array<{ shape: number[]; data: Float32Array }>;
const input = (...shape: number[]) => ({ shape, data: values(shape) });

/** Runs `fn` on the same inputs on the cpu and native backends; returns both outputs, flattened. */
async function onBoth(
  inputs: Inputs,
  fn: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[],
): Promise<[Float32Array[], Float32Array[]]> {
  const run = async (backend: string) => {
    await tf.setBackend(backend);
    const outs = tf.tidy(() => {
      const out = fn(...inputs.map((i) => tf.tensor(i.data, i.shape)));
      return Array.isArray(out) ? out : [out];
    });
    const data = outs.map((o) => Float32Array.from(o.dataSync()));
    tf.dispose(outs);
    return data;
  };
  const cpu = await run('cpu');
  const native = await run('native');
  return [cpu, native];
}

/** float32 agreement: |a - b| <= atol + rtol * |a|, element by element. */
function assertClose(expected: Float32Array[], actual: Float32Array[], what: string, atol = 1e-4, rtol = 1e-4): void {
  assert.equal(actual.length, expected.length, what);
  expected.forEach((e, k) => {
    assert.equal(actual[k].length, e.length, `${what}: output ${k} size`);
    for (let i = 0; i < e.length; i++) {
      const ok =
        Math.abs(e[i] - actual[k][i]) <= atol + rtol * Math.abs(e[i]) ||
        (Number.isNaN(e[i]) && Number.isNaN(actual[k][i]));
      if (!ok) assert.fail(`${what}: output ${k}[${i}] is ${actual[k][i]}, cpu says ${e[i]}`);
    }
  });
}

/** Sum of (f(x) * r): its gradient pushes a random dy through f's backward kernels. */
const weightedSum = (y: tf.Tensor, seed: number) => y.mul(tf.randomUniform(y.shape, -1, 1, 'float32', seed)).sum();

test('native backend: setup', { skip }, async () => {
  await initBackend('native');
  assert.equal(tf.getBackend(), 'native');
});

test('native Conv2D and both its gradients match the cpu kernels (strides, padding, dilation)', { skip }, async () => {
  for (let trial = 0; trial < 24; trial++) {
    const k = int(1, 5);
    const dilation = trial % 4 === 3 ? 2 : 1;
    const stride = dilation === 1 ? int(1, 3) : 1;
    const pad = pick(['same', 'valid'] as const);
    const side = int(k * dilation, 12);
    const x = input(int(1, 3), side, int(k * dilation, 12), int(1, 5));
    const w = input(k, k, x.shape[3], int(1, 6));
    const what = `conv x[${x.shape}] w[${w.shape}] stride ${stride} dilation ${dilation} ${pad}`;
    const [cpu, native] = await onBoth([x, w], (xt, wt) =>
      tf.conv2d(xt as tf.Tensor4D, wt as tf.Tensor4D, stride, pad, 'NHWC', dilation),
    );
    assertClose(cpu, native, what);
    if (dilation === 1) {
      const [gc, gn] = await onBoth([x, w], (xt, wt) =>
        tf.grads((a, b) => weightedSum(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad), trial))([xt, wt]),
      );
      assertClose(gc, gn, `${what}: gradients`);
    }
  }
  for (const name of ['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter'])
    assert.ok(nativeKernelStats[name].native > 0, `${name} ran natively`);
});

test('native dilated convolution through the space-to-batch layer: outputs and gradients', { skip }, async () => {
  for (let trial = 0; trial < 8; trial++) {
    const d = int(2, 3);
    const x = input(int(1, 3), int(4, 13), int(4, 13), int(1, 4));
    const w = input(3, 3, x.shape[3], int(1, 5));
    const [gc, gn] = await onBoth([x, w], (xt, wt) => {
      const f = (a: tf.Tensor, b: tf.Tensor) =>
        weightedSum(dilatedConv2dSame(a as tf.Tensor4D, b as tf.Tensor4D, d), trial);
      return [dilatedConv2dSame(xt as tf.Tensor4D, wt as tf.Tensor4D, d), ...tf.grads(f)([xt, wt])];
    });
    assertClose(gc, gn, `dilated conv x[${x.shape}] d ${d}`);
  }
  for (const name of ['SpaceToBatchND', 'BatchToSpaceND'])
    assert.ok(nativeKernelStats[name].native > 0, `${name} ran natively`);
});

test('native fused Conv2D (bias + relu) matches the cpu kernel', { skip }, async () => {
  for (let trial = 0; trial < 6; trial++) {
    const x = input(int(1, 2), int(3, 9), int(3, 9), int(1, 4));
    const w = input(3, 3, x.shape[3], int(1, 5));
    const b = input(w.shape[3]);
    const activation = pick(['relu', 'linear'] as const);
    const strides = int(1, 2);
    const [cpu, native] = await onBoth([x, w, b], (xt, wt, bt) =>
      tf.fused.conv2d({ x: xt as tf.Tensor4D, filter: wt as tf.Tensor4D, strides, pad: 'same', bias: bt, activation }),
    );
    assertClose(cpu, native, `fused conv ${activation}`);
  }
  assert.ok(nativeKernelStats.FusedConv2D.native > 0);
});

test(
  "the fused-training Conv2D layer gives tfjs Conv2D's outputs and gradients, on cpu and native",
  { skip },
  async () => {
    for (let trial = 0; trial < 6; trial++) {
      const activation = pick(['relu', 'linear'] as const);
      const args = {
        filters: int(1, 6),
        kernelSize: int(1, 5),
        strides: int(1, 2),
        padding: pick(['same', 'valid'] as const),
      };
      const x = input(int(1, 3), int(5, 11), int(5, 11), int(1, 4));
      const [w, b] = [input(args.kernelSize, args.kernelSize, x.shape[3], args.filters), input(args.filters)];
      const what = `Conv2D ${JSON.stringify(args)} ${activation} x[${x.shape}]`;
      for (const backend of ['cpu', 'native']) {
        await tf.setBackend(backend);
        const run = (layer: tf.layers.Layer) =>
          tf.tidy(() => {
            const [xt, wt, bt] = [tf.tensor(x.data, x.shape), tf.tensor(w.data, w.shape), tf.tensor(b.data, b.shape)];
            layer.build(x.shape);
            layer.setWeights([wt, bt]);
            const f = (xi: tf.Tensor) => weightedSum(layer.apply(xi, { training: true }) as tf.Tensor, trial);
            const { value, grads } = tf.variableGrads(
              () => f(xt) as tf.Scalar,
              layer.trainableWeights.map((v) => v.read() as tf.Variable),
            );
            return [value, tf.grad(f)(xt), ...Object.values(grads)].map((t) => Float32Array.from(t.dataSync()));
          });
        const plain = run(tf.layers.conv2d({ ...args, activation }));
        const fused = run(new Conv2D({ ...args, activation }));
        assertClose(plain, fused, `${what} on ${backend}`);
      }
    }
  },
);

test('native max and average pooling and their gradients match the cpu kernels', { skip }, async () => {
  for (let trial = 0; trial < 16; trial++) {
    const filter = int(1, 3);
    const stride = int(1, 3);
    const pad = pick(['same', 'valid'] as const);
    const x = input(int(1, 3), int(filter, 10), int(filter, 10), int(1, 5));
    for (const kind of ['max', 'avg'] as const) {
      const pool = (a: tf.Tensor) => (kind === 'max' ? tf.maxPool : tf.avgPool)(a as tf.Tensor4D, filter, stride, pad);
      const [cpu, native] = await onBoth([x], (xt) => [
        pool(xt),
        tf.grad((a: tf.Tensor) => weightedSum(pool(a), trial))(xt),
      ]);
      assertClose(cpu, native, `${kind} pool x[${x.shape}] filter ${filter} stride ${stride} ${pad}`);
    }
  }
  for (const name of ['MaxPool', 'MaxPoolGrad', 'AvgPool', 'AvgPoolGrad'])
    assert.ok(nativeKernelStats[name].native > 0, `${name} ran natively`);
});

test(
  'native matMul (transposes, batches) and fused dense (bias, relu) and their gradients match',
  { skip },
  async () => {
    for (let trial = 0; trial < 12; trial++) {
      const [m, k, n, batch] = [int(1, 9), int(1, 9), int(1, 9), int(1, 3)];
      const [ta, tb] = [rng() < 0.5, rng() < 0.5];
      const lead = trial % 2 ? [batch] : [];
      const a = input(...lead, ...(ta ? [k, m] : [m, k]));
      const b = input(...lead, ...(tb ? [n, k] : [k, n]));
      const [cpu, native] = await onBoth([a, b], (at, bt) => tf.matMul(at, bt, ta, tb));
      assertClose(cpu, native, `matMul ${a.shape} x ${b.shape} ${ta} ${tb}`);
      const bias = input(n);
      const [fc, fn] = await onBoth([input(m, k), input(k, n), bias], (at, bt, ct) => [
        tf.fused.matMul({ a: at as tf.Tensor2D, b: bt as tf.Tensor2D, bias: ct, activation: 'relu' }),
        ...tf.grads((p: tf.Tensor, q: tf.Tensor, r: tf.Tensor) =>
          weightedSum(
            tf.fused.matMul({ a: p as tf.Tensor2D, b: q as tf.Tensor2D, bias: r, activation: 'relu' }),
            trial,
          ),
        )([at, bt, ct]),
      ]);
      assertClose(fc, fn, `fused matMul [${m}x${k}] x [${k}x${n}]`);
    }
    for (const name of ['BatchMatMul', '_FusedMatMul'])
      assert.ok(nativeKernelStats[name].native > 0, `${name} ran natively`);
  },
);

test(
  'native elementwise ops and sums, with broadcasts, match the cpu kernels (and NaN stays NaN)',
  { skip },
  async () => {
    const shapes: Array<[number[], number[]]> = [
      [
        [2, 3, 4, 5],
        [2, 3, 4, 5],
      ],
      [[2, 3, 4, 5], [5]],
      [[5], [2, 3, 4, 5]],
      [
        [2, 3, 4, 5],
        [1, 4, 5],
      ],
      [[2, 3, 4, 5], []],
      [
        [3, 4],
        [3, 1],
      ],
    ];
    for (const [sa, sb] of shapes) {
      const [cpu, native] = await onBoth([input(...sa), input(...sb)], (a, b) => [
        a.add(b),
        a.mul(b),
        a.sub(b),
        a.div(b.abs().add(0.5)),
      ]);
      assertClose(cpu, native, `binary ops ${JSON.stringify(sa)} and ${JSON.stringify(sb)}`);
    }
    const x = input(3, 4, 5, 6);
    x.data[7] = NaN;
    x.data[8] = 0;
    const [cpu, native] = await onBoth([x], (a) => [
      a.relu(),
      a.step(),
      a.step(0.3),
      a.sum([0, 1, 2]),
      a.sum([0, 1], true),
      a.sum(),
      a.sum(2),
      a.sum([1, 3]),
    ]);
    assertClose(cpu, native, 'relu, step, sums');
    for (const name of ['Add', 'Multiply', 'Sub', 'RealDiv', 'Relu', 'Step', 'Sum'])
      assert.ok(nativeKernelStats[name].native > 0, `${name} ran natively`);
  },
);

test(
  'native Adam matches tfjs Adam on the cpu backend, and leaves tensors shared with its variables alone',
  { skip },
  async () => {
    // Random shapes, one above the addon's parallel threshold (2^15 elements); several steps so the moments matter.
    const shapes = [
      ...Array.from({ length: 5 }, () => Array.from({ length: int(1, 4) }, () => int(1, 12))),
      [5, 5, 64, 24],
    ];
    const initial = shapes.map(values);
    const steps = Array.from({ length: 4 }, () => shapes.map(values));
    const run = async (backend: 'cpu' | 'native', make: () => tf.Optimizer) => {
      await tf.setBackend(backend);
      const held = initial.map((data, k) => tf.tensor(data, shapes[k]));
      const variables = held.map((t, k) => tf.variable(t, true, `adam-test-${backend}-${k}`));
      const optimizer = make();
      for (const grads of steps) {
        const tensors = grads.map((g, k) => ({ name: variables[k].name, tensor: tf.tensor(g, shapes[k]) }));
        optimizer.applyGradients(tensors);
        tf.dispose(tensors.map((t) => t.tensor));
      }
      const state = await optimizer.getWeights();
      const out = [...variables, ...state.slice(1).map((w) => w.tensor)].map((t) => Float32Array.from(t.dataSync()));
      held.forEach((t, k) => assert.deepEqual(t.dataSync(), initial[k], `tensor ${k} the variable was made from`));
      tf.dispose([...held, ...variables]);
      optimizer.dispose();
      return out;
    };
    const cpu = await run('cpu', () => tf.train.adam(0.01, 0.9, 0.999, 1e-7));
    for (const key of Object.keys(kernelProfile)) delete kernelProfile[key];
    setKernelProfiling(true);
    const native = await run('native', () => new NativeAdamOptimizer(0.01, 0.9, 0.999, 1e-7));
    setKernelProfiling(false);
    assertClose(cpu, native, 'Adam: values, then first and second moments');
    assert.equal(kernelProfile.Sqrt, undefined, 'the update ran in the addon, not as tfjs ops');
  },
);

test('training recycles native outputs, but never an array a caller read or a view still uses', { skip }, async () => {
  await initBackend('native');
  const valuesOf = (t: tf.Tensor) => (tf.backend() as MathBackendCPU).data.get(t.dataId).values;
  prepareNativeTraining();
  try {
    const x = tf.randomUniform([1 << 19], -1, 1, 'float32', 5);
    const expected = Float32Array.from(x.dataSync(), (v) => Math.max(v, 0));
    const recycled = tf.relu(x);
    const array = valuesOf(recycled);
    recycled.dispose();
    const next = tf.relu(x.neg());
    assert.equal(valuesOf(next), array, 'a disposed output is reused by the next one of its size');
    next.dispose();
    // Were either array recycled, the next output of its size (relu(-x)) would overwrite it.
    const read = tf.relu(x);
    const held = read.dataSync();
    read.dispose();
    const afterRead = tf.relu(x.neg());
    const base = tf.relu(x);
    const view = base.slice([0], [1 << 18]);
    base.dispose();
    const afterView = tf.relu(x.neg());
    assert.deepEqual(held, expected, 'data read out of a disposed tensor is left alone');
    assert.deepEqual(view.dataSync(), expected.subarray(0, 1 << 18), 'a view of a disposed output is left alone');
    const others = [afterRead, afterView];
    tf.dispose([x, view, ...others]);
  } finally {
    endNativeTraining();
  }
});

test('every native kernel is covered above', { skip }, () => {
  for (const name of Object.keys(NATIVE_KERNELS))
    assert.ok(nativeKernelStats[name]?.native > 0, `${name} was never tested natively`);
});

test('training on native keeps large blocks in the heap; predicting does not', { skip }, () => {
  // A fresh process: the setting is process-wide and, once on, stays on. The batch maker reads it inside the step.
  const lib = (file: string) => JSON.stringify(path.join(__dirname, '..', 'lib', file));
  const script = `
    const tf = require('@tensorflow/tfjs');
    const { initBackend } = require(${lib('backend/backend.js')});
    const { loadNativeAddon } = require(${lib('backend/native-addon.js')});
    const { buildModel } = require(${lib('model/model.js')});
    const { LocalStepper, makeBatch, makeOptimizer } = require(${lib('train/train.js')});
    (async () => {
      await initBackend('native');
      const addon = loadNativeAddon().addon;
      const data = { x: new Uint8Array(4 * 16 * 16 * 3).fill(100), y: Uint8Array.from([0, 1, 0, 1]), size: 16 };
      const model = buildModel({ imageSize: 16, dropout: 0.5, seed: 1 });
      tf.dispose(model.predict(makeBatch(data, [0, 1]).xs));
      const seen = { predict: addon.largeBlocksInHeap() };
      const batches = async (rows) => ((seen.step = addon.largeBlocksInHeap()), makeBatch(data, rows));
      const stepper = new LocalStepper(model, data, makeOptimizer({ learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 }), { batches });
      await stepper.step([0, 1, 2, 3], 0);
      console.log(JSON.stringify(seen));
    })();`;
  const child = spawnSync(process.execPath, ['-e', script], {
    encoding: 'utf8',
    cwd: path.join(__dirname, '..', '..'),
  });
  assert.equal(child.status, 0, child.stderr);
  assert.deepEqual(JSON.parse(child.stdout.trim().split('\n').pop()!), { predict: false, step: true });
});

/** The embedded synthetic faces at `size` px, decoded to uint8 RGB. */
async function embeddedFaces(count: number, size: number) {
  const x = new Uint8Array(count * size * size * 3);
  const y = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    y[i] = i % 2;
    const png = await synthImage(7, y[i] as 0 | 1, i, size, 0.3);
    x.set(await sharp(png).removeAlpha().raw().toBuffer(), i * size * size * 3);
  }
  return { x, y, size };
}

test('training on the embedded data: the native loss curve matches wasm', { skip }, async () => {
  const data = await embeddedFaces(24, 64);
  const curve = async (backend: 'native' | 'wasm') => {
    await initBackend(backend);
    const model = buildModel({ imageSize: 64, dropout: 0.5, seed: 3 });
    const stepper = new LocalStepper(
      model,
      data,
      makeOptimizer({ learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 }),
    );
    const losses: number[] = [];
    const order = Array.from({ length: 24 }, (_, i) => (i * 7) % 24);
    for (let s = 0; s < 6; s++) losses.push((await stepper.step(order.slice((s % 3) * 8, (s % 3) * 8 + 8), s)).loss);
    stepper.dispose();
    model.dispose();
    return losses;
  };
  const wasm = await curve('wasm');
  const native = await curve('native');
  // The curve must move (lr 1e-3), and both backends must trace it to float32 summation-order noise.
  assert.ok(Math.max(...wasm.map((l) => Math.abs(l - wasm[0]))) > 1e-3, `the loss did not move: ${wasm}`);
  native.forEach((loss, s) =>
    assert.ok(Math.abs(loss - wasm[s]) < 2e-4, `step ${s}: native ${loss} vs wasm ${wasm[s]}`),
  );
});

test('a model trained on native saves, reloads and exports to ONNX with the same outputs', { skip }, async () => {
  await initBackend('native');
  const data = await embeddedFaces(8, 32);
  const model = buildModel({ imageSize: 32, dropout: 0.5, seed: 4 });
  const stepper = new LocalStepper(
    model,
    data,
    makeOptimizer({ learningRate: 1e-2, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 }),
  );
  for (let s = 0; s < 2; s++) await stepper.step([0, 1, 2, 3, 4, 5, 6, 7], s);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'realfake-native-'));
  try {
    await saveModel(model, path.join(dir, 'model'));
    const reloaded = await loadModel(path.join(dir, 'model'));
    const input = tf.tensor4d(
      Float32Array.from(data.x, (v) => v / 255),
      [8, 32, 32, 3],
    );
    const expected = (model.predict(input) as tf.Tensor).dataSync();
    const again = (reloaded.predict(input) as tf.Tensor).dataSync();
    expected.forEach((v, i) => assert.ok(Math.abs(v - again[i]) < 1e-6, `reloaded output ${i}: ${again[i]} vs ${v}`));
    if ('ort' in loadOnnxRuntime()) {
      const onnx = await OnnxEngine.create(modelToOnnx(model));
      const outputs = await onnx.outputs(input.dataSync() as Float32Array, 8, 32);
      expected.forEach((v, i) =>
        assert.ok(
          Math.abs(v - outputs.probabilities[i]) < 1e-4,
          `ONNX output ${i}: ${outputs.probabilities[i]} vs ${v}`,
        ),
      );
      await onnx.dispose();
    }
    tf.dispose([input]);
    reloaded.dispose();
  } finally {
    stepper.dispose();
    model.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
