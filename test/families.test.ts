import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib/backend/backend';
import { resolveConfig } from '../lib/config';
import { buildFamilyModel } from '../lib/model/families';
import { STUDY_PARAMETER_COUNT } from '../lib/model/model';
import { loadModel, saveModel } from '../lib/model/model-io';
import { applyInputMode, nprResidual } from '../lib/model/input-transform';
import { modelToOnnx } from '../lib/infer/onnx-export';
import { loadOnnxRuntime, OnnxEngine } from '../lib/infer/onnx-engine';
import { fakeScores } from '../lib/model/model';
import { fit, imageBatchMaker, LocalStepper, makeOptimizer } from '../lib/train/train';
import { ImageData } from '../lib/data/pixels';
import { checkerboardToyData } from './fixtures/toy-data';

const runtime = loadOnnxRuntime();

/** Toy images: "fake" rows carry a faint checkerboard, "real" ones smooth noise. */
const toyData = (n: number, size: number): ImageData =>
  checkerboardToyData(n, size, { seed: 777, base: 60, spread: 120, contrast: 50, channelStep: 10 });

const FAMILIES = [
  { model: 'study', input: 'unit' },
  { model: 'study', input: 'npr' },
  { model: 'resnet', input: 'rgb' },
  { model: 'resnet', input: 'highpass' },
  { model: 'resnet', input: 'npr' },
  { model: 'facefeat', input: 'unit' },
  { model: 'facefeat', input: 'unit', facePooling: 'meanstd' },
] as const;

test('facefeat meanstd pooling: its first 736 features are the mean pooling, then one spread per channel', async () => {
  await initBackend('wasm');
  const SIZE = 112;
  const data = toyData(2, SIZE);
  const x = tf.tidy(() => tf.tensor4d(data.x, [2, SIZE, SIZE, 3], 'float32').div(255)) as tf.Tensor4D;
  const features = (pooling: 'mean' | 'meanstd') => {
    const config = resolveConfig({ overrides: { model: 'facefeat', imageSize: SIZE, facePooling: pooling } });
    const model = buildFamilyModel(config);
    const f = model.getLayer('face_backbone').apply(x) as tf.Tensor2D;
    const out = f.arraySync();
    tf.dispose([f]);
    model.dispose();
    return out;
  };
  const mean = features('mean');
  const both = features('meanstd');
  assert.equal(mean[0].length, 736);
  assert.equal(both[0].length, 1472);
  for (let i = 0; i < 2; i++) {
    assert.deepEqual(both[i].slice(0, 736), mean[i]);
    const stds = both[i].slice(736);
    assert.ok(stds.every((v) => v >= 0 && Number.isFinite(v)));
    // At 112 px the last stage is 1x1 (112 -> 53 -> 26 -> 13 -> 6 -> 3 -> 1): nothing to spread, exactly 0.
    assert.ok(
      stds.slice(480).every((v) => v === 0),
      'a 1x1 stage has zero spread',
    );
    const varying = stds.slice(0, 480).filter((v) => v > 1e-4).length;
    assert.ok(varying > 240, `most earlier channels vary over the image (${varying} of 480)`);
  }
  x.dispose();
});

test("NPR subtracts each 2x2 block's top-left pixel; rgb standardises; unit is the identity", async () => {
  await initBackend('wasm');
  const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], [1, 4, 4, 1]);
  assert.deepEqual(Array.from(nprResidual(x).dataSync()), [0, 1, 0, 1, 4, 5, 4, 5, 0, 1, 0, 1, 4, 5, 4, 5]);
  assert.deepEqual(Array.from(applyInputMode(tf.tensor4d([0, 0.5, 1], [1, 1, 1, 3]), 'rgb').dataSync()), [-2, 0, 2]);
  assert.equal(applyInputMode(x, 'unit'), x);
});

for (const family of FAMILIES) {
  test(
    `${family.model}/${family.input}${'facePooling' in family ? `/${family.facePooling}` : ''}: builds, trains, saves, reloads, exports to ONNX and matches tfjs within 1e-4`,
    { skip: 'reason' in runtime ? runtime.reason : false },
    async () => {
      await initBackend('wasm');
      const SIZE = family.model === 'facefeat' ? 112 : 64;
      const config = resolveConfig({
        overrides: {
          ...family,
          imageSize: SIZE,
          width: 8,
          depth: 3,
          epochs: 1,
          batchSize: 8,
          learningRate: 1e-3,
          seed: 5,
          dropout: 0.2,
          weightDecay: 1e-2,
          labelSmoothing: 0.1,
        },
      });
      const model = buildFamilyModel(config);
      if (family.model === 'study' && family.input === 'unit') assert.equal(model.countParams(), STUDY_PARAMETER_COUNT); // the exact study CNN
      const data = toyData(16, SIZE);
      const before = model.getWeights().map((w) => w.dataSync().slice());
      const trainable = model.trainableWeights.length;
      const stepper = new LocalStepper(model, data, makeOptimizer(config), {
        batches: imageBatchMaker(data, config),
        weightDecay: config.weightDecay,
      });
      await fit({
        model,
        data,
        trainIndices: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
        valIndices: [12, 13, 14, 15],
        config,
        stepper,
      });
      const changed = model.getWeights().filter((w, i) => w.dataSync().some((v, j) => v !== before[i][j])).length;
      assert.ok(changed > 0 && trainable > 0, 'training changed some weights');
      if (family.model === 'facefeat') {
        // The face backbone is frozen: only the head (BatchNorm, dense) trains.
        assert.deepEqual(
          model.trainableWeights.map((w) => w.name.split('/')[0]).filter((n, i, a) => a.indexOf(n) === i),
          ['head_bn', 'output'],
        );
      }
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'realfake-family-'));
      await saveModel(model, dir);
      const reloaded = await loadModel(dir);
      const batch = tf.tidy(() =>
        tf.tensor4d(data.x.slice(0, 4 * SIZE * SIZE * 3), [4, SIZE, SIZE, 3], 'float32').div(255),
      ) as tf.Tensor4D;
      const original = fakeScores(model.predict(batch) as tf.Tensor2D).dataSync();
      const again = fakeScores(reloaded.predict(batch) as tf.Tensor2D).dataSync();
      assert.deepEqual(Array.from(again), Array.from(original));
      const engine = await OnnxEngine.create(modelToOnnx(reloaded), 1);
      const onnxScores = await engine.scores(batch.dataSync() as Float32Array, 4, SIZE);
      await engine.dispose();
      original.forEach((s, i) =>
        assert.ok(Math.abs(s - onnxScores[i]) < 1e-4, `row ${i}: tfjs ${s} vs onnx ${onnxScores[i]}`),
      );
      // A real check, not a constant: the scores differ between images.
      assert.ok(
        Math.max(...original) - Math.min(...original) > 1e-6,
        `scores vary across images (${Array.from(original)})`,
      );
      fs.rmSync(dir, { recursive: true, force: true });
      model.dispose();
      reloaded.dispose();
      batch.dispose();
    },
  );
}
