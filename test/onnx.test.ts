import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib/backend/backend';
import { resolveConfig } from '../lib/config';
import { buildModel } from '../lib/model/model';
import { saveModel } from '../lib/model/model-io';
import { loadEngine, loadOnnxRuntime, OnnxEngine } from '../lib/infer/onnx-engine';
import { onnxExportIsCurrent } from '../lib/infer/onnx-export';
import { TfjsEngine } from '../lib/infer/engine';
import { Predictor } from '../lib/infer/predict';
import { createRun } from '../lib/runs/runs';
import { randomizeWeights } from './fixtures/runs';
import { toolSkip } from './helpers/tools';
import { FACES_DEV } from './fixtures/faces';

const SIZE = 64;
const runtime = loadOnnxRuntime();
const skip = toolSkip('reason' in runtime ? `${runtime.reason}: ONNX tests skipped` : false);

let tmp: string;
let runDir: string;

async function saveRandomModel(seed: number): Promise<void> {
  const model = buildModel({ imageSize: SIZE, dropout: 0.5, seed });
  randomizeWeights(model, seed);
  await saveModel(model, path.join(runDir, 'model'));
  model.dispose();
}

/** Photo-like test images: smooth colour gradients, a bright disc and mild noise, JPEG-compressed, 200px. */
async function writeImages(dir: string, count: number): Promise<string[]> {
  fs.mkdirSync(dir, { recursive: true });
  const side = 200;
  const files: string[] = [];
  for (let n = 0; n < count; n++) {
    const rgb = Buffer.alloc(side * side * 3);
    let state = n + 1;
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        state = (Math.imul(state, 1103515245) + 12345) >>> 0;
        const disc = (x - 60 - 20 * n) ** 2 + (y - 100) ** 2 < 1600 ? 90 : 0;
        const noise = (state >>> 28) - 8;
        const i = (y * side + x) * 3;
        rgb[i] = Math.min(255, Math.max(0, x + disc + noise + 30 * n));
        rgb[i + 1] = Math.min(255, Math.max(0, y + disc / 2 + noise));
        rgb[i + 2] = Math.min(255, Math.max(0, 255 - x / 2 - y / 2 + noise));
      }
    }
    const file = path.join(dir, `image${n}.jpg`);
    await sharp(rgb, { raw: { width: side, height: side, channels: 3 } })
      .jpeg({ quality: 85 })
      .toFile(file);
    files.push(file);
  }
  return files;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

before(async () => {
  if (skip) return;
  await initBackend('wasm');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'realfake-onnx-'));
  const config = resolveConfig({ preset: 'smoke', overrides: { imageSize: SIZE } });
  runDir = createRun({
    root: tmp,
    config,
    preset: 'test',
    dataDir: tmp,
    datasetFingerprint: 'none',
    split: { train: [], val: [], test: [] },
  }).dir;
  await saveRandomModel(3);
});

after(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

test('ONNX and tfjs agree within 1e-4 on random inputs (both sigmoids and pFake)', { skip }, async () => {
  const tfjs = (await loadEngine(runDir, 'tfjs')) as TfjsEngine;
  const onnx = await loadEngine(runDir, 'onnx');
  assert.ok(onnx instanceof OnnxEngine);
  assert.ok(fs.existsSync(path.join(runDir, 'model.onnx')), 'forced onnx exports the model first');
  const n = 8;
  // Noise at brightness 0.1 ... 1 per image, so the images differ in more than their noise.
  const inputs = tf.tidy(() =>
    tf.randomUniform([n, SIZE, SIZE, 3], 0, 1, 'float32', 11).mul(tf.linspace(0.1, 1, n).reshape([n, 1, 1, 1])),
  );
  const batch = inputs.dataSync() as Float32Array;
  const expected = tf.tidy(() => (tfjs.model.predict(inputs) as tf.Tensor).dataSync());
  const outputs = await onnx.outputs(batch, n, SIZE);
  assert.ok(
    maxAbsDiff(outputs.probabilities, expected) < 1e-4,
    `sigmoids differ by ${maxAbsDiff(outputs.probabilities, expected)}`,
  );
  const tfjsScores = await tfjs.scores(batch, n, SIZE);
  assert.ok(maxAbsDiff(outputs.pFake, tfjsScores) < 1e-4, `pFake differs by ${maxAbsDiff(outputs.pFake, tfjsScores)}`);
  // The comparison means something only if outputs vary with the input far more than the tolerance
  // (a kernel laid out wrongly shifts them by about this spread: 1e-2 here, 100 times the tolerance).
  const spread = Math.max(...outputs.pFake) - Math.min(...outputs.pFake);
  assert.ok(spread > 1e-2, `outputs barely depend on the input (pFake spread ${spread})`);
  inputs.dispose();
  await tfjs.dispose();
  await onnx.dispose();
});

test(
  'ONNX and tfjs agree within 1e-4 on decoded images (generated JPEGs, and dev faces when present)',
  { skip },
  async () => {
    const files = await writeImages(path.join(tmp, 'images'), 4);
    for (const label of ['real', 'fake']) {
      const dir = path.join(FACES_DEV, label);
      if (fs.existsSync(dir))
        files.push(
          ...fs
            .readdirSync(dir)
            .sort()
            .slice(0, 4)
            .map((f) => path.join(dir, f)),
        );
    }
    const scored: number[][] = [];
    for (const engine of ['tfjs', 'onnx'] as const) {
      const predictor = await Predictor.fromRun(runDir, (dir) => loadEngine(dir, engine));
      assert.equal(predictor.engine.name, engine);
      const { predictions, failures } = await predictor.predictFiles(files, { batchSize: 5 });
      assert.deepEqual(failures, []);
      scored.push(predictions.map((p) => p.pFake));
      await predictor.dispose();
    }
    assert.ok(
      maxAbsDiff(scored[0], scored[1]) < 1e-4,
      `pFake differs by ${maxAbsDiff(scored[0], scored[1])} over ${files.length} images`,
    );
  },
);

test('auto uses ONNX and re-exports when the model changes', { skip }, async () => {
  const notes: string[] = [];
  const first = await loadEngine(runDir, 'auto', (line) => notes.push(line));
  assert.equal(first.name, 'onnx');
  assert.ok(onnxExportIsCurrent(runDir));
  const input = new Float32Array(SIZE * SIZE * 3).fill(0.5);
  const before = (await first.scores(input, 1, SIZE))[0];
  await first.dispose();

  await saveRandomModel(4); // "retrained": new weights in RUNDIR/model
  assert.equal(onnxExportIsCurrent(runDir), false, 'the old export is recognised as stale');
  const second = await loadEngine(runDir, 'auto', (line) => notes.push(line));
  assert.equal(second.name, 'onnx');
  assert.ok(onnxExportIsCurrent(runDir));
  const tfjs = await loadEngine(runDir, 'tfjs');
  const [now, expected] = [(await second.scores(input, 1, SIZE))[0], (await tfjs.scores(input, 1, SIZE))[0]];
  assert.ok(
    Math.abs(now - expected) < 1e-4 && Math.abs(now - before) > 1e-3,
    `scores: old ${before}, new ${now}, tfjs ${expected}`,
  );
  assert.match(notes[notes.length - 1], /^engine: onnx \(onnxruntime-node .*; exported /);
  await second.dispose();
  await tfjs.dispose();
});
