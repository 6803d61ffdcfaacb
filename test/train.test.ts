import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib/backend/backend';
import { EarlyStopping, ModelCheckpoint, TrainingContext } from '../lib/train/callbacks';
import type { EpochLogs } from '../lib/runs/history';
import { buildModel } from '../lib/model/model';
import { loadModel, saveModel } from '../lib/model/model-io';
import { binaryCrossEntropy, fit } from '../lib/train/train';
import { ImageData } from '../lib/data/pixels';
import { checkerboardToyData } from './fixtures/toy-data';

const tmp = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), prefix));

/** A learnable toy set: "fake" images carry a bright checkerboard, "real" ones smooth noise. */
const toyData = (n: number, size: number): ImageData =>
  checkerboardToyData(n, size, { seed: 12345, base: 100, spread: 40, contrast: 80, channelStep: 0 });

const config = { epochs: 3, batchSize: 8, seed: 3, learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };

test('binary cross-entropy matches hand-computed values (Keras clipping)', async () => {
  await initBackend('wasm');
  // -(1*ln 0.8 + 0*...) and -(ln(1-0.3)) averaged over the 4 outputs: (0.22314 + 0.35667 + 0.22314 + 0.35667) / 4
  const loss = binaryCrossEntropy(
    tf.tensor2d([
      [1, 0],
      [0, 1],
    ]),
    tf.tensor2d([
      [0.8, 0.3],
      [0.3, 0.8],
    ]),
  ).dataSync()[0];
  assert.ok(Math.abs(loss - (2 * -Math.log(0.8) + 2 * -Math.log(0.7)) / 4) < 1e-6);
  // A prediction of exactly 0 is clipped to 1e-7, not -log(0) = Infinity.
  const clipped = binaryCrossEntropy(tf.tensor2d([[1, 0]]), tf.tensor2d([[0, 0]])).dataSync()[0];
  assert.ok(Math.abs(clipped - -Math.log(1e-7) / 2) < 1e-3);
});

test('training learns a toy task, checkpoints the best epoch, and is reproducible', async () => {
  await initBackend('wasm');
  const data = toyData(48, 64);
  const rows = Array.from({ length: 48 }, (_, i) => i);
  const run = async (dir: string) => {
    const model = buildModel({ imageSize: 64, dropout: 0.5, seed: 7 });
    const checkpoint = new ModelCheckpoint(dir);
    const { history } = await fit({
      model,
      data,
      trainIndices: rows.slice(0, 32),
      valIndices: rows.slice(32),
      config,
      callbacks: [checkpoint],
    });
    const weights = model.getWeights().map((w) => Array.from(w.dataSync()));
    model.dispose();
    return { history: history.history, weights, checkpoint };
  };
  const dirA = tmp('rf-train-a-');
  const a = await run(dirA);
  const b = await run(tmp('rf-train-b-'));
  assert.equal(a.history.epoch.length, 3);
  assert.ok(a.history.loss[2] < a.history.loss[0], `loss should fall: ${a.history.loss}`);
  // Same seed, same data, same backend: the same run, to the bit.
  assert.deepEqual(a.history.loss, b.history.loss);
  assert.deepEqual(a.weights, b.weights);
  // The checkpoint holds the best val_accuracy epoch.
  const best = Math.max(...a.history.val_accuracy);
  assert.equal(a.checkpoint.best, best);
  const saved = JSON.parse(fs.readFileSync(path.join(dirA, 'checkpoint.json'), 'utf8'));
  assert.equal(saved.epoch, a.history.epoch[a.history.val_accuracy.indexOf(best)]);
  assert.ok(fs.existsSync(path.join(dirA, 'model', 'model.json')));
});

test('a saved model reloads with identical predictions, and old weight files are replaced', async () => {
  await initBackend('wasm');
  const dir = tmp('rf-io-');
  const model = buildModel({ imageSize: 64, dropout: 0.5, seed: 1 });
  await saveModel(model, dir);
  const firstWeights = fs.readdirSync(dir).filter((f) => f.endsWith('.bin'));
  // Change the weights and save again: exactly one weights file remains, the one model.json names.
  model.setWeights(model.getWeights().map((w) => w.add(0.01)));
  await saveModel(model, dir);
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.bin'));
  assert.equal(files.length, 1);
  assert.notDeepEqual(files, firstWeights);
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
  assert.deepEqual(manifest.weightsManifest[0].paths, files);
  const input = tf.randomUniform([3, 64, 64, 3], 0, 1, 'float32', 5);
  const expected = (model.predict(input) as tf.Tensor).arraySync();
  const reloaded = await loadModel(dir);
  assert.deepEqual((reloaded.predict(input) as tf.Tensor).arraySync(), expected);
  assert.equal(reloaded.countParams(), model.countParams());
});

test('a missing weights file is a one-line error naming it', async () => {
  await initBackend('wasm');
  const dir = tmp('rf-io-bad-');
  await saveModel(buildModel({ imageSize: 64, dropout: 0.5, seed: 1 }), dir);
  for (const f of fs.readdirSync(dir)) if (f.endsWith('.bin')) fs.rmSync(path.join(dir, f));
  await assert.rejects(loadModel(dir), /weights\.[0-9a-f]+\.bin: weights file missing/);
});

test('EarlyStopping stops after `patience` epochs without improvement', () => {
  const stopper = new EarlyStopping(2);
  const ctx = { stopTraining: false } as TrainingContext;
  const logs = (epoch: number, val_accuracy: number) =>
    ({ epoch, val_accuracy, loss: 0, accuracy: 0, val_loss: 0, seconds: 0 }) as EpochLogs;
  [0.5, 0.6, 0.6].forEach((v, i) => stopper.onEpochEnd(logs(i + 1, v), ctx));
  assert.equal(ctx.stopTraining, false);
  stopper.onEpochEnd(logs(4, 0.55), ctx);
  assert.equal(ctx.stopTraining, true);
  assert.match(ctx.stopReason ?? '', /no val_accuracy improvement in 2 epochs/);
});
