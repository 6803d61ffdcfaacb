/**
 * Sources as a first-class idea: an image's source from its class subfolder, the manifest's source column and
 * dataset.json's counts, the split stratified by class and source, and per-source metrics on hand-worked numbers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { countSources, loadDataset, readManifest, sourceOf } from '../lib/data/dataset';
import { preprocessFolders } from '../lib/data/preprocess';
import { datasetSplit, sourceStrata, splitRows } from '../lib/data/split';
import { splitIndices } from '../lib/random';
import { perSourceMetrics, formatSourceTable } from '../lib/eval/per-source';
import { checkSyntheticAllowed, resolveDataSource } from '../lib/data/sources';
import { resolveConfig } from '../lib/config';
import { linkSharedSources, missingSharedSources, SHARED_SOURCES } from '../lib/data/source-folders';
import { goodImageFiles, writeFiles } from './fixtures/images';

test('sourceOf: the first folder inside the class folder, else the class name', () => {
  assert.equal(sourceOf('ffhq/00001.png', 'real'), 'ffhq');
  assert.equal(sourceOf('sd14_blonde_woman/a/b.jpg', 'fake'), 'sd14_blonde_woman');
  assert.equal(sourceOf('00001.png', 'real'), 'real');
  assert.equal(sourceOf('x.png', 'fake'), 'fake');
  assert.deepEqual(countSources([0, 0, 1, 1, 1], ['a', 'b', 'c', 'c', 'a']), [
    { source: 'a', label: 0, count: 1 },
    { source: 'b', label: 0, count: 1 },
    { source: 'c', label: 1, count: 2 },
    { source: 'a', label: 1, count: 1 },
  ]);
});

test('preprocess records each image source in manifest.csv, dataset.json and the loaded dataset', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'realfake-sources-'));
  const images = await goodImageFiles(24, 20, 1);
  const png = images['rgb.png'];
  const jpg = images['photo.jpg'];
  writeFiles(path.join(root, 'real', 'ffhq'), { '1.png': png, '2.png': png });
  writeFiles(path.join(root, 'real', 'unsplash'), { '3.jpg': jpg });
  writeFiles(path.join(root, 'real'), { 'loose.png': png });
  writeFiles(path.join(root, 'fake', 'stylegan'), { '1.png': png, '2.jpg': jpg, '3.png': png });
  const out = path.join(root, 'ds');
  const result = await preprocessFolders({
    realDir: path.join(root, 'real'),
    fakeDir: path.join(root, 'fake'),
    out,
    size: 16,
  });
  assert.deepEqual(result.info.sourceCounts, [
    { source: 'ffhq', label: 0, count: 2 },
    { source: 'real', label: 0, count: 1 },
    { source: 'unsplash', label: 0, count: 1 },
    { source: 'stylegan', label: 1, count: 3 },
  ]);
  assert.deepEqual(
    readManifest(path.join(out, 'manifest.csv')).map((r) => `${r.relativePath} ${r.source}`),
    [
      'ffhq/1.png ffhq',
      'ffhq/2.png ffhq',
      'loose.png real',
      'unsplash/3.jpg unsplash',
      'stylegan/1.png stylegan',
      'stylegan/2.jpg stylegan',
      'stylegan/3.png stylegan',
    ],
  );
  assert.deepEqual(loadDataset(out).sources, ['ffhq', 'ffhq', 'real', 'unsplash', 'stylegan', 'stylegan', 'stylegan']);
});

test('the split stratified by class and source: each group split on its own, with hand-computed counts', () => {
  // real/a 10 rows, real/b 7, fake/a 13 (the same source name in both classes is two strata), interleaved.
  const groups = [...Array(10).fill(['a', 0]), ...Array(7).fill(['b', 0]), ...Array(13).fill(['a', 1])] as Array<
    [string, number]
  >;
  const order = groups.map((_, i) => i).sort((i, j) => ((i * 7) % 30) - ((j * 7) % 30));
  const labels = Uint8Array.from(order, (i) => groups[i][1]);
  const sources = order.map((i) => groups[i][0]);
  const config = { limitPerClass: null, valFraction: 0.2, testFraction: 0.2, splitSeed: 5, stratifyBySource: true };
  const split = datasetSplit(labels, config, sources);
  const strata = sourceStrata(labels, sources);
  const count = (rows: number[], stratum: string) => rows.filter((r) => strata[r] === stratum).length;
  // ceil(0.2 x 10) = 2, ceil(0.2 x 7) = 2, ceil(0.2 x 13) = 3 in validation and again in test.
  for (const [stratum, val, test, train] of [
    ['real\u0000a', 2, 2, 6],
    ['real\u0000b', 2, 2, 3],
    ['fake\u0000a', 3, 3, 7],
  ] as Array<[string, number, number, number]>) {
    assert.deepEqual(
      [count(split.val, stratum), count(split.test, stratum), count(split.train, stratum)],
      [val, test, train],
      stratum,
    );
  }
  // Within a group the rows are exactly what splitIndices draws for a group of its size.
  const members = strata
    .map((s, row) => [s, row] as const)
    .filter(([s]) => s === 'real\u0000b')
    .map(([, row]) => row);
  const own = splitIndices(members.length, 0.2, 0.2, 5);
  assert.deepEqual(
    split.val.filter((r) => strata[r] === 'real\u0000b'),
    own.val.map((i) => members[i]).sort((a, b) => a - b),
  );
  // Every row in exactly one part; parts sorted.
  assert.deepEqual(
    [...split.train, ...split.val, ...split.test].sort((a, b) => a - b),
    Array.from(labels, (_, i) => i),
  );
  assert.deepEqual(
    split.val,
    [...split.val].sort((a, b) => a - b),
  );
  // Without stratifyBySource (the study), the sources are ignored: one shuffle of all rows.
  const plain = { ...config, stratifyBySource: false };
  assert.deepEqual(
    datasetSplit(labels, plain, sources),
    splitRows(
      Array.from(labels, (_, i) => i),
      plain,
    ),
  );
  assert.notDeepEqual(datasetSplit(labels, plain, sources), split);
  // A source too small to split says which one.
  assert.throws(
    () =>
      datasetSplit(Uint8Array.from([0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]), config, [
        'a',
        'a',
        'a',
        'a',
        'a',
        'z',
        'x',
        'x',
        'x',
        'x',
        'x',
      ]),
    /^Error: source fake z: .*too few images to stratify/,
  );
});

test('per-source metrics: recall or specificity, and AUC against the whole other class, hand-computed', () => {
  // reals r1 [0.1 0.2 0.6], r2 [0.3 0.4]; fakes f1 [0.7 0.9 0.35], f2 [0.5 0.05]; threshold 0.5.
  const sources = ['f1', 'r1', 'f2', 'r2', 'r1', 'f1', 'r2', 'f2', 'r1', 'f1'];
  const labels = [1, 0, 1, 0, 0, 1, 0, 1, 0, 1];
  const scores = [0.7, 0.1, 0.5, 0.3, 0.2, 0.9, 0.4, 0.05, 0.6, 0.35];
  const rows = perSourceMetrics(labels, scores, sources, 0.5, { resamples: 200, seed: 1 });
  const round = (x: number) => Math.round(x * 1e12) / 1e12;
  const summary = rows.map((r) => [r.source, r.label, r.n, r.rateName, round(r.rate.estimate), round(r.auc.estimate)]);
  assert.deepEqual(summary, [
    // r1: 0.1 and 0.2 called real of 3; fakes above r1's scores in 10 of 15 pairs.
    ['r1', 0, 3, 'specificity', round(2 / 3), round(10 / 15)],
    // r2: both called real; fakes above r2's in 7 of 10 pairs.
    ['r2', 0, 2, 'specificity', round(1), round(7 / 10)],
    // f1: 0.7 and 0.9 called fake of 3; above the 5 reals in 5 + 5 + 3 of 15 pairs.
    ['f1', 1, 3, 'recall', round(2 / 3), round(13 / 15)],
    // f2: 0.5 is called fake (>= threshold); above the reals in 4 + 0 of 10 pairs.
    ['f2', 1, 2, 'recall', round(1 / 2), round(4 / 10)],
  ]);
  for (const r of rows) {
    assert.ok(r.rate.low <= r.rate.estimate && r.rate.estimate <= r.rate.high, `${r.source} rate interval`);
    assert.ok(r.auc.low <= r.auc.high, `${r.source} AUC interval`);
  }
  assert.deepEqual(perSourceMetrics(labels, scores, sources, 0.5, { resamples: 200, seed: 1 }), rows, 'seeded');
  // With no fakes at all, a real source's AUC is undefined, not a number that looks like one.
  const realsOnly = perSourceMetrics([0, 0], [0.2, 0.7], ['a', 'a'], 0.5, { resamples: 50 });
  assert.ok(Number.isNaN(realsOnly[0].auc.estimate));
  assert.equal(realsOnly[0].rate.estimate, 0.5);
  assert.match(
    formatSourceTable(rows).split('\n')[4],
    /^f1 {6}fake {3}3 {7}recall 0\.667 \[\d\.\d{3}, \d\.\d{3}\] {7}0\.867 \[/,
  );
  assert.throws(() => perSourceMetrics([0], [0.1, 0.2], ['a'], 0.5), /must match/);
});

test('linkSharedSources links one folder per source, replaces its own links, refuses to touch a real folder', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'realfake-shared-'));
  const shared = path.join(root, 'shared');
  for (const dirs of Object.values(SHARED_SOURCES))
    for (const dir of Object.values(dirs)) fs.mkdirSync(path.join(shared, dir), { recursive: true });
  const dataRoot = path.join(root, 'data');
  const links = linkSharedSources(dataRoot, shared);
  assert.deepEqual(
    links.map((l) => path.relative(dataRoot, l)),
    ['real/ffhq', 'real/unsplash_men', 'real/amfd_lab', 'fake/stylegan', 'fake/sd14_blonde_woman', 'fake/sd1_eyewear'],
  );
  assert.equal(
    fs.readlinkSync(path.join(dataRoot, 'fake', 'sd1_eyewear')),
    path.join(shared, 'faces-diffusion-dev/fake/sd1_eyewear'),
  );
  assert.equal(linkSharedSources(dataRoot, shared).length, 6, 'again: links replaced');
  fs.unlinkSync(path.join(dataRoot, 'real', 'ffhq'));
  fs.mkdirSync(path.join(dataRoot, 'real', 'ffhq'));
  assert.throws(() => linkSharedSources(dataRoot, shared), /real\/ffhq: already exists and is not a link/);
  fs.rmSync(path.join(shared, 'faces-dev'), { recursive: true });
  assert.throws(
    () => linkSharedSources(dataRoot, shared),
    /faces-dev\/real, .*faces-dev\/fake: not found \(set REALFAKE_SHARED/,
  );
  assert.deepEqual(missingSharedSources(shared).length, 2);
});

test("the study's preset refuses the synthetic stand-in unless allowed; other presets and found images never ask", async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'realfake-policy-'));
  const config = resolveConfig({ preset: 'study', overrides: { limitPerClass: 3, imageSize: 64 } });
  for (const preset of ['study', 'seed'])
    assert.throws(() => checkSyntheticAllowed(root, { preset }), /realfake data kaggle.*--allow-synthetic/);
  assert.throws(
    () => checkSyntheticAllowed(root, { preset: 'study', allowHint: 'ALLOW_SYNTHETIC = true' }),
    /ALLOW_SYNTHETIC = true trains on the synthetic stand-in/,
  );
  for (const policy of [{}, { preset: 'smoke' }, { preset: 'faces' }, { preset: 'study', allowSynthetic: true }])
    assert.doesNotThrow(() => checkSyntheticAllowed(root, policy));
  await assert.rejects(
    resolveDataSource(config, root, () => undefined, { preset: 'study' }),
    /needs the study's faces/,
  );
  assert.ok(!fs.existsSync(path.join(root, 'synth')), 'refused before generating anything');
  const allowed = await resolveDataSource(config, root, () => undefined, { preset: 'study', allowSynthetic: true });
  assert.equal(allowed.kind, 'synthetic');
  assert.equal(fs.readdirSync(allowed.realDir).length, 3);
  // Images of your own are used whatever the preset.
  const png = (await goodImageFiles(24, 20, 1))['rgb.png'];
  writeFiles(path.join(root, 'real'), { '1.png': png });
  writeFiles(path.join(root, 'fake'), { '1.png': png });
  assert.equal((await resolveDataSource(config, root, () => undefined, { preset: 'study' })).kind, 'user');
});
