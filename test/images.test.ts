import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { decodeImageRgb, loadImageRgb, loadImageRgbFromBuffer, resizeNearestPil } from '../lib/data/images';
import { badImageFiles, fromRaw, goodImageFiles, noiseRgba, patternRgb, writeFiles } from './fixtures/images';
import { pythonSkip, runPython } from './fixtures/python';

const tmpDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'realfake-images-'));

/** Which source column / row each output pixel came from, read back from the pattern (R = 10x, G = 10y). */
function sourceIndices(rgb: Uint8Array, width: number, height: number): { xs: number[]; ys: number[] } {
  const xs = Array.from({ length: width }, (_, x) => rgb[x * 3] / 10);
  const ys = Array.from({ length: height }, (_, y) => rgb[y * width * 3 + 1] / 10);
  // The pattern is separable, so every pixel must agree with its row's and column's source.
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      assert.equal(rgb[(y * width + x) * 3], xs[x] * 10);
      assert.equal(rgb[(y * width + x) * 3 + 1], ys[y] * 10);
    }
  }
  return { xs, ys };
}

test('nearest picks the source pixels PIL picks (reference computed by hand)', async () => {
  // PIL: scale a = src / out; position starts at a / 2 and grows by a per output pixel; index = trunc(position).
  const dir = tmpDir();
  const file = path.join(dir, 'pattern.png');
  await fromRaw(patternRgb(11, 9), 11, 9, 3).png().toFile(file);
  const src = await decodeImageRgb(file);
  assert.deepEqual([src.width, src.height], [11, 9]);

  // 11x9 -> 3x3. x: a = 11/3 = 3.667, positions 1.83 5.5 9.17. y: a = 3, positions 1.5 4.5 7.5.
  assert.deepEqual(sourceIndices(resizeNearestPil(src, 3, 3), 3, 3), { xs: [1, 5, 9], ys: [1, 4, 7] });
  // 11x9 -> 4x2. x: a = 2.75, positions 1.375 4.125 6.875 9.625. y: a = 4.5, positions 2.25 6.75.
  assert.deepEqual(sourceIndices(resizeNearestPil(src, 4, 2), 4, 2), { xs: [1, 4, 6, 9], ys: [2, 6] });
  // 11x9 -> 10x10. x: a = 1.1, positions 0.55 1.65 2.75 3.85 4.95 6.05 7.15 8.25 9.35 10.45 (column 5 skipped).
  // y: a = 0.9, positions 0.45 1.35 2.25 3.15 4.05 4.95 5.85 6.75 7.65 8.55 (row 4 repeated).
  assert.deepEqual(sourceIndices(resizeNearestPil(src, 10, 10), 10, 10), {
    xs: [0, 1, 2, 3, 4, 6, 7, 8, 9, 10],
    ys: [0, 1, 2, 3, 4, 4, 5, 6, 7, 8],
  });
  // Through the public loader: 11x9 -> 20x20. x: a = 0.55, positions 0.275 + 0.55k. y: a = 0.45, 0.225 + 0.45k.
  const loaded = await loadImageRgb(file, 20, 'nearest');
  assert.deepEqual(sourceIndices(loaded, 20, 20), {
    xs: [0, 0, 1, 1, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 9, 9, 10, 10],
    ys: [0, 0, 1, 1, 2, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 6, 7, 7, 8, 8],
  });
  // Same size: an exact copy.
  assert.deepEqual(resizeNearestPil(src, 11, 9), src.data);
});

test('alpha is dropped without compositing; EXIF orientation is not applied', async () => {
  const [w, h] = [16, 10];
  const rgba = Buffer.alloc(w * h * 4);
  for (let i = 0; i < w * h; i++) rgba.set([100, 150, 200, i % 2 ? 0 : 255], i * 4); // half fully transparent
  const png = await fromRaw(rgba, w, h, 4).png().toBuffer();
  for (const method of ['nearest', 'bilinear', 'lanczos3'] as const) {
    const out = await loadImageRgbFromBuffer(png, 12, method, 'rgba.png');
    assert.ok(
      out.every((v, i) => v === [100, 150, 200][i % 3]),
      `${method}: colour under alpha 0 must survive`,
    );
  }
  // A 16x10 image tagged "rotate 90" (orientation 6) stays 16 wide, as in PIL without ImageOps.exif_transpose.
  const rotated = await fromRaw(patternRgb(w, h), w, h, 3).jpeg().withMetadata({ orientation: 6 }).toBuffer();
  assert.equal((await sharp(rotated).metadata()).orientation, 6);
  const decoded = await decodeImageRgb(rotated);
  assert.deepEqual([decoded.width, decoded.height], [w, h]);
});

test('every colour mode loads as size x size x 3 with every resize method', async () => {
  const files = await goodImageFiles();
  for (const [name, bytes] of Object.entries(files)) {
    for (const method of ['nearest', 'bilinear', 'lanczos3'] as const) {
      const out = await loadImageRgbFromBuffer(bytes, 32, method, name);
      assert.equal(out.length, 32 * 32 * 3, `${name} ${method}`);
    }
  }
  // Grey stays grey (R = G = B).
  const grey = await loadImageRgbFromBuffer(files['grey.png'], 24, 'nearest');
  assert.ok(grey.every((v, i) => v === grey[i - (i % 3)]));
  // 16-bit samples keep their high byte (value >> 8), for RGB and for greyscale.
  const rgb16 = Uint16Array.from({ length: 16 * 8 * 3 }, (_, i) => (i * 1733 + 7) % 65536);
  const grey16 = Uint16Array.from({ length: 16 * 8 }, (_, i) => i * 500 + 7);
  const rgb16Png = await sharp(rgb16, { raw: { width: 16, height: 8, channels: 3 } })
    .toColourspace('rgb16')
    .png()
    .toBuffer();
  const grey16Png = await sharp(grey16, { raw: { width: 16, height: 8, channels: 1 } })
    .toColourspace('grey16')
    .png()
    .toBuffer();
  assert.deepEqual(
    (await decodeImageRgb(rgb16Png)).data,
    Uint8Array.from(rgb16, (v) => v >> 8),
  );
  assert.deepEqual(
    (await decodeImageRgb(grey16Png)).data,
    Uint8Array.from({ length: 16 * 8 * 3 }, (_, i) => grey16[Math.floor(i / 3)] >> 8),
  );
});

