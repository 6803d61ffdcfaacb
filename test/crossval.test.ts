/**
 * Leave-one-source-out cross-validation on the synthetic set made as two "sources" per class: the folds' rows,
 * the matrix read back from each fold's own predictions, resuming, and the one-line refusals.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { resolveConfig } from '../lib/config';
import { crossvalMatrix, runCrossval, sourceFolds, sourceKey, writeCrossvalReport } from '../lib/crossval';
import { loadDataset } from '../lib/data/dataset';
import { preprocessFolders } from '../lib/data/preprocess';
import { linkSynthSources } from '../lib/data/source-folders';
import { parsePredictionsCsv } from '../lib/eval/compare';
import { evaluateRun } from '../lib/eval/evaluate';
import { loadModel } from '../lib/model/model-io';
import { cacheFeatures, clearFeatureMemo, featureFile } from '../lib/train/frozen-features';
import { perSourceMetrics } from '../lib/eval/per-source';
import { readJson } from '../lib/files';

/** real/{a,b} and fake/{a,b}: two synthetic sets (other seeds and difficulty) as two sources per class. */
async function twoSourceDataset(root: string, set = { count: 12, size: 64, seed: 1 }): Promise<string> {
  const dataRoot = path.join(root, 'data');
  await linkSynthSources(dataRoot, set, () => undefined);
  const dataDir = path.join(root, 'dataset');
  await preprocessFolders({
    realDir: path.join(dataRoot, 'real'),
    fakeDir: path.join(dataRoot, 'fake'),
    out: dataDir,
    size: set.size,
  });
  return dataDir;
}

const config = resolveConfig({
  preset: 'smoke',
  overrides: {
    epochs: 2,
    batchSize: 8,
    limitPerClass: null,
    valFraction: 0.25,
    testFraction: 0.25,
    stratifyBySource: true,
  },
});

test('crossval --by-source: folds leave each source out of training and test on all of it; the matrix is read from the folds', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'realfake-crossval-'));
  const dataDir = await twoSourceDataset(root);
  const dataset = loadDataset(dataDir);
  const key = (row: number) => sourceKey(dataset.y[row], dataset.sources[row]);

  const folds = sourceFolds(dataset.y, dataset.sources, config);
  assert.deepEqual(
    folds.map((f) => f.name),
    ['all sources', 'without fake/a', 'without fake/b', 'without real/a', 'without real/b'],
  );
  const base = folds[0].split;
  // 12 images per source: validation ceil(3) and test ceil(3) of each, so the base test part holds 4 x 3.
  assert.deepEqual([base.train.length, base.val.length, base.test.length], [24, 12, 12]);
  for (const fold of folds.slice(1)) {
    assert.equal([...fold.split.train, ...fold.split.val].filter((r) => key(r) === fold.heldOut).length, 0, fold.name);
    assert.equal(
      fold.split.test.filter((r) => key(r) === fold.heldOut).length,
      12,
      `${fold.name}: every image of the held-out source is tested`,
    );
    assert.deepEqual(
      fold.split.test.filter((r) => key(r) !== fold.heldOut),
      base.test.filter((r) => key(r) !== fold.heldOut),
    );
  }
  assert.throws(
    () => sourceFolds(dataset.y, dataset.sources, config, ['fake/zzz']),
    /--hold-out: no source fake\/zzz \(the sources: fake\/a, fake\/b, real\/a, real\/b\)/,
  );
  assert.throws(
    () => sourceFolds(dataset.y, dataset.sources, { ...config, testFraction: 0 }),
    /needs a test part \(testFraction > 0\)/,
  );
  const oneReal = dataset.sources.map((s, row) => (dataset.y[row] === 0 ? 'only' : s));
  assert.throws(() => sourceFolds(dataset.y, oneReal, config), /holding out real\/only leaves no real training images/);

  const out = path.join(root, 'cv');
  const lines: string[] = [];
  const result = await runCrossval({
    dataDir,
    config,
    preset: 'smoke',
    out,
    holdOut: ['fake/a', 'real/b'],
    log: (l) => lines.push(l),
  });
  assert.deepEqual(
    result.folds.map((f) => f.name),
    ['all sources', 'without fake/a', 'without real/b'],
  );
  assert.deepEqual(result.folds[1].trainSources, ['fake/b', 'real/a', 'real/b']);
  // Each cell equals the per-source metrics recomputed from that fold's own predictions.csv.
  const auc = crossvalMatrix(result, 'auc');
  for (const [i, fold] of result.folds.entries()) {
    const predictions = parsePredictionsCsv(fs.readFileSync(path.join(fold.runDir, 'predictions.csv'), 'utf8'));
    const runConfig = readJson<{ threshold: number; seed: number }>(path.join(fold.runDir, 'config.json'));
    const recomputed = perSourceMetrics(
      predictions.map((p) => p.label),
      predictions.map((p) => p.pFake),
      predictions.map((p) => p.source ?? ''),
      runConfig.threshold,
      { seed: runConfig.seed },
    );
    for (const m of recomputed)
      assert.equal(
        auc.values[i][auc.columns.indexOf(sourceKey(m.label, m.source))],
        m.auc.estimate,
        `${fold.name} ${m.source}`,
      );
    const split = readJson<{ test: number[] }>(path.join(fold.runDir, 'split.json'));
    assert.deepEqual(split.test, folds.find((f) => f.name === fold.name)!.split.test);
  }
  assert.equal(result.folds[1].perSource.find((m) => sourceKey(m.label, m.source) === 'fake/a')?.n, 12);

  // Resuming trains nothing again.
  const again = await runCrossval({
    dataDir,
    config,
    preset: 'smoke',
    out,
    holdOut: ['fake/a', 'real/b'],
    log: () => undefined,
  });
  assert.deepEqual(
    again.folds.map((f) => f.runDir),
    result.folds.map((f) => f.runDir),
  );
  assert.equal(fs.readdirSync(path.join(out, 'runs')).length, 3);

  const report = await writeCrossvalReport(result, out);
  assert.match(report.markdown, /\| without fake\/a \|.*\*\*\d\.\d{3} \(rec \d\.\d{3}\)\*\*/);
  assert.ok(fs.existsSync(path.join(out, 'figures', 'source_matrix.html')));
});

