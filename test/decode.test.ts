/**
 * `--decode fast` (JPEG shrink-on-load) is an explicit opt-in: no preset turns it on, it is recorded in the
 * dataset's info.json, it changes the cache key, and it really does decode differently from the full path.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { PRESET_NAMES, resolveConfig } from '../lib/config';
import { loadImageRgb } from '../lib/data/images';
import { datasetCacheIsFresh, preprocessFolders } from '../lib/data/preprocess';
import { readDatasetInfo } from '../lib/data/dataset';

test("every preset decodes JPEGs in full (the study's way); fast is accepted only when asked for; junk is rejected", () => {
  for (const preset of PRESET_NAMES) assert.equal(resolveConfig({ preset }).decode, 'full', preset);
  assert.equal(resolveConfig({ overrides: { decode: 'fast' } }).decode, 'fast');
  assert.throws(() => resolveConfig({ overrides: { decode: 'quick' as never } }), /decode/);
});

test('fast decode shrinks on load: right size, close to a box filter, different from PIL-exact nearest; recorded', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rf-decode-'));
  try {
    // A 1024 px JPEG with fine detail: nearest picks single pixels, shrink-on-load averages 8x8 blocks.
    const side = 1024;
    const raw = Buffer.alloc(side * side * 3);
    for (let i = 0; i < side * side; i++) {
      const v = ((i % side) + Math.floor(i / side)) % 2 ? 230 : 20;
      raw.fill(v, i * 3, i * 3 + 3);
    }
    for (const label of ['real', 'fake']) {
      fs.mkdirSync(path.join(dir, label));
      await sharp(raw, { raw: { width: side, height: side, channels: 3 } })
        .jpeg({ quality: 95 })
        .toFile(path.join(dir, label, 'a.jpg'));
    }
    const file = path.join(dir, 'real', 'a.jpg');
    const full = await loadImageRgb(file, 128, 'nearest', 'full');
    const fast = await loadImageRgb(file, 128, 'nearest', 'fast');
    assert.equal(fast.length, 128 * 128 * 3);
    const mean = (a: Uint8Array) => a.reduce((s, v) => s + v, 0) / a.length;
    const spread = (a: Uint8Array) => Math.sqrt(a.reduce((s, v) => s + (v - mean(a)) ** 2, 0) / a.length);
    // The checkerboard averages to mid-grey under the 8x8 block average; nearest keeps one extreme pixel.
    assert.ok(Math.abs(mean(fast) - 125) < 10 && spread(fast) < 10, `fast: mean ${mean(fast)}, spread ${spread(fast)}`);
    assert.ok(spread(full) > 50 || Math.abs(mean(full) - 125) > 50, 'full decode keeps single pixels');

    const options = {
      realDir: path.join(dir, 'real'),
      fakeDir: path.join(dir, 'fake'),
      out: path.join(dir, 'out'),
      size: 128,
      decode: 'fast' as const,
    };
    await preprocessFolders(options);
    assert.equal(readDatasetInfo(options.out)?.decode, 'fast');
    assert.equal(datasetCacheIsFresh(options), true);
    assert.equal(
      datasetCacheIsFresh({ ...options, decode: 'full' }),
      false,
      'a full-decode run does not reuse a fast-decoded cache',
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
