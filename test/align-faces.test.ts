/**
 * Preprocessing with alignFaces: a face photo's row is the very pixels `predict --faces` scores for that file;
 * a photo with no face found keeps the whole image, resized exactly as without alignFaces, and says so; the
 * setting reaches the cache key, cache freshness, the config and the CLI, and training refuses a dataset made
 * the other way. Evaluation at native resolution scores an aligned row's face square.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { initBackend } from '../lib/backend/backend';
import { configFromFlags } from '../lib/cli/config-flags';
import { resolveConfig } from '../lib/config';
import { datasetImage, loadDataset, readManifest } from '../lib/data/dataset';
import { datasetCacheDir, datasetCacheKey } from '../lib/data/dataset-cache';
import { decodeImageRgb } from '../lib/data/images';
import { scoreSourceImages } from '../lib/eval/source-scoring';
import { cropAtOwnSize } from '../lib/faces/crop';
import { scoreImages } from '../lib/infer/scoring';
import { datasetCacheIsFresh, preprocessFolders } from '../lib/data/preprocess';
import { cropPixels, predictFaces } from '../lib/infer/faces';
import { Predictor } from '../lib/infer/predict';
import { buildModel } from '../lib/model/model';
import { trainRun } from '../lib/train/experiment';
import { facesDiffusionDevFile, facesDiffusionDevSkip } from './fixtures/faces';
import { noiseRgba } from './fixtures/images';
import { createRunHolding } from './fixtures/runs';

let tmp: string;

before(async () => {
  await initBackend('wasm');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'realfake-align-'));
});

after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Two images no face detector finds a face in: a flat grey photo and a blurred noise texture. */
async function faceless(dir: string, seed: number): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  await sharp({ create: { width: 300, height: 200, channels: 3, background: { r: 128, g: 128, b: 128 } } })
    .png()
    .toFile(path.join(dir, `grey${seed}.png`));
  await sharp(noiseRgba(180, 240, seed), { raw: { width: 180, height: 240, channels: 4 } })
    .removeAlpha()
    .blur(3)
    .jpeg({ quality: 90 })
    .toFile(path.join(dir, `texture${seed}.jpg`));
}

test('no face found: the whole image, resized exactly as without alignFaces, recorded as whole', async () => {
  const root = path.join(tmp, 'faceless');
  await faceless(path.join(root, 'real'), 1);
  await faceless(path.join(root, 'fake'), 2);
  const base = {
    realDir: path.join(root, 'real'),
    fakeDir: path.join(root, 'fake'),
    size: 64,
    resize: 'lanczos3' as const,
  };
  const plain = await preprocessFolders({ ...base, out: path.join(root, 'plain') });
  const aligned = await preprocessFolders({ ...base, out: path.join(root, 'aligned'), alignFaces: true });

  assert.equal(aligned.info.alignFaces, true);
  assert.deepEqual(aligned.info.aligned, { real: 0, fake: 0 });
  assert.equal(plain.info.alignFaces, false);
  assert.equal(plain.info.aligned, undefined);
  assert.match(aligned.summary, /faces aligned in 0 \(real 0, fake 0; the rest whole\)/);
  assert.equal(aligned.info.fingerprint, plain.info.fingerprint, 'the same pixels and labels as without alignFaces');
  const rows = readManifest(path.join(root, 'aligned', 'manifest.csv'));
  assert.deepEqual(
    rows.map((r) => [path.basename(r.path), r.status, r.face, r.faceBox]),
    [
      ['grey1.png', 'ok', 'whole', undefined],
      ['texture1.jpg', 'ok', 'whole', undefined],
      ['grey2.png', 'ok', 'whole', undefined],
      ['texture2.jpg', 'ok', 'whole', undefined],
    ],
  );
  const header = (dir: string) => fs.readFileSync(path.join(root, dir, 'manifest.csv'), 'utf8').split('\n')[0];
  assert.match(header('aligned'), /,face,face_box$/);
  assert.doesNotMatch(header('plain'), /face/, 'datasets made without alignFaces keep their manifest columns');

  // Cache freshness follows the setting.
  assert.equal(datasetCacheIsFresh({ ...base, out: path.join(root, 'aligned'), alignFaces: true }), true);
  assert.equal(datasetCacheIsFresh({ ...base, out: path.join(root, 'aligned') }), false);
  assert.equal(datasetCacheIsFresh({ ...base, out: path.join(root, 'plain'), alignFaces: true }), false);

  // Training refuses a dataset made the other way, both ways round.
  const config = resolveConfig({ preset: 'smoke', overrides: { resize: 'lanczos3' } });
  const runsDir = path.join(root, 'runs');
  await assert.rejects(
    trainRun({
      dataDir: path.join(root, 'plain'),
      config: { ...config, alignFaces: true },
      preset: 'smoke',
      runsDir,
      log: null,
    }),
    /preprocessed without --align-faces but the config says alignFaces true/,
  );
  await assert.rejects(
    trainRun({ dataDir: path.join(root, 'aligned'), config, preset: 'smoke', runsDir, log: null }),
    /preprocessed with --align-faces but the config says alignFaces false/,
  );
  assert.equal(fs.existsSync(runsDir), false, 'no run folder for a refused dataset');
});

