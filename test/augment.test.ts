import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import { CNNDETECTION_AUGMENT, resolveConfig } from '../lib/config';
import {
  augmentImage,
  augmentRng,
  augmentRows,
  colourJitter,
  flipHorizontal,
  gaussianBlur,
  jpegRecompress,
  randomResizedCrop,
} from '../lib/data/augment';
import { makeRng } from '../lib/random';
import { balancedOrder, oneHotLabels } from '../lib/train/train';
import { learningRateAt } from '../lib/train/schedule';
import { averageScores, AveragingEngine, flipBatch } from '../lib/infer/averaging';
import type { InferenceEngine } from '../lib/infer/engine';
import { initBackend } from '../lib/backend/backend';

/** A 4x4 image whose pixel (x, y) is [x, y, 10x + y]. */
function gridImage(size = 4): Uint8Array {
  const out = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) out.set([x, y, 10 * x + y], (y * size + x) * 3);
  return out;
}

/** Photo-like content: smooth gradients plus seeded noise. */
function photo(size: number): Uint8Array {
  const rng = makeRng(9);
  const out = new Uint8Array(size * size * 3);
  for (let i = 0; i < size * size; i++) {
    const x = i % size,
      y = Math.floor(i / size);
    out.set([(x * 4 + rng() * 30) & 255, (y * 4 + rng() * 30) & 255, ((x + y) * 2) & 255], i * 3);
  }
  return out;
}

test('a flip flips: pixel (x, y) moves to (size-1-x, y); twice is the identity', () => {
  const img = gridImage();
  const flipped = flipHorizontal(img, 4);
  assert.deepEqual(Array.from(flipped.subarray(0, 3)), [3, 0, 30]);
  assert.deepEqual(Array.from(flipped.subarray((1 * 4 + 2) * 3, (1 * 4 + 2) * 3 + 3)), [1, 1, 11]);
  assert.deepEqual(flipHorizontal(flipped, 4), img);
  // The float batch flip used for test-time averaging agrees with the uint8 one.
  assert.deepEqual(Array.from(flipBatch(Float32Array.from(img), 1, 4)), Array.from(flipped));
});

test('JPEG re-compression changes the bytes but not the size, and lower quality changes them more', async () => {
  const img = photo(64);
  const q90 = await jpegRecompress(img, 64, 90);
  const q20 = await jpegRecompress(img, 64, 20);
  assert.equal(q90.length, img.length);
  assert.equal(q20.length, img.length);
  const diff = (a: Uint8Array) => a.reduce((s, v, i) => s + Math.abs(v - img[i]), 0) / a.length;
  assert.ok(diff(q90) > 0, 'quality 90 changes some bytes');
  assert.ok(diff(q20) > diff(q90), `quality 20 differs more (${diff(q20)}) than 90 (${diff(q90)})`);
  const meta = await sharp(q20, { raw: { width: 64, height: 64, channels: 3 } }).metadata();
  assert.equal(meta.width, 64);
});

test('blur keeps the mean and lowers the variation; colour jitter with factors 1 is the identity', async () => {
  const img = photo(32);
  const blurred = await gaussianBlur(img, 32, 2);
  const mean = (a: Uint8Array) => a.reduce((s, v) => s + v, 0) / a.length;
  const tv = (a: Uint8Array) => a.reduce((s, v, i) => (i >= 3 ? s + Math.abs(v - a[i - 3]) : s), 0);
  assert.ok(Math.abs(mean(blurred) - mean(img)) < 3);
  assert.ok(tv(blurred) < tv(img) * 0.7);
  assert.deepEqual(colourJitter(img, { brightness: 1, contrast: 1, saturation: 1 }), img);
  // Brightness 0.5 halves every pixel (contrast and saturation 1).
  const dark = colourJitter(Uint8Array.of(200, 100, 50), { brightness: 0.5, contrast: 1, saturation: 1 });
  assert.deepEqual(Array.from(dark), [100, 50, 25]);
  // Saturation 0 makes every pixel grey.
  const grey = colourJitter(Uint8Array.of(200, 100, 50), { brightness: 1, contrast: 1, saturation: 0 });
  assert.equal(grey[0], grey[1]);
  assert.equal(grey[1], grey[2]);
});

test('a random resized crop with scale 1 and a square crop is the identity', async () => {
  const img = photo(16);
  // minScale 1 and an rng giving ratio exp(0) = 1 (draw 0.5) keep the whole image.
  const crop = await randomResizedCrop(img, 16, 1, () => 0.5);
  assert.deepEqual(crop, img);
});

test('seeded augmentation repeats exactly; another step or seed differs', async () => {
  const x = new Uint8Array([...photo(32), ...photo(32).reverse()]);
  const config = { ...CNNDETECTION_AUGMENT, crop: 0.5, jitter: 0.5 };
  const a = await augmentRows(x, 32, [0, 1], config, 7, 3);
  const b = await augmentRows(x, 32, [0, 1], config, 7, 3);
  assert.deepEqual(a, b);
  const others = await Promise.all([
    augmentRows(x, 32, [0, 1], config, 7, 4),
    augmentRows(x, 32, [0, 1], config, 8, 3),
  ]);
  for (const o of others) assert.notDeepEqual(o, a);
  // All probabilities 0: nothing changes.
  const none = { ...config, flip: 0, crop: 0, jitter: 0, jpeg: 0, blur: 0 };
  assert.deepEqual(
    await augmentImage(x.subarray(0, 32 * 32 * 3), 32, none, augmentRng(1, 1, 1)),
    x.subarray(0, 32 * 32 * 3),
  );
});

