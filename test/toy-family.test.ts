/**
 * Issue 21's done-when for model families: a new family is one file. This file is that file: it defines a toy
 * family with a layer class of its own (its input-size behaviour and ONNX ops included), registers it, and then
 * the unchanged pipeline trains it through trainRun, saves it, reloads it from the run folder, scores with it
 * at its own size and at native size, and exports it to ONNX.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { resolveConfig } from '../lib/config';
import { loadDataset } from '../lib/data/dataset';
import { preprocessFolders } from '../lib/data/preprocess';
import { generateSynthDataset } from '../lib/data/synth';
import { exportRunToOnnx } from '../lib/infer/onnx-export';
import { loadOnnxRuntime, OnnxEngine } from '../lib/infer/onnx-engine';
import { loadScoringEngine } from '../lib/infer/scoring-engine';
import { registerFamily } from '../lib/model/families';
import { fakeScores } from '../lib/model/model';
import { loadModel } from '../lib/model/model-io';
import { layerInput } from '../lib/model/onnx-graph';
import { trainRun } from '../lib/train/experiment';
import { parallelUnsupported } from '../lib/train/parallel';
import { openRun } from '../lib/runs/runs';
import { evaluateRows } from '../lib/train/train';
import { scaledRows } from '../lib/data/pixels';
import { toolSkip } from './helpers/tools';

/** The toy family's own layer: 2x - 1, pixel by pixel (so it works at any input size). */
class ToyCentre extends tf.layers.Layer {
  static className = 'ToyCentre';
  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => (Array.isArray(inputs) ? inputs[0] : inputs).mul(2).sub(1));
  }
}
tf.serialization.registerClass(ToyCentre);

registerFamily({
  name: 'toy',
  build: (config) => {
    const inputs = tf.input({ shape: [config.imageSize, config.imageSize, 3], name: 'image' });
    let x = new ToyCentre({ name: 'centre' }).apply(inputs) as tf.SymbolicTensor;
    x = tf.layers
      .conv2d({
        filters: 4,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
        kernelInitializer: tf.initializers.glorotUniform({ seed: config.seed }),
        name: 'conv',
      })
      .apply(x) as tf.SymbolicTensor;
    x = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as tf.SymbolicTensor;
    const outputs = tf.layers
      .dense({
        units: 2,
        activation: 'sigmoid',
        kernelInitializer: tf.initializers.glorotUniform({ seed: config.seed + 1 }),
        name: 'output',
      })
      .apply(x) as tf.SymbolicTensor;
    return tf.model({ inputs, outputs, name: 'toy' });
  },
  training: { kind: 'end-to-end' },
  dataParallel: false,
  layers: {
    ToyCentre: {
      sizing: 'size-free',
      onnx: (graph, layer, inputs) => {
        const { x, layout, image } = layerInput(layer, inputs);
        image();
        const two = graph.floats(`${layer.name}.two`, Float32Array.of(2), []);
        const one = graph.floats(`${layer.name}.one`, Float32Array.of(1), []);
        return { name: graph.node('Sub', [graph.node('Mul', [x, two]), one]), layout };
      },
    },
  },
});

const runtime = loadOnnxRuntime();
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'realfake-toy-family-'));
process.on('exit', () => fs.rmSync(root, { recursive: true, force: true }));

/** 64 px synthetic faces, 10 per class, preprocessed as the CLI does. */
async function toyDataset(): Promise<string> {
  await generateSynthDataset({ out: path.join(root, 'synth'), count: 10, size: 64, seed: 5 });
  const dataDir = path.join(root, 'data');
  await preprocessFolders({
    realDir: path.join(root, 'synth', 'real'),
    fakeDir: path.join(root, 'synth', 'fake'),
    out: dataDir,
    size: 64,
  });
  return dataDir;
}

let trained: { runDir: string; dataDir: string; bestEpoch: number } | undefined;

