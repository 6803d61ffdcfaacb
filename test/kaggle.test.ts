import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { Command } from 'commander';
import {
  KAGGLE_DATASETS,
  datasetZipPath,
  downloadStudyData,
  kaggle140kDatasets,
  fetchKaggleDataset,
  readKaggleCredentials,
  type DownloadStudyDataOptions,
} from '../lib/data/kaggle';
import { extractClassImages } from '../lib/data/unzip';
import { registerDataCommand } from '../lib/cli/data';
import { writeZip, type ZipInput } from './helpers/zip';
import { FakeKaggle } from './helpers/kaggle-server';
import { toolSkip } from './helpers/tools';

const REAL = `${KAGGLE_DATASETS.real.owner}/${KAGGLE_DATASETS.real.slug}`;
const FAKE = `${KAGGLE_DATASETS.fake.owner}/${KAGGLE_DATASETS.fake.slug}`;
const credentials = { username: 'alice', key: 'k3y', source: 'test' };

const tmpDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'realfake-kaggle-'));

/** Real images in numbered subfolders, listed out of order in the zip, next to files that must be ignored. */
const realImages: Record<string, Buffer> = {};
const fakeImages: Record<string, Buffer> = {};
let realZip: Buffer;
let fakeZip: Buffer;
let server: FakeKaggle;

const solid = (seed: number, size: number) =>
  sharp({
    create: {
      width: size,
      height: size,
      channels: 3,
      background: { r: (seed * 37) % 256, g: (seed * 91) % 256, b: 200 },
    },
  });

before(async () => {
  for (const [i, name] of ['01000/01000.png', '00000/00002.png', '00000/00000.png', '00000/00001.png'].entries()) {
    realImages[name] = await solid(i, 8).png().toBuffer();
  }
  for (const [i, name] of ['3.jpg', '1.jpg', '2.jpg'].entries()) {
    fakeImages[name] = await solid(i + 10, 16)
      .jpeg()
      .toBuffer();
  }
  const realEntries: ZipInput[] = [
    { name: 'LICENSE.txt', data: Buffer.from('CC BY-NC-SA 4.0'), deflate: true },
    { name: 'thumbnails128x128/' },
    ...Object.entries(realImages).map(([name, data]) => ({ name: `thumbnails128x128/${name}`, data })),
    { name: 'thumbnails128x128/00000/notes.txt', data: Buffer.from('not an image') },
    { name: 'other/99999.png', data: realImages['00000/00000.png'] },
  ];
  realZip = writeZip(realEntries);
  fakeZip = writeZip(
    Object.entries(fakeImages).map(([name, data]) => ({
      name: `thispersondoesnotexist.10k/${name}`,
      data,
      deflate: true,
    })),
  );
  server = await new FakeKaggle({
    username: 'alice',
    key: 'k3y',
    datasets: { [REAL]: realZip, [FAKE]: fakeZip },
  }).start();
});

after(() => server.close());

function run(out: string, extra: Partial<DownloadStudyDataOptions> = {}) {
  const lines: string[] = [];
  const done = downloadStudyData({
    out,
    credentials,
    apiBase: server.apiBase,
    progress: 'none',
    log: (l) => lines.push(l),
    ...extra,
  });
  return { done, lines };
}

function resetRecords() {
  server.apiRequests.length = 0;
  server.storageRequests.length = 0;
  server.cutAfterBytes.length = 0;
  server.ignoreRange = false;
  server.forbidden.clear();
}

