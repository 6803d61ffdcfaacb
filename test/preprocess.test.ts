import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadDataset, readManifest } from '../lib/data/dataset';
import { loadImageRgb } from '../lib/data/images';
import { readNpy } from '../lib/data/npy';
import { listImageFiles } from '../lib/data/image-files';
import { datasetCacheIsFresh, preprocessFolders } from '../lib/data/preprocess';
import type { PreprocessProgress } from '../lib/data/preprocess';
import { badImageFiles, goodImageFiles, writeFiles } from './fixtures/images';

const tmpDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'realfake-preprocess-'));

/** real/: every good colour mode plus every kind of bad file; fake/: good files only, one with a comma in its name. */
async function makeFolders(root: string) {
  const bad = await badImageFiles();
  const real = {
    ...(await goodImageFiles(24, 20, 1)),
    ...Object.fromEntries(Object.entries(bad).map(([k, v]) => [k, v.bytes])),
  };
  real['notes.txt'] = Buffer.from('not listed: wrong extension');
  const goodFake = await goodImageFiles(30, 26, 2);
  const fake = {
    'b,with comma.png': goodFake['rgb.png'],
    'a.jpg': goodFake['photo.jpg'],
    'c.webp': goodFake['lossless.webp'],
  };
  writeFiles(path.join(root, 'real'), real);
  writeFiles(path.join(root, 'fake'), fake);
  return { realDir: path.join(root, 'real'), fakeDir: path.join(root, 'fake'), bad };
}

/** Manifest rows as [path, label, status, reason] strings, via the library's own CSV reader (which checks the header). */
const manifestRows = (file: string): string[][] =>
  readManifest(file).map((r) => [r.path, String(r.label), r.status, r.reason]);

test('converts what it can, records the rest with reasons, output independent of concurrency', async () => {
  const root = tmpDir();
  const { realDir, fakeDir, bad } = await makeFolders(root);
  const progress: PreprocessProgress[] = [];
  const one = await preprocessFolders({
    realDir,
    fakeDir,
    out: path.join(root, 'c1'),
    size: 16,
    concurrency: 1,
    onProgress: (p) => progress.push(p),
  });
  await preprocessFolders({ realDir, fakeDir, out: path.join(root, 'c4'), size: 16, concurrency: 4 });

  assert.deepEqual(one.info.counts, { real: 12, fake: 3 });
  assert.deepEqual(one.info.skippedPerClass, { real: Object.keys(bad).length, fake: 0 });
  assert.equal(one.info.count, 15);
  assert.match(
    one.summary,
    /^15 images \(real 12, fake 3\) 16x16 nearest -> .* 6 skipped \(reasons in .*manifest\.csv\)$/,
  );
  for (const file of ['X.npy', 'Y.npy', 'manifest.csv']) {
    assert.ok(
      fs.readFileSync(path.join(root, 'c1', file)).equals(fs.readFileSync(path.join(root, 'c4', file))),
      `${file} differs`,
    );
  }
  assert.deepEqual(fs.readdirSync(path.join(root, 'c1')).sort(), ['X.npy', 'Y.npy', 'dataset.json', 'manifest.csv']);

  assert.match(
    fs.readFileSync(path.join(root, 'c1', 'manifest.csv'), 'utf8'),
    /^path,label,status,reason,relative_path,source,format,width,height,file_bytes,bytes_per_pixel,jpeg_quality,colour_mode,exif\n/,
  );
  const body = manifestRows(path.join(root, 'c1', 'manifest.csv'));
  assert.equal(body.length, 12 + 6 + 3);
  // Sorted per class, real first; the .txt file is not listed at all.
  assert.deepEqual(
    body.map((r) => r[0]),
    [...listImageFiles(realDir), ...listImageFiles(fakeDir)],
  );
  assert.ok(
    body.some((r) => r[0].endsWith('b,with comma.png')),
    'comma survives CSV quoting',
  );
  assert.match(
    fs.readFileSync(path.join(root, 'c1', 'manifest.csv'), 'utf8'),
    /\n"[^"\n]*b,with comma\.png",1,ok,,"b,with comma\.png",fake,png,30,26,\d+,[\d.]+,,srgb,0\n/,
  );
  for (const [name, { reason }] of Object.entries(bad)) {
    const row = body.find((r) => path.basename(r[0]) === name)!;
    assert.equal(row[2], 'skipped', name);
    assert.match(row[3], reason, name);
  }
  assert.ok(body.filter((r) => r[2] === 'ok').every((r) => r[3] === ''));

  // X rows are the ok manifest rows in order; Y is 0 for real, 1 for fake.
  const data = loadDataset(path.join(root, 'c1'));
  assert.equal(data.n, 15);
  assert.deepEqual(Array.from(data.y), [...Array(12).fill(0), ...Array(3).fill(1)]);
  assert.deepEqual(
    data.files,
    body.filter((r) => r[2] === 'ok').map((r) => r[0]),
  );
  const okRows = body.filter((r) => r[2] === 'ok');
  for (const i of [0, 5, 11, 12, 14]) {
    const expected = await loadImageRgb(okRows[i][0], 16, 'nearest');
    assert.deepEqual(data.x.subarray(i * 16 * 16 * 3, (i + 1) * 16 * 16 * 3), expected, okRows[i][0]);
  }

  // Progress: one event per file, totals known from the start (no limit: every listed file).
  assert.equal(progress.length, 21);
  assert.ok(progress.every((p, i) => p.done === i + 1 && p.total === 21));
  assert.equal(progress.filter((p) => p.status === 'skipped').length, 6);
});