test('bilinear and lanczos3 are smooth resizers close to the nearest result on a smooth image', async () => {
  const png = await fromRaw(patternRgb(25, 25), 25, 25, 3).png().toBuffer();
  const nearest = await loadImageRgbFromBuffer(png, 10, 'nearest');
  for (const method of ['bilinear', 'lanczos3'] as const) {
    const out = await loadImageRgbFromBuffer(png, 10, method);
    let maxDiff = 0;
    // Compare R and G only (the linear ramps); a smooth resizer lands within a few source steps of nearest.
    for (let i = 0; i < out.length; i++) if (i % 3 !== 2) maxDiff = Math.max(maxDiff, Math.abs(out[i] - nearest[i]));
    assert.ok(maxDiff <= 25, `${method} max diff ${maxDiff}`);
    assert.notDeepEqual(out, nearest, `${method} must not be nearest`);
  }
});

test('bad files fail with one line "<file>: <reason>"', async () => {
  const dir = tmpDir();
  const bad = await badImageFiles();
  writeFiles(dir, Object.fromEntries(Object.entries(bad).map(([name, { bytes }]) => [name, bytes])));
  for (const [name, { reason }] of Object.entries(bad)) {
    const file = path.join(dir, name);
    for (const method of ['nearest', 'bilinear'] as const) {
      await assert.rejects(loadImageRgb(file, 16, method), (err: Error) => {
        assert.ok(err.message.startsWith(`${file}: `), err.message);
        assert.match(err.message, reason);
        assert.ok(!err.message.includes('\n'), 'one line');
        return true;
      });
    }
  }
  await assert.rejects(loadImageRgb(path.join(dir, 'missing.png'), 16, 'nearest'), /missing\.png: file not found$/);
  await assert.rejects(loadImageRgb(dir, 16, 'nearest'), /: not a regular file$/);
});

const pilSkip = pythonSkip('PIL');

test('nearest equals PIL Image.resize(NEAREST) for many size pairs', { skip: pilSkip }, () => {
  // Raw noise goes straight to PIL (Image.frombytes), so this checks the index arithmetic alone,
  // including sizes below the loader's minimum and ratios whose positions fall on integers (e.g. 2 -> 3).
  const dir = tmpDir();
  const sources = [
    [2, 3],
    [7, 5],
    [23, 17],
    [64, 48],
  ];
  const targets = [1, 2, 3, 5, 7, 9, 10, 16, 31, 64, 100, 128];
  const cases: Array<[number, number, number, number]> = [];
  for (const [w, h] of sources)
    for (const tw of targets) for (const th of [targets[(tw * 7) % targets.length], tw]) cases.push([w, h, tw, th]);
  for (const [w, h] of sources)
    fs.writeFileSync(path.join(dir, `${w}x${h}.rgb`), noiseRgba(w, h).subarray(0, w * h * 3));
  const out = runPython(
    `
import sys, json
from PIL import Image
d, cases = sys.argv[1], json.loads(sys.argv[2])
for w, h, tw, th in cases:
    im = Image.frombytes('RGB', (w, h), open(f'{d}/{w}x{h}.rgb', 'rb').read())
    open(f'{d}/{w}x{h}-{tw}x{th}.out', 'wb').write(im.resize((tw, th), Image.NEAREST).tobytes())
`,
    dir,
    JSON.stringify(cases),
  );
  assert.equal(out, '');
  for (const [w, h, tw, th] of cases) {
    const src = { data: new Uint8Array(noiseRgba(w, h).subarray(0, w * h * 3)), width: w, height: h };
    const pil = new Uint8Array(fs.readFileSync(path.join(dir, `${w}x${h}-${tw}x${th}.out`)));
    assert.deepEqual(resizeNearestPil(src, tw, th), pil, `${w}x${h} -> ${tw}x${th}`);
  }
});

test(
  'loadImageRgb(nearest) equals Keras load_img (PIL open, convert RGB, resize NEAREST) file for file',
  { skip: pilSkip },
  async () => {
    const dir = tmpDir();
    const files = await goodImageFiles(37, 29, 7);
    // PIL clips 16-bit greyscale to 255 when converting to RGB (a known PIL defect); we keep the high byte instead.
    delete files['grey16.png'];
    const paths = writeFiles(dir, files);
    const sizes = [29, 16, 64];
    runPython(
      `
import sys
from PIL import Image
for f in sys.argv[2:]:
    for s in map(int, sys.argv[1].split(',')):
        im = Image.open(f)
        if im.mode != 'RGB': im = im.convert('RGB')
        if im.size != (s, s): im = im.resize((s, s), Image.NEAREST)
        open(f'{f}.{s}.pil', 'wb').write(im.tobytes())
`,
      sizes.join(','),
      ...paths,
    );
    for (const file of paths) {
      for (const size of sizes) {
        const pil = new Uint8Array(fs.readFileSync(`${file}.${size}.pil`));
        assert.deepEqual(await loadImageRgb(file, size, 'nearest'), pil, `${path.basename(file)} at ${size}`);
      }
    }
  },
);
