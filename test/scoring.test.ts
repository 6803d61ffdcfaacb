/**
 * Scoring at native resolution (config `scoring`, lib/infer/scoring.ts): the tile grid, the averaging, tiles and
 * native scoring against hand-computed scores, refusals, and the CLI's `--scoring` on synthetic data.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parsePredictionsCsv } from '../lib/eval/compare';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib/backend/backend';
import { resolveConfig } from '../lib/config';
import { RgbImage, resizeNearestPil } from '../lib/data/images';
import { AveragingEngine, averageTileScores, flipBatch } from '../lib/infer/averaging';
import { predictFacesInImage } from '../lib/infer/faces';
import { checkNativeScoring, fixedSizeLayer, freeSizeCopy } from '../lib/infer/native';
import { TfjsEngine } from '../lib/infer/engine';
import { Predictor } from '../lib/infer/predict';
import { checkNativeSize, scoreImages } from '../lib/infer/scoring';
import { loadScoringEngine } from '../lib/infer/scoring-engine';
import { cutTile, tileGrid, tileStarts } from '../lib/infer/tiles';
import { assembleFaceModel, buildFaceHead, buildFamilyModel } from '../lib/model/families';
import { fakeScores } from '../lib/model/model';
import { loadModel } from '../lib/model/model-io';
import { buildResNet } from '../lib/model/resnet';
import { createRandomRun, createRunHolding, randomizeWeights } from './fixtures/runs';
import { realfake } from './helpers/cli';

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

function noiseImage(width: number, height: number, seed: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  let state = seed >>> 0;
  for (let i = 0; i < data.length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    data[i] = state >>> 24;
  }
  return { data, width, height };
}

async function writePng(file: string, image: RgbImage): Promise<void> {
  await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .png()
    .toFile(file);
}

/** A run folder holding `model` (smoke preset with `overrides`: the config names the family). */
function runWith(model: tf.LayersModel, overrides: Parameters<typeof resolveConfig>[0] = {}): Promise<string> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rf-scoring-run-'));
  return createRunHolding(root, model, resolveConfig({ preset: 'smoke', ...overrides }));
}

test('tile starts: the fewest tiles that cover a side, evenly spaced, first at 0 and last flush with the end', () => {
  // Hand-computed: n = ceil(L / t), start_i = round(i (L - t) / (n - 1)).
  assert.deepEqual(tileStarts(128, 128), [0]);
  assert.deepEqual(tileStarts(256, 128), [0, 128]); // a multiple: no overlap
  assert.deepEqual(tileStarts(129, 128), [0, 1]);
  assert.deepEqual(tileStarts(300, 128), [0, 86, 172]); // 84 surplus px: two overlaps of 42
  assert.deepEqual(tileStarts(200, 64), [0, 45, 91, 136]); // 136 / 3 = 45.33: rounded
  assert.deepEqual(tileStarts(1024, 224), [0, 200, 400, 600, 800]);
  assert.deepEqual(tileStarts(160, 64), [0, 48, 96]);
  assert.throws(() => tileStarts(100, 128), /smaller than one 128 px tile/);
  for (const [length, tile] of [
    [300, 128],
    [200, 64],
    [1024, 224],
    [1000, 333],
    [65, 64],
  ]) {
    const starts = tileStarts(length, tile);
    const covered = new Uint8Array(length);
    for (const s of starts) covered.fill(1, s, s + tile);
    assert.ok(
      covered.every((c) => c === 1),
      `${length}/${tile} covered`,
    );
    assert.equal(starts[starts.length - 1] + tile, length);
    assert.equal(starts.length, Math.ceil(length / tile), 'no more tiles than covering needs');
    // Overlaps differ by at most one pixel (rounding), and never reach a whole tile.
    const overlaps = starts.slice(1).map((s, i) => starts[i] + tile - s);
    assert.ok(Math.max(...overlaps) - Math.min(...overlaps) <= 1, `${length}/${tile} overlaps ${overlaps}`);
    assert.ok(overlaps.every((o) => o >= 0 && o < tile));
  }
});