test('limitPerClass keeps the first N usable files; skipped files are replaced by the next ones', async () => {
  const root = tmpDir();
  const { realDir, fakeDir } = await makeFolders(root);
  const progress: PreprocessProgress[] = [];
  const result = await preprocessFolders({
    realDir,
    fakeDir,
    out: path.join(root, 'out'),
    size: 8,
    limitPerClass: 2,
    concurrency: 3,
    onProgress: (p) => progress.push(p),
  });
  assert.deepEqual(result.info.counts, { real: 2, fake: 2 });
  // Sorted real files: anim.gif, cmyk.jpg, empty.jpg (bad), grey-alpha.png, ... -> the first two are usable.
  const rows = manifestRows(path.join(root, 'out', 'manifest.csv'));
  assert.deepEqual(
    rows.map((r) => [path.basename(r[0]), r[2]]),
    [
      ['anim.gif', 'ok'],
      ['cmyk.jpg', 'ok'],
      ['a.jpg', 'ok'],
      ['b,with comma.png', 'ok'],
    ],
  );
  assert.equal(progress.at(-1)!.total, 4);

  const limited3 = await preprocessFolders({
    realDir,
    fakeDir,
    out: path.join(root, 'out3'),
    size: 8,
    limitPerClass: 3,
    concurrency: 4,
  });
  const rows3 = manifestRows(path.join(root, 'out3', 'manifest.csv'));
  assert.deepEqual(
    rows3.slice(0, 4).map((r) => [path.basename(r[0]), r[2]]),
    [
      ['anim.gif', 'ok'],
      ['cmyk.jpg', 'ok'],
      ['empty.jpg', 'skipped'],
      ['grey-alpha.png', 'ok'],
    ],
  );
  assert.deepEqual(limited3.info.counts, { real: 3, fake: 3 });
  assert.equal(readNpy(path.join(root, 'out3', 'X.npy')).shape[0], 6);
});

test('fatal problems throw one line: missing folder, empty folder, class with nothing usable', async () => {
  const root = tmpDir();
  const { realDir, fakeDir, bad } = await makeFolders(root);
  const out = path.join(root, 'out');
  await assert.rejects(
    preprocessFolders({ realDir: path.join(root, 'nope'), fakeDir, out }),
    /nope: folder not found$/,
  );
  fs.mkdirSync(path.join(root, 'empty'));
  await assert.rejects(
    preprocessFolders({ realDir, fakeDir: path.join(root, 'empty'), out }),
    /empty: no image files for class fake/,
  );
  writeFiles(path.join(root, 'allbad'), Object.fromEntries(Object.entries(bad).map(([k, v]) => [k, v.bytes])));
  await assert.rejects(
    preprocessFolders({ realDir, fakeDir: path.join(root, 'allbad'), out, size: 8 }),
    (err: Error) =>
      /allbad: no usable images for class fake \(6 tried, all skipped; first: empty file\)$/.test(err.message) &&
      !err.message.includes('\n'),
  );
  assert.equal(fs.existsSync(out), false, 'nothing written when a class has no usable images');
});

test('loadDataset explains how to make a dataset; the cache is fresh until options or sources change', async () => {
  const root = tmpDir();
  assert.throws(
    () => loadDataset(path.join(root, 'none')),
    /none: no preprocessed dataset here .*run `realfake preprocess`/,
  );
  const { realDir, fakeDir } = await makeFolders(root);
  const options = { realDir, fakeDir, out: path.join(root, 'out'), size: 8, limitPerClass: 2 };
  assert.equal(datasetCacheIsFresh(options), false);
  await preprocessFolders(options);
  assert.equal(datasetCacheIsFresh(options), true);
  assert.equal(datasetCacheIsFresh({ ...options, size: 16 }), false);
  assert.equal(datasetCacheIsFresh({ ...options, resize: 'bilinear' }), false);
  assert.equal(datasetCacheIsFresh({ ...options, limitPerClass: null }), false);
  fs.writeFileSync(path.join(fakeDir, 'new.png'), fs.readFileSync(path.join(realDir, 'rgb.png')));
  assert.equal(datasetCacheIsFresh(options), false);
  // A dataset whose X.npy disagrees with dataset.json is reported, not silently used.
  const other = await preprocessFolders({ ...options, out: path.join(root, 'other'), size: 16 });
  fs.copyFileSync(path.join(root, 'other', 'X.npy'), path.join(root, 'out', 'X.npy'));
  assert.ok(other.info.count > 0);
  assert.throws(
    () => loadDataset(path.join(root, 'out')),
    /X\.npy: expected uint8 \[4, 8, 8, 3\], found uint8 \[4, 16, 16, 3\]/,
  );
});
