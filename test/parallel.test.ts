import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib/backend/backend';
import { buildModel } from '../lib/model/model';
import { shardSizes, WorkerStepper } from '../lib/train/parallel';
import { ensureCompiledLib, staleCompiledFiles } from '../lib/train/compiled';
import { projectRoot } from '../lib/files';
import { LocalStepper, makeOptimizer, TrainStepper } from '../lib/train/train';
import { ImageData } from '../lib/data/pixels';

const SIZE = 64;
const config = { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };
// 7 rows split 4 + 3: unequal shards, so weighting the shard gradients by size matters.
const BATCHES = [
  [0, 3, 5, 6, 9, 1, 2],
  [4, 7, 8, 10, 11, 0, 5],
  [6, 2, 9, 1, 3, 11, 10],
];

function randomData(rows: number): ImageData {
  const x = new Uint8Array(rows * SIZE * SIZE * 3);
  let state = 12345;
  for (let i = 0; i < x.length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    x[i] = state >>> 24;
  }
  const y = Uint8Array.from({ length: rows }, (_, i) => i % 2);
  return { x, y, size: SIZE };
}

/** Trains a fresh seed-5 model for the given batches; returns initial and final weights, flattened. */
async function train(makeStepper: (model: tf.LayersModel, data: ImageData) => Promise<TrainStepper>, stepOffset = 0) {
  const model = buildModel({ imageSize: SIZE, dropout: 0.5, seed: 5 });
  const flat = () => Float32Array.from(model.trainableWeights.flatMap((w) => Array.from(w.read().dataSync())));
  const initial = flat();
  const stepper = await makeStepper(model, randomData(12));
  const losses: number[] = [];
  try {
    for (const [s, rows] of BATCHES.entries()) losses.push((await stepper.step(rows, s + stepOffset)).loss);
  } finally {
    await stepper.dispose?.();
  }
  const final = flat();
  model.dispose();
  return { initial, final, losses };
}

const local = (model: tf.LayersModel, data: ImageData) =>
  Promise.resolve(new LocalStepper(model, data, makeOptimizer(config)));
const parallel = (workers: number, microBatch?: number) => (model: tf.LayersModel, data: ImageData) =>
  WorkerStepper.create({ model, data, optimizer: makeOptimizer(config), workers, backend: 'wasm', microBatch });

/** How far `b` is from `a`: the largest element difference, and the L2 difference relative to a's update. */
function compare(a: { initial: Float32Array; final: Float32Array }, b: { final: Float32Array }) {
  let maxAbs = 0;
  let diff2 = 0;
  let moved2 = 0;
  for (let i = 0; i < a.final.length; i++) {
    const d = Math.abs(a.final[i] - b.final[i]);
    maxAbs = Math.max(maxAbs, d);
    diff2 += d * d;
    moved2 += (a.final[i] - a.initial[i]) ** 2;
  }
  return { maxAbs, relative: Math.sqrt(diff2 / moved2) };
}

test('shards are contiguous and near-equal', () => {
  assert.deepEqual(shardSizes(7, 2), [4, 3]);
  assert.deepEqual(shardSizes(32, 3), [11, 11, 10]);
  assert.deepEqual(shardSizes(1, 2), [1, 0]);
});

/*
 * Tolerance. The worker runs differ from the one-thread run only in float32 summation order (shard gradients
 * summed on the main thread rather than in one reduction): gradients agree to ~1e-7 of their scale, and after
 * one step weights agree to ~1e-6. Training then amplifies rounding a little: a ReLU or max-pool decision
 * that sits on a knife edge can flip, and Adam turns the changed gradient of a few weights into a fraction
 * of lr (measured after 3 steps: largest weight difference 1.5e-4 = 0.15 lr, one conv1 weight, L2 difference
 * 3.5e-4 of the update, for both cases below; 2 workers in one pass each: 1.3e-6 and 4e-6). So: L2 difference
 * < 1% of the update and no weight off by more than lr / 2. Real mistakes are far outside that: unweighted shard means give 50% and 5.8e-3, other dropout
 * masks 139% and 6e-3 (the control below checks the latter each time).
 */