test('tile grid: row by row, and cutTile copies exactly the tile', () => {
  assert.deepEqual(tileGrid(300, 200, 128), [
    { x: 0, y: 0 },
    { x: 86, y: 0 },
    { x: 172, y: 0 },
    { x: 0, y: 72 },
    { x: 86, y: 72 },
    { x: 172, y: 72 },
  ]);
  const image = noiseImage(300, 200, 9);
  const tile = cutTile(image, { x: 86, y: 72 }, 128);
  for (const [ty, tx] of [
    [0, 0],
    [127, 127],
    [5, 100],
  ]) {
    for (let c = 0; c < 3; c++)
      assert.equal(tile[(ty * 128 + tx) * 3 + c], image.data[((72 + ty) * 300 + 86 + tx) * 3 + c]);
  }
  assert.throws(() => cutTile(image, { x: 173, y: 0 }, 128), /outside the 300x200 image/);
});

test('averaging: tile means per image; a rectangular batch flips left to right', () => {
  const means = averageTileScores(Float32Array.of(0.2, 0.4, 0.9, 0.1, 0.3, 0.5), [2, 1, 3]);
  assert.deepEqual(
    Array.from(means, (v) => Number(v.toFixed(6))),
    [0.3, 0.9, 0.3],
  );
  assert.throws(() => averageTileScores(Float32Array.of(1, 2), [1]), /add up to 1, not 2/);
  // 1 image, 2 rows x 3 columns, pixel values = column index (same in all channels) + 10 x row.
  const batch = Float32Array.from({ length: 18 }, (_, i) => (Math.floor(i / 3) % 3) + 10 * Math.floor(i / 9));
  const flipped = flipBatch(batch, 1, 2, 3);
  assert.deepEqual(
    Array.from({ length: 6 }, (_, p) => flipped[p * 3]),
    [2, 1, 0, 12, 11, 10],
  );
});

/**
 * A model that looks only at the top-left 8x8 block of its 128 px input: pFake = sigmoid(W * mean red + B)
 * (the two sigmoid outputs are sigmoid(-z) and sigmoid(z), which add up to 1).
 */
const W = 4;
const B = -2;
function cornerModel(): tf.LayersModel {
  const input = tf.input({ shape: [128, 128, 3] });
  let x = tf.layers
    .cropping2D({
      cropping: [
        [0, 120],
        [0, 120],
      ],
    })
    .apply(input) as tf.SymbolicTensor;
  x = tf.layers.globalAveragePooling2d({}).apply(x) as tf.SymbolicTensor;
  const dense = tf.layers.dense({ units: 2, activation: 'sigmoid' });
  const output = dense.apply(x) as tf.SymbolicTensor;
  dense.setWeights([
    tf.tensor2d([
      [-W, W],
      [0, 0],
      [0, 0],
    ]),
    tf.tensor1d([-B, B]),
  ]);
  return tf.model({ inputs: input, outputs: output });
}

function paintRed(image: RgbImage, x0: number, y0: number, red: number): void {
  for (let y = y0; y < y0 + 8; y++) for (let x = x0; x < x0 + 8; x++) image.data[(y * image.width + x) * 3] = red;
}

function meanRedOfCorner(pixels: Uint8Array, width: number): number {
  let sum = 0;
  for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) sum += pixels[(y * width + x) * 3];
  return sum / 64 / 255;
}