test('the cache key, the config and the flags carry alignFaces', () => {
  const root = path.join(tmp, 'keys');
  fs.mkdirSync(path.join(root, 'real'), { recursive: true });
  fs.mkdirSync(path.join(root, 'fake'), { recursive: true });
  const source = { kind: 'user' as const, realDir: path.join(root, 'real'), fakeDir: path.join(root, 'fake') };
  const settings = { imageSize: 64, resize: 'nearest' as const, limitPerClass: 10 };
  assert.notEqual(datasetCacheKey(source, { ...settings, alignFaces: true }), datasetCacheKey(source, settings));
  assert.equal(datasetCacheKey(source, { ...settings, alignFaces: false }), datasetCacheKey(source, settings));
  assert.match(datasetCacheDir(source, { ...settings, alignFaces: true }, root), /-nearest-aligned-10-[0-9a-f]{12}$/);

  assert.equal(resolveConfig().alignFaces, false, "the study's default");
  assert.equal(resolveConfig({ preset: 'faces' }).alignFaces, false);
  assert.equal(configFromFlags({ preset: 'faces', alignFaces: true }).alignFaces, true);
  assert.throws(
    () => resolveConfig({ overrides: { alignFaces: 'yes' as unknown as boolean } }),
    /^Error: config: alignFaces must be true or false \(got yes\)$/,
  );
  assert.throws(
    () => configFromFlags({ alignFaces: true, harmonize: true }),
    /alignFaces cannot be combined with harmonize/,
  );
});

test(
  "a face photo's row is the very pixels predict --faces scores for it; independent of concurrency",
  { skip: facesDiffusionDevSkip() },
  async () => {
    const root = path.join(tmp, 'photos');
    // Photos that are not aligned crops, where the detector finds a face (an Unsplash man, a Stable Diffusion
    // portrait; measured: both files 0 of these folders have none found), and two faceless images.
    const photos = {
      real: facesDiffusionDevFile('real/unsplash_men', 1),
      fake: facesDiffusionDevFile('fake/sd14_blonde_woman', 1),
    };
    for (const [label, file] of Object.entries(photos)) {
      fs.mkdirSync(path.join(root, label), { recursive: true });
      fs.copyFileSync(file, path.join(root, label, `a-${path.basename(file)}`));
    }
    await faceless(path.join(root, 'fake'), 3);
    const config = resolveConfig({ preset: 'smoke', overrides: { resize: 'lanczos3', alignFaces: true } });
    const base = {
      realDir: path.join(root, 'real'),
      fakeDir: path.join(root, 'fake'),
      size: config.imageSize,
      resize: config.resize,
      alignFaces: true,
    };
    const made = await preprocessFolders({ ...base, out: path.join(root, 'c2'), concurrency: 2 });
    const one = await preprocessFolders({ ...base, out: path.join(root, 'c1'), concurrency: 1 });
    assert.equal(one.info.fingerprint, made.info.fingerprint, 'the same bytes at any concurrency');
    assert.deepEqual(made.info.aligned, { real: 1, fake: 1 });

    const model = buildModel(config);
    const predictor = await Predictor.fromRun(await createRunHolding(path.join(root, 'runs'), model, config));
    model.dispose();
    const dataset = loadDataset(path.join(root, 'c2'));
    const rows = readManifest(dataset.manifestPath).filter((r) => r.status === 'ok');
    assert.deepEqual(
      rows.map((r) => r.face),
      ['aligned', 'aligned', 'whole', 'whole'],
    );
    try {
      for (const [row, r] of rows.slice(0, 2).entries()) {
        const predicted = await predictFaces(predictor, r.path);
        assert.ok(predicted.faces.length >= 1, `${r.path}: prediction finds a face`);
        const largest = predicted.faces[0];
        assert.deepEqual(r.faceBox, largest.crop, `${r.path}: the manifest's face_box is the square prediction scores`);
        const scored = await cropPixels(await decodeImageRgb(r.path), largest.crop, predictor);
        assert.ok(
          Buffer.from(datasetImage(dataset, row)).equals(Buffer.from(scored)),
          `${r.path}: row ${row} is the pixels prediction scores`,
        );
      }
      // Plain predict on a run trained on aligned faces frames every file as preprocessing did: face or whole.
      for (const [row, r] of rows.entries()) {
        const pixels = await predictor.loadPixels(r.path);
        assert.ok(
          Buffer.from(datasetImage(dataset, row)).equals(Buffer.from(pixels)),
          `${r.path}: predict loads row ${row}'s pixels`,
        );
      }
      // Evaluation at native resolution re-reads the originals: an aligned row is its face's square, a whole row the photo.
      const settings = { imageSize: config.imageSize, resize: config.resize, scoring: 'tiles' as const };
      const fromSources = await scoreSourceImages(predictor.engine, dataset, [0, 1, 2, 3], settings);
      const originals = await Promise.all(rows.map(async (r) => decodeImageRgb(r.path)));
      const framed = originals.map((image, i) => (rows[i].faceBox ? cropAtOwnSize(image, rows[i].faceBox!) : image));
      const expected = (await scoreImages(predictor.engine, framed, settings)).map((s) => s.pFake);
      assert.deepEqual(Array.from(fromSources.scores), Array.from(Float32Array.from(expected)));
      const whole = (await scoreImages(predictor.engine, originals.slice(0, 1), settings))[0].pFake;
      assert.notEqual(fromSources.scores[0], Math.fround(whole), 'the face, not the whole photo');
    } finally {
      await predictor.dispose();
    }
  },
);