const LR = config.learningRate;
// 2 workers: shards of 4 + 3 rows, each computed 2 rows at a time (micro-batches); 3 workers: 3 + 2 + 2 in one pass.
for (const [workers, microBatch] of [
  [2, 2],
  [3, undefined],
]) {
  test(`${workers} workers train to the same weights as one thread (dropout 0.5, unequal shards, micro-batch ${microBatch ?? 'default'})`, async () => {
    await initBackend('wasm');
    const one = await train(local);
    const many = await train(parallel(workers!, microBatch));
    assert.deepEqual(many.initial, one.initial, "both start from the seed's weights");
    const { maxAbs, relative } = compare(one, many);
    assert.ok(relative < 1e-2, `L2 |w${workers} - w1| is ${relative} of the update`);
    assert.ok(maxAbs < LR / 2, `max |w${workers} - w1| = ${maxAbs}`);
    one.losses.forEach((loss, i) =>
      assert.ok(Math.abs(loss - many.losses[i]) < 1e-4, `step ${i} loss ${many.losses[i]} vs ${loss}`),
    );
  });
}

test('control: other dropout masks land far outside that tolerance', async () => {
  await initBackend('wasm');
  const one = await train(local);
  const shifted = await train(local, 1000);
  const { maxAbs, relative } = compare(one, shifted);
  assert.ok(relative > 0.1 && maxAbs > LR, `other masks changed the weights by only ${relative} (max ${maxAbs})`);
});

test('a worker that dies rejects the step with a message naming it', async () => {
  await initBackend('wasm');
  const model = buildModel({ imageSize: SIZE, dropout: 0.5, seed: 5 });
  const stepper = await WorkerStepper.create({
    model,
    data: randomData(4),
    optimizer: makeOptimizer(config),
    workers: 2,
    backend: 'wasm',
  });
  try {
    // Reach in to kill worker 1 as a crash would.
    await (
      stepper as unknown as { handles: Array<{ worker: { terminate(): Promise<number> } }> }
    ).handles[1].worker.terminate();
    await assert.rejects(stepper.step([0, 1, 2, 3], 0), /training worker 1 exited unexpectedly/);
  } finally {
    await stepper.dispose();
    model.dispose();
  }
});

test('workers never run stale compiled code: a lib/ file newer than its dist/ copy is found', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rf-compiled-'));
  const src = path.join(root, 'lib', 'train');
  const out = path.join(root, 'dist', 'lib', 'train');
  fs.mkdirSync(src, { recursive: true });
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(src, 'a.ts'), 'export const a = 1;');
  fs.writeFileSync(path.join(src, 'b.ts'), 'export const b = 1;');
  fs.writeFileSync(path.join(src, 'types.d.ts'), 'export type T = 1;');
  fs.writeFileSync(path.join(out, 'a.js'), '');
  const past = new Date(Date.now() - 60_000);
  fs.utimesSync(path.join(src, 'a.ts'), past, past);
  assert.deepEqual(
    staleCompiledFiles(path.join(root, 'lib'), path.join(root, 'dist', 'lib')),
    [path.join(src, 'b.ts')],
    'b.js is missing',
  );
  fs.writeFileSync(path.join(out, 'b.js'), '');
  assert.deepEqual(staleCompiledFiles(path.join(root, 'lib'), path.join(root, 'dist', 'lib')), []);
  fs.utimesSync(path.join(out, 'a.js'), new Date(past.getTime() - 1000), new Date(past.getTime() - 1000));
  assert.deepEqual(
    staleCompiledFiles(path.join(root, 'lib'), path.join(root, 'dist', 'lib')),
    [path.join(src, 'a.ts')],
    'a.ts edited after a.js',
  );
  // This project: after ensureCompiledLib (which compiles only when something is stale) nothing is stale.
  ensureCompiledLib();
  assert.deepEqual(staleCompiledFiles(path.join(projectRoot(), 'lib'), path.join(projectRoot(), 'dist', 'lib')), []);
});