test('tiles: a model that sees one known region of each tile gives the mean of the hand-computed tile scores', async () => {
  await initBackend('wasm');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rf-tiles-'));
  // 256 x 192 at 128 px: tiles at x 0, 128 and y 0, 64; their top-left 8x8 blocks get red 0, 64, 128, 255.
  const image = noiseImage(256, 192, 5);
  const corners = [
    [0, 0, 0],
    [128, 0, 64],
    [0, 64, 128],
    [128, 64, 255],
  ];
  for (const [x, y, red] of corners) paintRed(image, x, y, red);
  // And the top-right 8x8 block of each tile (what the corner of its mirror image shows), for flip averaging.
  const mirrored = [
    [120, 0, 32],
    [248, 0, 96],
    [120, 64, 160],
    [248, 64, 224],
  ];
  for (const [x, y, red] of mirrored) paintRed(image, x, y, red);
  const file = path.join(dir, 'grid.png');
  await writePng(file, image);

  const config = { imageSize: 128, resize: 'nearest' as const, threshold: 0.5, scoring: 'tiles' as const };
  const predictor = new Predictor(new TfjsEngine(cornerModel()), config);
  const tiled = await predictor.predictFile(file);
  const expected = corners.reduce((s, [, , red]) => s + sigmoid((W * red) / 255 + B), 0) / 4;
  assert.ok(Math.abs(tiled.pFake - expected) < 1e-6, `${tiled.pFake} vs ${expected}`);
  assert.equal(tiled.scoring, 'tiles');
  assert.equal(tiled.tiles, 4);

  // --faces in 'whole' mode: the face's square is the whole photo, cut out at its own resolution, then tiled.
  const face = await predictFacesInImage(predictor, image, 'whole');
  assert.ok(Math.abs(face.faces[0].pFake - expected) < 1e-6, `face ${face.faces[0].pFake} vs ${expected}`);

  // Flip averaging flips each tile: the mean over the 4 tiles and their 4 mirror images.
  const flipEngine = new AveragingEngine([new TfjsEngine(cornerModel())], true);
  const [flipped] = await scoreImages(flipEngine, [image], config);
  const both = [...corners, ...mirrored].reduce((s, [, , red]) => s + sigmoid((W * red) / 255 + B), 0) / 8;
  assert.ok(Math.abs(flipped.pFake - both) < 1e-6, `${flipped.pFake} vs ${both}`);

  // Smaller than a tile on one side: resized to 128 x 128 (PIL nearest, as 'resize' does), scored once.
  const narrow = noiseImage(100, 300, 6);
  const narrowFile = path.join(dir, 'narrow.png');
  await writePng(narrowFile, narrow);
  const fallback = await predictor.predictFile(narrowFile);
  const resized = resizeNearestPil(narrow, 128, 128);
  assert.ok(Math.abs(fallback.pFake - sigmoid(W * meanRedOfCorner(resized, 128) + B)) < 1e-6);
  assert.equal(fallback.scoring, 'resize');
  assert.equal(fallback.tiles, 1);
  // ... and the same as the default mode gives it.
  const resizePredictor = new Predictor(new TfjsEngine(cornerModel()), { ...config, scoring: 'resize' });
  assert.ok(Math.abs((await resizePredictor.predictFile(narrowFile)).pFake - fallback.pFake) < 1e-7);
  assert.equal((await resizePredictor.predictFile(file)).scoring, undefined, "'resize' output is unchanged");

  // A batch across images keeps each image's tiles together.
  const { predictions } = await predictor.predictFiles([narrowFile, file, narrowFile]);
  assert.deepEqual(
    predictions.map((p) => p.pFake.toFixed(6)),
    [fallback.pFake, tiled.pFake, fallback.pFake].map((p) => p.toFixed(6)),
  );
  for (const p of [predictor, resizePredictor]) await p.dispose();
  flipEngine.dispose();
});

test('native: a resnet-family model scores a larger image as its free-size twin does, computed directly', async () => {
  await initBackend('wasm');
  const options = {
    model: 'resnet' as const,
    imageSize: 64,
    width: 4,
    depth: 3,
    input: 'npr' as const,
    dropout: 0,
    seed: 2,
    facePooling: 'mean' as const,
  };
  const model = buildFamilyModel(options);
  randomizeWeights(model, 11);
  const dir = await runWith(model, { overrides: options });
  const engine = await loadScoringEngine(dir, { engine: 'tfjs', scoring: 'native' });
  assert.equal(engine.anySize, true);
  assert.equal(engine.sideMultiple, 2, 'NPR needs even sides');
  const image = noiseImage(97, 130, 3); // odd width: the last column is dropped for NPR
  const [scored] = await scoreImages(engine, [image], { imageSize: 64, resize: 'nearest', scoring: 'native' });
  assert.equal(scored.scoring, 'native');
  // Directly: the family's builder with a free input size, the same weights, on the 96 x 130 image.
  const twin = buildResNet({ ...options, imageSize: null });
  twin.setWeights(model.getWeights());
  const cropped = tf.tidy(() => tf.tensor4d(image.data, [1, 130, 97, 3]).slice([0, 0, 0, 0], [1, 130, 96, 3]).div(255));
  const direct = tf.tidy(() => fakeScores(twin.predict(cropped) as tf.Tensor2D).dataSync()[0]);
  assert.ok(Math.abs(scored.pFake - direct) < 1e-5, `${scored.pFake} vs ${direct}`);
  // Not just the resized image's score.
  const [resized] = await scoreImages(new TfjsEngine(model), [image], {
    imageSize: 64,
    resize: 'nearest',
    scoring: 'resize',
  });
  assert.ok(Math.abs(resized.pFake - scored.pFake) > 1e-4, 'native differs from resize on this image');
  await engine.dispose();
  tf.dispose([cropped]);
  twin.dispose();
});