test('crossval scores facefeat folds from cached backbone features: the same pFake as evaluating the saved model', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'realfake-crossval-ff-'));
  const dataDir = await twoSourceDataset(root, { count: 6, size: 112, seed: 4 });
  const faces = resolveConfig({
    preset: 'faces',
    overrides: { imageSize: 112, resize: 'nearest', epochs: 2, warmupEpochs: 0, valFraction: 0.25, testFraction: 0.25 },
  });
  const result = await runCrossval({
    dataDir,
    config: faces,
    preset: 'faces',
    out: path.join(root, 'cv'),
    holdOut: ['fake/b'],
    log: () => undefined,
  });
  // The features were saved beside the dataset: a new process (memo cleared) computes none of them again.
  const dataset = loadDataset(dataDir);
  const file = featureFile(dataDir, dataset.info.fingerprint, faces);
  assert.ok(fs.existsSync(file), `${file} written`);
  clearFeatureMemo();
  const model = await loadModel(path.join(result.folds[0].runDir, 'model'));
  let computed = 0;
  const all = Array.from({ length: dataset.n }, (_, i) => i);
  const cache = await cacheFeatures(model, dataset, all, [], { file, onProgress: (done) => (computed = done) });
  model.dispose();
  assert.equal(computed, 0, 'nothing computed again');
  // Every image plain; mirrored: all but the 6 validation images of the common split (they are never flipped).
  assert.deepEqual([cache.plain.size, cache.flipped.size], [dataset.n, dataset.n - 6]);
  for (const fold of result.folds) {
    const fromFeatures = parsePredictionsCsv(fs.readFileSync(path.join(fold.runDir, 'predictions.csv'), 'utf8'));
    const evaluated = await evaluateRun(fold.runDir, { engine: 'tfjs', writeFiles: false });
    assert.deepEqual(
      fromFeatures.map((p) => p.file),
      evaluated.predictions.map((p) => p.file),
    );
    fromFeatures.forEach((p, i) =>
      assert.ok(
        Math.abs(p.pFake - evaluated.predictions[i].pFake) < 1e-5,
        `${fold.name} ${p.file}: ${p.pFake} vs ${evaluated.predictions[i].pFake}`,
      ),
    );
  }
});
