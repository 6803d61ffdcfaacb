/**
 * The notebooks' parameters (notebooks/params.json, lib/notebook/params.ts) and the lookups the notebooks share
 * with the CLI: one file drives every notebook, runs and datasets made with other parameters are refused with
 * the differences named, and the helpers that moved out of lib/notebook/notebook.ts do what they did.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PRESETS, resolveConfig, STUDY_DEFAULTS } from '../lib/config';
import { ensureDataset, requireCachedDataset, datasetCacheDir } from '../lib/data/dataset-cache';
import { synthSource } from '../lib/data/sources';
import { generateSynthDataset } from '../lib/data/synth';
import { misclassified } from '../lib/eval/misclassified';
import { computeMetrics } from '../lib/metrics/metrics';
import { formatMetricsTable, metricsTableRows } from '../lib/eval/tables';
import { paramsHtml } from '../lib/notebook/notebook';
import { configDifferences, editNotebookParams, readNotebookParams, requireRunFor } from '../lib/notebook/params';
import { createRun, requireRun } from '../lib/runs/runs';
import { verdictGaugeFigure } from '../lib/viz/plots';
import { projectRoot } from '../lib/files';

const tmpDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'rf-params-'));

function withEnv<T>(vars: Record<string, string | undefined>, fn: () => T): T {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const apply = (values: Record<string, string | undefined>) => {
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
  apply(vars);
  try {
    return fn();
  } finally {
    apply(saved);
  }
}

test('the committed notebooks/params.json opens on the quick preset and names the switch to the full study', () => {
  const file = path.join(projectRoot(), 'notebooks', 'params.json');
  const params = withEnv({ REALFAKE_PRESET: undefined, REALFAKE_PARAMS: undefined }, () => readNotebookParams(file));
  assert.equal(params.preset, 'smoke');
  assert.deepEqual(params.config, resolveConfig({ preset: 'smoke' }));
  assert.match(fs.readFileSync(file, 'utf8'), /FULL STUDY: change the next line to \\"preset\\": \\"study\\"/);
});

test('one file drives every notebook: preset < overrides, REALFAKE_PRESET replaces the preset, edits persist', () => {
  const file = path.join(tmpDir(), 'params.json');
  fs.writeFileSync(
    file,
    JSON.stringify({ preset: 'smoke', overrides: { epochs: 3, learningRate: STUDY_DEFAULTS.learningRate } }),
  );
  const params = withEnv({ REALFAKE_PRESET: undefined }, () => readNotebookParams(file));
  assert.equal(params.config.epochs, 3);
  assert.equal(
    params.config.learningRate,
    STUDY_DEFAULTS.learningRate,
    'a value equal to the study default is kept, not replaced',
  );
  assert.equal(params.config.imageSize, PRESETS.smoke.imageSize);
  const study = withEnv({ REALFAKE_PRESET: 'study' }, () => readNotebookParams(file));
  assert.equal(study.presetFrom, 'REALFAKE_PRESET');
  assert.equal(study.config.imageSize, 128);
  assert.equal(study.config.epochs, 3);
  const edited = withEnv({ REALFAKE_PRESET: undefined }, () => editNotebookParams({ splitSeed: 9 }, file));
  assert.equal(edited.config.splitSeed, 9);
  assert.equal(edited.config.epochs, 3);
  assert.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8')).overrides, {
    epochs: 3,
    learningRate: STUDY_DEFAULTS.learningRate,
    splitSeed: 9,
  });
  assert.throws(() => editNotebookParams({ imageSize: 10 }, file), /imageSize must be at least 64/);
  assert.equal(JSON.parse(fs.readFileSync(file, 'utf8')).overrides.imageSize, undefined, 'a bad value is not written');
  fs.writeFileSync(file, JSON.stringify({ preset: 'fast' }));
  assert.throws(
    () => withEnv({ REALFAKE_PRESET: undefined }, () => readNotebookParams(file)),
    /params\.json: preset: unknown preset "fast"/,
  );
  const html = paramsHtml(params);
  assert.match(html, /preset &#34;smoke&#34;/);
  assert.match(html, /<td[^>]*>epochs<\/td><td[^>]*>3<\/td>/);
});

test('every notebook reads its parameters from params.json in its first code cell, and defines none of its own', () => {
  const dir = path.join(projectRoot(), 'notebooks');
  for (const name of fs.readdirSync(dir).filter((f) => f.endsWith('.ipynb'))) {
    const nb = JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8'));
    const code = nb.cells
      .filter((c: { cell_type: string }) => c.cell_type === 'code')
      .map((c: { source: string[] }) => c.source.join(''));
    assert.match(code[0], /const params = readNotebookParams\(\);/, `${name}: first code cell`);
    assert.match(code[0], /showParams\(params\)/, `${name}: shows them`);
    for (const cell of code)
      assert.doesNotMatch(cell, /Partial<Config>\s*=\s*\{/, `${name}: a parameter object of its own`);
  }
});

function fakeRun(root: string, config = resolveConfig({ preset: 'smoke' })): string {
  const run = createRun({
    root,
    config,
    preset: 'smoke',
    dataDir: root,
    datasetFingerprint: 'x',
    split: { train: [], val: [], test: [] },
  });
  fs.mkdirSync(path.join(run.dir, 'model'));
  fs.writeFileSync(path.join(run.dir, 'model', 'model.json'), '{}');
  return run.dir;
}

test('a notebook uses only a run made with its parameters, and says which differ and what to re-run', () => {
  const root = tmpDir();
  const smoke = resolveConfig({ preset: 'smoke' });
  assert.throws(
    () => requireRunFor(smoke, null, root),
    /no trained run in .*: run notebooks\/03_training\.ipynb first/,
  );
  const matching = fakeRun(root);
  const other = fakeRun(root, resolveConfig({ preset: 'smoke', overrides: { epochs: 2, workers: 1 } })); // newer
  assert.equal(
    requireRunFor(smoke, null, root),
    matching,
    'the newest run made with these parameters, not the newest run',
  );
  assert.equal(requireRun(null, root), other);
  const wanted = resolveConfig({ preset: 'smoke', overrides: { learningRate: 0.01 } });
  assert.throws(
    () => requireRunFor(wanted, null, root),
    /no run in .* was trained with the parameters in notebooks\/params\.json \(the newest, \S+, differs in epochs: params 12 ≠ run 2; learningRate: params 0\.01 ≠ run 0\.001\): run notebooks\/03_training\.ipynb again/,
  );
  assert.throws(
    () => requireRunFor(wanted, matching, root),
    /was trained with other parameters \(learningRate: params 0\.01 ≠ run 0\.001\)/,
  );
  assert.deepEqual(configDifferences(smoke, { ...smoke, workers: 7 }), [], 'the thread count does not change a run');
});

test('the CLI pipeline and the notebooks find a dataset by the same key; other settings are refused', async () => {
  const dataRoot = tmpDir();
  await generateSynthDataset({ out: path.join(dataRoot, 'synth'), count: 4, size: 64, seed: 1 });
  const settings = { imageSize: 64, resize: 'nearest' as const, limitPerClass: 4 };
  assert.throws(
    () => requireCachedDataset(settings, dataRoot),
    /no preprocessed dataset of .* at 64px \(nearest, 4 per class\).*run notebooks\/01_preprocessing\.ipynb first/,
  );
  const made = await ensureDataset(synthSource(dataRoot), settings, dataRoot, () => undefined);
  assert.equal(made, datasetCacheDir(synthSource(dataRoot), settings, dataRoot));
  assert.equal(requireCachedDataset(settings, dataRoot), made);
  assert.throws(() => requireCachedDataset({ ...settings, resize: 'bilinear' }, dataRoot), /nearest|bilinear/);
  assert.notEqual(
    datasetCacheDir(synthSource(dataRoot), { ...settings, limitPerClass: 3 }, dataRoot),
    made,
    'the limit is in the key',
  );
  // New source bytes (another synth seed) are another key: the old cache is not reused for them.
  await generateSynthDataset({ out: path.join(dataRoot, 'synth'), count: 4, size: 64, seed: 2 });
  assert.notEqual(datasetCacheDir(synthSource(dataRoot), settings, dataRoot), made);
  assert.throws(() => requireCachedDataset(settings, dataRoot), /no preprocessed dataset/);
});

test('moved helpers: metrics table rows, misclassified order, gauge figure', () => {
  const m = { ...computeMetrics([0, 0, 1, 1], [0.1, 0.7, 0.8, 0.3]), split: 'val' };
  const rows = metricsTableRows(m);
  assert.deepEqual(
    rows.map((r) => r.metric),
    [
      'images scored',
      'accuracy',
      'precision',
      'recall',
      'f1',
      'specificity',
      'ROC AUC',
      'average precision',
      'TP / FP / FN / TN',
    ],
  );
  assert.equal(rows[1].value, '0.5000');
  assert.equal(rows[8].value, '1 / 1 / 1 / 1');
  assert.match(formatMetricsTable(m), /^accuracy\s+0\.5000\s+\(TP \+ TN\) \/ n$/m);
  const wrong = misclassified(
    [
      { file: 'a', label: 0, pFake: 0.7 },
      { file: 'b', label: 1, pFake: 0.3 },
      { file: 'c', label: 1, pFake: 0.05 },
      { file: 'd', label: 0, pFake: 0.1 },
      { file: 'e', pFake: 0.9 },
    ],
    0.5,
  );
  assert.deepEqual(
    wrong.map((w) => w.file),
    ['c', 'b', 'a'],
  );
  const gauge = verdictGaugeFigure({ pFake: 0.8, verdict: 'Fake (AI-generated)', confidence: 0.8 }, 0.5);
  assert.equal((gauge.data[0] as { value: number }).value, 80);
  assert.equal((gauge.data[0] as { gauge: { threshold: { value: number } } }).gauge.threshold.value, 50);
});