test('native: global average pooling with no padding effects scores a 2x2 mosaic of a tile as the tile, by hand', async () => {
  await initBackend('wasm');
  // 1x1 convolution (3 -> 2, ReLU) > global average > dense: every pixel counts alike, wherever it is.
  const input = tf.input({ shape: [64, 64, 3] });
  const conv = tf.layers.conv2d({ filters: 2, kernelSize: 1, activation: 'relu' });
  const dense = tf.layers.dense({ units: 2, activation: 'sigmoid' });
  const out = dense.apply(tf.layers.globalAveragePooling2d({}).apply(conv.apply(input) as tf.SymbolicTensor));
  const model = tf.model({ inputs: input, outputs: out as tf.SymbolicTensor });
  const k = [
    [1, -1],
    [-0.5, 2],
    [0.25, -1],
  ];
  conv.setWeights([tf.tensor4d(k.flat(), [1, 1, 3, 2]), tf.tensor1d([0.1, -0.2])]);
  dense.setWeights([
    tf.tensor2d([
      [1, -2],
      [-1, 3],
    ]),
    tf.tensor1d([0.3, -0.4]),
  ]);
  const tile = noiseImage(64, 64, 21);
  const mosaic: RgbImage = { data: new Uint8Array(128 * 128 * 3), width: 128, height: 128 };
  for (let y = 0; y < 128; y++)
    mosaic.data.set(tile.data.subarray((y % 64) * 64 * 3, ((y % 64) + 1) * 64 * 3), y * 128 * 3);
  for (let y = 0; y < 128; y++) mosaic.data.copyWithin((y * 128 + 64) * 3, y * 128 * 3, (y * 128 + 64) * 3);
  // By hand: mean over pixels of relu(k^T rgb + b), then the dense layer and pFake = p1 / (p0 + p1).
  const f = [0, 0];
  for (let p = 0; p < 64 * 64; p++) {
    const rgb = [0, 1, 2].map((c) => tile.data[p * 3 + c] / 255);
    f[0] += Math.max(0, rgb[0] * k[0][0] + rgb[1] * k[1][0] + rgb[2] * k[2][0] + 0.1) / 4096;
    f[1] += Math.max(0, rgb[0] * k[0][1] + rgb[1] * k[1][1] + rgb[2] * k[2][1] - 0.2) / 4096;
  }
  const p0 = sigmoid(f[0] * 1 + f[1] * -1 + 0.3);
  const p1 = sigmoid(f[0] * -2 + f[1] * 3 - 0.4);
  const byHand = p1 / (p0 + p1);
  const engine = new TfjsEngine(await freeSizeCopy(model), true);
  const settings = { imageSize: 64, resize: 'nearest' as const, scoring: 'native' as const };
  const [whole, single] = await scoreImages(engine, [mosaic, tile], settings);
  assert.ok(Math.abs(single.pFake - byHand) < 1e-5, `${single.pFake} vs ${byHand}`);
  assert.ok(Math.abs(whole.pFake - byHand) < 1e-5, `${whole.pFake} vs ${byHand}`);
  engine.dispose();
  model.dispose();
});