test('downloads through the redirect without forwarding credentials, extracts the first N in path order', async () => {
  resetRecords();
  const out = tmpDir();
  const { done, lines } = run(out, { realLimit: 2, progress: 'lines' });
  const result = await done;

  assert.equal(server.apiRequests.length, 2);
  for (const r of server.apiRequests) assert.match(String(r.headers.authorization), /^Basic /);
  assert.equal(server.storageRequests.length, 2);
  for (const r of server.storageRequests)
    assert.equal(r.headers.authorization, undefined, 'credentials must not reach the storage host');

  assert.deepEqual(fs.readFileSync(datasetZipPath(out, KAGGLE_DATASETS.real)), realZip);
  assert.deepEqual(fs.readFileSync(datasetZipPath(out, KAGGLE_DATASETS.fake)), fakeZip);
  assert.deepEqual(fs.readdirSync(path.join(out, 'downloads')).sort(), [
    `${KAGGLE_DATASETS.fake.owner}__${KAGGLE_DATASETS.fake.slug}.zip`,
    `${KAGGLE_DATASETS.real.owner}__${KAGGLE_DATASETS.real.slug}.zip`,
  ]);

  // Sorted by path inside the zip, not by zip order; other folders and non-images ignored.
  assert.deepEqual(fs.readdirSync(path.join(out, 'real')).sort(), ['00000.png', '00001.png']);
  assert.deepEqual(fs.readFileSync(path.join(out, 'real', '00001.png')), realImages['00000/00001.png']);
  assert.deepEqual(fs.readdirSync(path.join(out, 'fake')).sort(), ['1.jpg', '2.jpg', '3.jpg']);
  for (const name of ['1.jpg', '2.jpg', '3.jpg'])
    assert.deepEqual(fs.readFileSync(path.join(out, 'fake', name)), fakeImages[name]);
  const meta = await sharp(path.join(out, 'fake', '1.jpg')).metadata();
  assert.equal(meta.format, 'jpeg');

  assert.equal(result.real.available, 4);
  assert.equal(result.real.extracted, 2);
  assert.equal(result.fake.extracted, 3);
  assert.equal(result.real.fetchedBytes, realZip.length);
  assert.ok(
    lines.some((l) => /100%/.test(l)),
    `a final progress line: ${lines.join(' / ')}`,
  );

  // A second run with a larger limit needs no network and no credentials, and skips what is there.
  resetRecords();
  const again = await downloadStudyData({
    out,
    realLimit: 3,
    apiBase: server.apiBase,
    progress: 'none',
    log: () => {},
  });
  assert.equal(server.apiRequests.length + server.storageRequests.length, 0);
  assert.equal(again.real.extracted, 1);
  assert.equal(again.real.skipped, 2);
  assert.equal(again.real.fetchedBytes, 0);
  assert.deepEqual(fs.readdirSync(path.join(out, 'real')).sort(), ['00000.png', '00001.png', '00002.png']);
});

test('a cut connection keeps the .part, and the next run resumes with Range to an identical file', async () => {
  resetRecords();
  const out = tmpDir();
  server.cutAfterBytes.push(300);
  const first = run(out);
  await assert.rejects(first.done, (err: Error) => {
    assert.match(err.message, /interrupted.*re-running resumes/);
    assert.doesNotMatch(err.message, /\n/);
    return true;
  });
  const part = `${datasetZipPath(out, KAGGLE_DATASETS.real)}.part`;
  const kept = fs.statSync(part).size;
  assert.equal(kept, 300, 'every byte that arrived before the cut is kept');

  resetRecords();
  await run(out).done;
  const resumed = server.storageRequests[0];
  assert.equal(resumed.headers.range, `bytes=${kept}-`);
  assert.equal(resumed.status, 206);
  assert.equal(resumed.headers.authorization, undefined);
  assert.deepEqual(fs.readFileSync(datasetZipPath(out, KAGGLE_DATASETS.real)), realZip);
  assert.equal(fs.existsSync(part), false);
  assert.equal(fs.readdirSync(path.join(out, 'real')).length, 4);
});

test('a server that ignores Range (200) restarts the file; 416 with a matching size completes it', async () => {
  resetRecords();
  const out = tmpDir();
  const realPath = datasetZipPath(out, KAGGLE_DATASETS.real);
  const fakePath = datasetZipPath(out, KAGGLE_DATASETS.fake);
  fs.mkdirSync(path.dirname(realPath), { recursive: true });
  fs.writeFileSync(`${realPath}.part`, Buffer.alloc(100, 0xee)); // stale bytes that must not survive
  fs.writeFileSync(`${fakePath}.part`, fakeZip); // complete, but never renamed
  server.ignoreRange = true;
  await run(out).done;
  assert.deepEqual(fs.readFileSync(realPath), realZip);
  assert.equal(server.storageRequests[0].headers.range, 'bytes=100-');
  assert.equal(server.storageRequests[0].status, 200);

  resetRecords();
  fs.rmSync(fakePath);
  fs.writeFileSync(`${fakePath}.part`, fakeZip);
  await run(out).done;
  assert.equal(server.storageRequests.length, 1, 'only the fake zip was missing');
  assert.equal(server.storageRequests[0].status, 416);
  assert.deepEqual(fs.readFileSync(fakePath), fakeZip);
});