test("config: augment fills from CNNDetection's recipe and rejects bad values with the field named", () => {
  const c = resolveConfig({ overrides: { augment: { flip: 1 } as never } });
  assert.equal(c.augment!.flip, 1);
  assert.equal(c.augment!.jpeg, 0.5);
  assert.throws(
    () => resolveConfig({ overrides: { augment: { jpeg: 2 } as never } }),
    /augment\.jpeg must be a probability/,
  );
  assert.throws(
    () => resolveConfig({ overrides: { augment: { jpegQuality: [80, 20] } as never } }),
    /augment\.jpegQuality/,
  );
  assert.throws(() => resolveConfig({ overrides: { model: 'vit' as never } }), /config: model must be one of/);
  assert.throws(() => resolveConfig({ overrides: { model: 'facefeat', imageSize: 64 } }), /at least 112/);
});

test('label smoothing: targets 1 - e/2 and e/2', async () => {
  await initBackend('wasm');
  const ys = oneHotLabels(Uint8Array.of(0, 1), [0, 1], 0.2);
  assert.deepEqual(
    Array.from(ys.dataSync()).map((v) => +v.toFixed(6)),
    [0.9, 0.1, 0.1, 0.9],
  );
  ys.dispose();
});

test('class-balanced order alternates classes and cycles the smaller one', () => {
  const y = Uint8Array.of(0, 0, 0, 0, 0, 0, 1, 1);
  const order = balancedOrder([0, 1, 2, 3, 4, 5, 6, 7], y, makeRng(1));
  assert.equal(order.length, 8);
  assert.deepEqual(
    order.map((r) => y[r]),
    [0, 1, 0, 1, 0, 1, 0, 1],
  );
  assert.deepEqual([...new Set(order.filter((r) => y[r] === 1))].sort(), [6, 7]);
});

test('source-balanced order: each class alternates with the other, and cycles through its sources', () => {
  // reals: a (rows 0-5), b (6, 7); fakes: c (8-11).
  const y = Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1);
  const sources = ['a', 'a', 'a', 'a', 'a', 'a', 'b', 'b', 'c', 'c', 'c', 'c'];
  const rows = Array.from({ length: 12 }, (_, i) => i);
  const order = balancedOrder(rows, y, makeRng(3), sources);
  assert.equal(order.length, 12);
  assert.deepEqual(
    order.map((r) => sources[r]),
    ['a', 'c', 'b', 'c', 'a', 'c', 'b', 'c', 'a', 'c', 'b', 'c'],
  );
  // b's two rows each come up: a small source repeats rather than being drowned out.
  assert.deepEqual([...new Set(order.filter((r) => sources[r] === 'b'))].sort(), [6, 7]);
  // Without sources: the class-balanced order, unchanged.
  assert.deepEqual(
    balancedOrder(rows, y, makeRng(3)).map((r) => y[r]),
    [0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1],
  );
});

test('learning-rate schedules: warm-up, cosine and one-cycle at known points', () => {
  const base = { learningRate: 1, warmupEpochs: 0 };
  assert.equal(learningRateAt(5, 100, 10, { ...base, lrSchedule: 'constant' }), 1);
  assert.equal(learningRateAt(0, 100, 10, { ...base, lrSchedule: 'cosine' }), 1);
  assert.ok(Math.abs(learningRateAt(50, 100, 10, { ...base, lrSchedule: 'cosine' }) - 0.5) < 1e-12);
  assert.ok(learningRateAt(100, 100, 10, { ...base, lrSchedule: 'cosine' }) < 1e-12);
  assert.equal(learningRateAt(4, 100, 10, { learningRate: 1, warmupEpochs: 1, lrSchedule: 'constant' }), 0.5);
  assert.ok(Math.abs(learningRateAt(0, 100, 10, { ...base, lrSchedule: 'onecycle' }) - 1 / 25) < 1e-12);
  assert.ok(Math.abs(learningRateAt(30, 100, 10, { ...base, lrSchedule: 'onecycle' }) - 1) < 1e-12);
  assert.ok(Math.abs(learningRateAt(100, 100, 10, { ...base, lrSchedule: 'onecycle' }) - 1e-4) < 1e-12);
});

test("ensemble and flip averaging: means of the members' scores on the image and its mirror", async () => {
  assert.deepEqual(
    Array.from(averageScores([Float32Array.of(0.2, 0.4), Float32Array.of(0.6, 1)])).map((v) => +v.toFixed(6)),
    [0.4, 0.7],
  );
  assert.throws(() => averageScores([Float32Array.of(1), Float32Array.of(1, 2)]), /lengths differ/);
  // Engines whose score is the first pixel's red value (times a factor): a mirror moves the last column's pixel there.
  const fake = (factor: number): InferenceEngine => ({
    name: 'fake',
    scores: async (b, n, size) => Float32Array.from({ length: n }, (_, i) => b[i * size * size * 3] * factor),
    dispose: () => undefined,
  });
  const batch = Float32Array.from(gridImage(), (v) => v / 100);
  const noFlip = new AveragingEngine([fake(1), fake(0.5)], false);
  assert.ok(Math.abs((await noFlip.scores(batch, 1, 4))[0] - 0) < 1e-7);
  const withFlip = new AveragingEngine([fake(1), fake(0.5)], true);
  // Pixel (0,0) red is 0; its mirror's (0,0) red is x=3 -> 0.03. Means: ((0 + 0.03) + (0 + 0.015)) / 4.
  assert.ok(Math.abs((await withFlip.scores(batch, 1, 4))[0] - 0.045 / 4) < 1e-7);
  tf.dispose([]);
});