test('native: every family pools globally (study, resnet, facefeat accepted); fixed-size layers are refused in one line', async () => {
  await initBackend('wasm');
  const base = { dropout: 0, seed: 1, input: 'unit' as const, width: 4, depth: 2, facePooling: 'mean' as const };
  const study = buildFamilyModel({ ...base, model: 'study', imageSize: 64 });
  assert.equal(fixedSizeLayer(study), null);
  // The study's CNN at its own size through the free-size copy: the same score as the fixed model.
  randomizeWeights(study, 4);
  const copy = await freeSizeCopy(study);
  const x = tf.tidy(() => tf.tensor4d(noiseImage(64, 64, 2).data, [1, 64, 64, 3]).div(255));
  const [a, b] = [study, copy].map((m) => tf.tidy(() => fakeScores(m.predict(x) as tf.Tensor2D).dataSync()[0]));
  assert.ok(Math.abs(a - b) < 1e-6);
  const bigger = tf.tidy(() => fakeScores(copy.predict(tf.zeros([1, 80, 112, 3])) as tf.Tensor2D).dataSync()[0]);
  assert.ok(Number.isFinite(bigger));
  assert.equal(fixedSizeLayer(buildFamilyModel({ ...base, model: 'resnet', imageSize: 64 })), null);

  // facefeat: the frozen face-recognition backbone pools each stage over the whole image (mean, or mean and spread).
  const head = buildFaceHead({ dropout: 0, seed: 3, facePooling: 'meanstd' });
  const face = assembleFaceModel(112, head, 'meanstd');
  assert.equal(fixedSizeLayer(face), null);
  const faceCopy = await freeSizeCopy(face);
  const free = assembleFaceModel(null, head, 'meanstd');
  const photo = tf.tidy(() => tf.tensor4d(noiseImage(120, 136, 8).data, [1, 136, 120, 3]).div(255));
  const [c, d] = [faceCopy, free].map((m) => tf.tidy(() => fakeScores(m.predict(photo) as tf.Tensor2D).dataSync()[0]));
  assert.ok(Math.abs(c - d) < 1e-5, `${c} vs ${d}`);

  // A Flatten before the head needs a fixed size: refused, naming the family, the layer and the alternative.
  const flat = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [64, 64, 3], filters: 2, kernelSize: 3, name: 'conv' }),
      tf.layers.flatten({ name: 'flatten' }),
      tf.layers.dense({ units: 2, activation: 'sigmoid' }),
    ],
  });
  const flatRun = await runWith(flat);
  const refusal = await loadScoringEngine(flatRun, { scoring: 'native', engine: 'tfjs' }).then(
    () => null,
    (err: Error) => err.message,
  );
  assert.ok(refusal);
  assert.equal(refusal.split('\n').length, 1);
  assert.match(
    refusal,
    /model family study has layer flatten \(Flatten\), which needs a fixed input size; use --scoring tiles/,
  );
  assert.throws(
    () => checkNativeScoring(cornerModel(), 'custom', 'here'),
    /model family custom has layer .*Cropping2D/,
  );
  // One native pass holds the whole image's activations: over 4 megapixels is refused, naming the file.
  assert.doesNotThrow(() => checkNativeSize({ width: 2048, height: 2048 }, 'big.png'));
  assert.throws(
    () => checkNativeSize({ width: 2049, height: 2048 }, 'big.png'),
    /^Error: big\.png: 2049x2048 is over the 4 megapixels --scoring native takes in one pass; use --scoring tiles$/,
  );
  // Native runs on tfjs only; tiles takes any engine.
  await assert.rejects(
    loadScoringEngine(flatRun, { scoring: 'native', engine: 'onnx' }),
    /runs on tfjs .*--engine tfjs or auto/,
  );
  // A predictor cannot be asked for native scoring with an engine of fixed size.
  assert.throws(
    () =>
      new Predictor(new TfjsEngine(cornerModel()), {
        imageSize: 128,
        resize: 'nearest',
        threshold: 0.5,
        scoring: 'native',
      }),
    /needs an engine on a free-size model/,
  );
  tf.dispose([x, photo]);
  for (const m of [study, copy, face, faceCopy, flat]) m.dispose();
});