test('HTTP errors become one line saying what to do', async () => {
  resetRecords();
  const out = tmpDir();
  await assert.rejects(
    run(out, { credentials: { ...credentials, key: 'wrong' } }).done,
    /rejected the credentials from test \(HTTP 401\)/,
  );
  assert.equal(fs.existsSync(datasetZipPath(out, KAGGLE_DATASETS.real)), false);

  server.forbidden.add(REAL);
  await assert.rejects(
    run(out).done,
    new RegExp(`HTTP 403.*accept the dataset's terms at https://www\\.kaggle\\.com/datasets/${REAL}`),
  );
  server.forbidden.clear();

  const missing = { owner: 'nobody', slug: 'nothing', classFolder: 'x', description: '' };
  await assert.rejects(
    fetchKaggleDataset(missing, { out, apiBase: server.apiBase, log: () => {}, progress: 'none', credentials }),
    /no dataset nobody\/nothing \(HTTP 404\): check https:\/\/www\.kaggle\.com\/datasets\/nobody\/nothing/,
  );
});

test('KAGGLE_API_BASE overrides the API address', async () => {
  resetRecords();
  const saved = process.env.KAGGLE_API_BASE;
  process.env.KAGGLE_API_BASE = server.apiBase;
  try {
    await downloadStudyData({
      out: tmpDir(),
      credentials,
      progress: 'none',
      log: () => {},
      realLimit: 1,
      fakeLimit: 1,
    });
  } finally {
    if (saved === undefined) delete process.env.KAGGLE_API_BASE;
    else process.env.KAGGLE_API_BASE = saved;
  }
  assert.equal(server.apiRequests.length, 2);
});

test('credentials: env first, then kaggle.json; missing or malformed files say where to put them', () => {
  const dir = tmpDir();
  assert.deepEqual(readKaggleCredentials({ KAGGLE_USERNAME: 'u', KAGGLE_KEY: 'k', KAGGLE_CONFIG_DIR: dir }), {
    username: 'u',
    key: 'k',
    source: 'KAGGLE_USERNAME/KAGGLE_KEY',
  });
  assert.throws(
    () => readKaggleCredentials({ KAGGLE_CONFIG_DIR: dir }),
    /credentials not found.*~\/\.kaggle\/kaggle\.json.*KAGGLE_USERNAME and KAGGLE_KEY/,
  );
  const file = path.join(dir, 'kaggle.json');
  fs.writeFileSync(file, '{"username": "bob"');
  assert.throws(() => readKaggleCredentials({ KAGGLE_CONFIG_DIR: dir }), new RegExp(`${file}: not valid JSON`));
  fs.writeFileSync(file, '{"username": "bob"}');
  assert.throws(() => readKaggleCredentials({ KAGGLE_CONFIG_DIR: dir }), /needs string fields "username" and "key"/);
  fs.writeFileSync(file, '{"username": "bob", "key": "secret"}');
  assert.deepEqual(readKaggleCredentials({ KAGGLE_CONFIG_DIR: dir }), { username: 'bob', key: 'secret', source: file });
});

test('a corrupt download or a bad CRC is reported, and the file is kept', async () => {
  const out = tmpDir();
  const zipPath = datasetZipPath(out, KAGGLE_DATASETS.real);
  fs.mkdirSync(path.dirname(zipPath), { recursive: true });
  fs.writeFileSync(zipPath, '<html>not a zip</html>');
  await assert.rejects(run(out).done, /not a readable zip.*delete it and re-run/);
  assert.equal(fs.existsSync(zipPath), true);

  // Flip one byte of a stored image: the directory is intact, the data is not.
  const damaged = Buffer.from(realZip);
  const at = damaged.indexOf(realImages['00000/00000.png']);
  assert.ok(at > 0);
  damaged[at + 20] ^= 0xff;
  fs.writeFileSync(zipPath, damaged);
  await assert.rejects(run(out).done, /CRC mismatch in thumbnails128x128\/00000\/00000\.png/);
  assert.deepEqual(fs.readdirSync(path.join(out, 'real')), [], 'no half-written image left behind');
});

test(
  'a full disk is reported as such and the partial download is kept',
  { skip: toolSkip(!fs.existsSync('/dev/full') && 'no /dev/full (a Linux device) to fill the disk') },
  async () => {
    resetRecords();
    const out = tmpDir();
    const part = `${datasetZipPath(out, KAGGLE_DATASETS.real)}.part`;
    fs.mkdirSync(path.dirname(part), { recursive: true });
    fs.symlinkSync('/dev/full', part); // every write fails with ENOSPC
    await assert.rejects(run(out).done, /disk full while writing .*\.zip\.part: free some space and re-run/);
    assert.equal(fs.lstatSync(part).isSymbolicLink(), true);
  },
);