test('a toy family registered in one file trains through trainRun, reloads from its run and scores at any size', async () => {
  const dataDir = await toyDataset();
  const config = resolveConfig({
    preset: 'smoke',
    overrides: { model: 'toy', epochs: 2, batchSize: 8, limitPerClass: null, valFraction: 0.25 },
  });
  assert.equal(parallelUnsupported(config), 'model toy', 'no BatchNorm here, but the family says one thread');
  const result = await trainRun({ dataDir, config, preset: 'smoke', runsDir: path.join(root, 'runs'), log: null });
  trained = { runDir: result.run.dir, dataDir, bestEpoch: result.bestEpoch };
  const run = openRun(result.run.dir);
  assert.equal(run.config.model, 'toy');
  // Two epochs of 15 training images in batches of 8: four optimizer steps.
  assert.equal(result.context.stepsPerEpoch, 2);

  // Reloaded from the run folder, the checkpoint gives back its epoch's validation loss.
  const model = await loadModel(path.join(run.dir, 'model'));
  assert.deepEqual(
    model.layers.map((l) => l.getClassName()),
    ['InputLayer', 'ToyCentre', 'Conv2D', 'GlobalAveragePooling2D', 'Dense'],
  );
  const dataset = loadDataset(dataDir);
  const val = await evaluateRows(model, dataset, run.split.val, config.batchSize);
  const history = fs.readFileSync(path.join(run.dir, 'history.csv'), 'utf8').trim().split('\n');
  const columns = history[0].split(',');
  const best = history[result.bestEpoch].split(',');
  assert.equal(Number(best[columns.indexOf('epoch')]), result.bestEpoch);
  assert.ok(
    Math.abs(val.loss - Number(best[columns.indexOf('val_loss')])) < 1e-6,
    `reloaded val_loss ${val.loss} vs logged ${best[columns.indexOf('val_loss')]}`,
  );

  // Predicting: the run's native-size engine (a free-size copy; ToyCentre is size-free by its family's word) gives
  // the reloaded model's scores at 64 px, and scores a 96 px image too.
  const rows = run.split.val.slice(0, 4);
  const pixels = scaledRows(dataset, rows);
  const expected = toyScores(model, pixels, rows.length);
  assert.ok(Math.max(...expected) - Math.min(...expected) > 1e-6, `scores vary (${Array.from(expected)})`);
  const native = await loadScoringEngine(run.dir, { engine: 'tfjs', scoring: 'native' });
  const scored = await native.scores(pixels, rows.length, 64);
  expected.forEach((p, i) => assert.ok(Math.abs(p - scored[i]) < 1e-5, `row ${i}: ${p} vs native ${scored[i]}`));
  const larger = await native.scores(new Float32Array(96 * 96 * 3).fill(0.5), 1, 96);
  assert.ok(larger[0] > 0 && larger[0] < 1, `a 96 px image scores ${larger[0]}`);
  await native.dispose();
  model.dispose();
});

function toyScores(model: tf.LayersModel, pixels: Float32Array, n: number): Float32Array {
  return tf.tidy(
    () => fakeScores(model.predict(tf.tensor4d(pixels, [n, 64, 64, 3])) as tf.Tensor2D).dataSync() as Float32Array,
  );
}

test(
  "the toy family's run exports to ONNX with its own layer's ops, and onnxruntime agrees with tfjs",
  { skip: toolSkip('reason' in runtime ? runtime.reason : false) },
  async () => {
    assert.ok(trained, 'the toy run was trained by the test above');
    const run = openRun(trained.runDir);
    const dataset = loadDataset(trained.dataDir);
    const rows = run.split.val.slice(0, 4);
    const pixels = scaledRows(dataset, rows);
    const model = await loadModel(path.join(run.dir, 'model'));
    const expected = toyScores(model, pixels, rows.length);
    model.dispose();
    const { bytes } = await exportRunToOnnx(run.dir, { write: false });
    const engine = await OnnxEngine.create(bytes, 1);
    const scores = await engine.scores(pixels, rows.length, 64);
    await engine.dispose();
    expected.forEach((p, i) => assert.ok(Math.abs(p - scores[i]) < 1e-4, `row ${i}: tfjs ${p} vs onnx ${scores[i]}`));
  },
);

test('a model family name nobody registered is refused in one line naming the choices', () => {
  assert.throws(
    () => resolveConfig({ overrides: { model: 'no-such-family' } }),
    /^Error: config: model must be one of study, resnet, facefeat, toy \(got no-such-family\)$/,
  );
});