test('CLI: predict and evaluate --scoring tiles/native on synthetic data; evaluate needs the originals', async () => {
  await initBackend('wasm');
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'rf-scoring-cli-'));
  const synth = realfake(['synth', '--out', 'faces', '--count', '6', '--size', '160', '--seed', '4'], cwd);
  assert.equal(synth.code, 0, synth.stderr);
  const pre = realfake(
    ['preprocess', '--real', 'faces/real', '--fake', 'faces/fake', '--out', 'prepared', '--size', '64'],
    cwd,
  );
  assert.equal(pre.code, 0, pre.stderr);
  const runDir = await createRandomRun(cwd, 64, 5);

  const evaluate = realfake(['evaluate', '--run', runDir, '--data', 'prepared', '--scoring', 'tiles'], cwd);
  assert.equal(evaluate.code, 0, evaluate.stderr);
  assert.match(evaluate.stdout, /scoring tiles: 12 originals re-read, 108 tiles, 0 too small/);
  const metrics = JSON.parse(fs.readFileSync(path.join(runDir, 'metrics.external.json'), 'utf8'));
  assert.deepEqual(metrics.scoring, { mode: 'tiles', ttaFlip: false, models: 1, resizedFallback: 0, tiles: 108 });
  const rows = parsePredictionsCsv(fs.readFileSync(path.join(runDir, 'predictions.external.csv'), 'utf8'));
  const evaluated = new Map(rows.map((r) => [path.resolve(r.file), r.pFake]));
  assert.equal(evaluated.size, 12);

  // predict gives each file the same tile-averaged score, and says how it scored it.
  const predict = realfake(['predict', '--run', runDir, '--json', '--scoring', 'tiles', 'faces'], cwd);
  assert.equal(predict.code, 0, predict.stderr);
  const predictions = predict.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(predictions.length, 12);
  for (const p of predictions) {
    assert.equal(p.scoring, 'tiles');
    assert.equal(p.tiles, 9); // 160 px at 64: starts 0, 48, 96 both ways
    assert.ok(Math.abs(p.pFake - evaluated.get(path.resolve(cwd, p.file))!) < 1e-4, p.file);
  }
  // The known answer, in this process: the run's model on the 9 tiles of one image, averaged.
  const first = predictions[0];
  const image = await sharp(path.resolve(cwd, first.file)).removeAlpha().raw().toBuffer();
  const model = await loadModel(path.join(runDir, 'model'));
  const tiles = tileGrid(160, 160, 64).map((t) =>
    cutTile({ data: new Uint8Array(image), width: 160, height: 160 }, t, 64),
  );
  const byTile = tf.tidy(() =>
    fakeScores(
      model.predict(
        tf.tensor4d(Float32Array.from(tiles.flatMap((t) => Array.from(t, (v) => v / 255))), [9, 64, 64, 3]),
      ) as tf.Tensor2D,
    ).dataSync(),
  );
  const mean = Array.from(byTile).reduce((a, b) => a + b, 0) / 9;
  assert.ok(Math.abs(first.pFake - mean) < 1e-4, `${first.pFake} vs ${mean}`);
  model.dispose();

  // native (the study CNN pools globally) and --tta-flip together; resize output has no scoring fields.
  const native = realfake(['predict', '--run', runDir, '--json', '--scoring', 'native', '--tta-flip', first.file], cwd);
  assert.equal(native.code, 0, native.stderr);
  assert.equal(JSON.parse(native.stdout).scoring, 'native');
  assert.match(native.stderr, /free-size copy/);
  const plain = realfake(['predict', '--run', runDir, '--json', first.file], cwd);
  assert.equal(JSON.parse(plain.stdout).scoring, undefined);

  // Originals moved: tiles cannot be scored (one line naming the file), resize still can.
  fs.renameSync(path.join(cwd, 'faces'), path.join(cwd, 'moved'));
  const gone = realfake(['evaluate', '--run', runDir, '--data', 'prepared', '--scoring', 'tiles'], cwd);
  assert.equal(gone.code, 1);
  assert.equal(gone.stderr.trim().split('\n').length, 1, gone.stderr);
  assert.match(gone.stderr, /faces.*original image of row 0 not found .*use --scoring resize/);
  const resized = realfake(['evaluate', '--run', runDir, '--data', 'prepared'], cwd);
  assert.equal(resized.code, 0, resized.stderr);
  assert.equal(JSON.parse(fs.readFileSync(path.join(runDir, 'metrics.external.json'), 'utf8')).scoring.mode, 'resize');
});