test('images with the same name in different subfolders keep their folders in the flat name', async () => {
  const dir = tmpDir();
  const zipPath = path.join(dir, 'x.zip');
  const png = realImages['00000/00000.png'];
  fs.writeFileSync(
    zipPath,
    writeZip([
      { name: 'root/faces/b/1.png', data: png },
      { name: 'root/faces/a/1.png', data: png },
      { name: 'root/faces/a/2.png', data: png },
    ]),
  );
  const result = await extractClassImages(zipPath, { classFolder: 'faces', destDir: path.join(dir, 'out') });
  assert.equal(result.extracted, 3);
  assert.deepEqual(fs.readdirSync(path.join(dir, 'out')).sort(), ['2.png', 'a__1.png', 'b__1.png']);
  await assert.rejects(
    extractClassImages(zipPath, { classFolder: 'nope', destDir: dir }),
    /no images in a folder named "nope"/,
  );
});

test('CLI: a non-positive limit is a usage error (exit code 2)', async () => {
  const program = new Command().exitOverride();
  registerDataCommand(program);
  const savedWrite = process.stderr.write;
  let stderr = '';
  process.stderr.write = ((chunk: string) => ((stderr += chunk), true)) as typeof process.stderr.write;
  try {
    await program.parseAsync(['node', 'realfake', 'data', 'kaggle', '--real-limit', '0', '--out', tmpDir()]);
  } finally {
    process.stderr.write = savedWrite;
  }
  assert.equal(process.exitCode, 2);
  assert.match(stderr, /--real-limit must be a positive integer/);
  process.exitCode = 0;
});

test('--dataset 140k: one zip, downloaded once, gives <out>/<split>/{real,fake}; a cut download resumes', async () => {
  const slug = 'xhlulu/140k-real-and-fake-faces';
  const images: ZipInput[] = [];
  for (const split of ['train', 'valid', 'test']) {
    for (const [c, cls] of ['real', 'fake'].entries()) {
      for (let i = 0; i < 3; i++) {
        images.push({
          name: `real_vs_fake/real-vs-fake/${split}/${cls}/${cls}_${split}_${i}.jpg`,
          data: await solid(c * 10 + i, 8)
            .jpeg()
            .toBuffer(),
        });
      }
    }
  }
  const zip = writeZip([{ name: 'train.csv', data: Buffer.from('id,label\n'), deflate: true }, ...images]);
  const local = await new FakeKaggle({ username: 'alice', key: 'k3y', datasets: { [slug]: zip } }).start();
  try {
    const out = tmpDir();
    local.cutAfterBytes.push(200);
    const options = {
      out,
      credentials,
      apiBase: local.apiBase,
      progress: 'none' as const,
      log: () => {},
      datasets: kaggle140kDatasets('valid'),
      subdir: 'valid',
      realLimit: 2,
      fakeLimit: 2,
    };
    const first = downloadStudyData(options);
    await assert.rejects(first, /interrupted.*re-running resumes/);
    const result = await downloadStudyData(options);
    assert.equal(local.storageRequests.at(-1)?.headers.range, 'bytes=200-');
    assert.deepEqual(fs.readdirSync(path.join(out, 'valid', 'real')).sort(), ['real_valid_0.jpg', 'real_valid_1.jpg']);
    assert.deepEqual(fs.readdirSync(path.join(out, 'valid', 'fake')).sort(), ['fake_valid_0.jpg', 'fake_valid_1.jpg']);
    assert.equal(result.real.available, 3);
    // One zip for both classes: the API was asked once for the resumed download, not again for the fake class.
    assert.equal(local.apiRequests.length, 2);
    assert.deepEqual(fs.readdirSync(path.join(out, 'downloads')), ['xhlulu__140k-real-and-fake-faces.zip']);
    const test140k = await downloadStudyData({
      out,
      progress: 'none',
      log: () => {},
      datasets: kaggle140kDatasets('test'),
      subdir: 'test',
    });
    assert.equal(test140k.fake.extracted, 3);
    assert.equal(local.apiRequests.length, 2, 'another split reuses the zip: no credentials, no network');
  } finally {
    await local.close();
  }
});
