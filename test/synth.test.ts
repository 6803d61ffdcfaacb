import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { decodeImageRgb } from '../lib/data/images';
import type { RgbImage } from '../lib/data/images';
import { generateSynthDataset, synthDatasetIsFresh, transposedConvUpsample2x } from '../lib/data/synth';

const tmpDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'realfake-synth-'));
const pngs = (dir: string) =>
  fs
    .readdirSync(dir)
    .filter((n) => n.endsWith('.png'))
    .sort();

/**
 * Energy at the Nyquist frequency (period-2 patterns): per row and per column, |mean of (-1)^x * luminance|,
 * averaged. Sensor noise adds little (it is incoherent); a checkerboard left by 2x upsampling adds a lot.
 */
function nyquistEnergy({ data, width, height }: RgbImage): number {
  const lum = (x: number, y: number) => {
    const i = (y * width + x) * 3;
    return 0.299 * data[i] + 0.587 * data[i + 1] + 0.114 * data[i + 2];
  };
  let total = 0;
  for (let y = 0; y < height; y++) {
    let s = 0;
    for (let x = 0; x < width; x++) s += (x % 2 ? -1 : 1) * lum(x, y);
    total += Math.abs(s) / width;
  }
  for (let x = 0; x < width; x++) {
    let s = 0;
    for (let y = 0; y < height; y++) s += (y % 2 ? -1 : 1) * lum(x, y);
    total += Math.abs(s) / height;
  }
  return total / (width + height);
}

async function meanEnergy(dir: string): Promise<number> {
  const values = await Promise.all(pngs(dir).map(async (n) => nyquistEnergy(await decodeImageRgb(path.join(dir, n)))));
  return values.reduce((a, b) => a + b, 0) / values.length;
}

test('same seed gives identical bytes; counts, sizes and format match across classes', async () => {
  const root = tmpDir();
  const a = await generateSynthDataset({ out: path.join(root, 'a'), count: 5, size: 32, seed: 7, concurrency: 1 });
  const b = await generateSynthDataset({ out: path.join(root, 'b'), count: 5, size: 32, seed: 7, concurrency: 3 });
  const c = await generateSynthDataset({ out: path.join(root, 'c'), count: 5, size: 32, seed: 8 });
  for (const cls of ['real', 'fake']) {
    const names = pngs(path.join(root, 'a', cls));
    assert.deepEqual(names, ['00000.png', '00001.png', '00002.png', '00003.png', '00004.png']);
    for (const n of names) {
      const bytes = fs.readFileSync(path.join(root, 'a', cls, n));
      assert.ok(bytes.equals(fs.readFileSync(path.join(root, 'b', cls, n))), `${cls}/${n} differs between runs`);
      assert.ok(!bytes.equals(fs.readFileSync(path.join(root, 'c', cls, n))), `${cls}/${n} ignores the seed`);
      const meta = await sharp(bytes).metadata();
      assert.deepEqual(
        [meta.format, meta.width, meta.height, meta.channels, meta.depth, meta.hasAlpha],
        ['png', 32, 32, 3, 'uchar', false],
      );
    }
  }
  assert.equal(a.realDir, path.join(root, 'a', 'real'));
  assert.equal(c.seed, 8);
  // Faces differ from each other.
  assert.ok(
    !fs
      .readFileSync(path.join(root, 'a', 'real', '00000.png'))
      .equals(fs.readFileSync(path.join(root, 'a', 'real', '00001.png'))),
  );
  assert.ok(b.seconds >= 0);
});

test('regenerating with fewer images leaves exactly that many; synth.json marks a complete, matching set', async () => {
  const out = path.join(tmpDir(), 'set');
  const options = { out, count: 4, size: 16, seed: 1 };
  assert.equal(synthDatasetIsFresh(options), false);
  await generateSynthDataset(options);
  assert.equal(synthDatasetIsFresh(options), true);
  assert.equal(synthDatasetIsFresh({ ...options, difficulty: 0.1 }), false);
  await generateSynthDataset({ ...options, count: 2 });
  assert.deepEqual(pngs(path.join(out, 'fake')), ['00000.png', '00001.png']);
  assert.equal(synthDatasetIsFresh(options), false);
  await assert.rejects(generateSynthDataset({ out, size: 15 }), /size must be an even integer >= 16/);
  await assert.rejects(generateSynthDataset({ out, difficulty: 1.5 }), /difficulty must be in \[0, 1\]/);
});

test('transposed-conv upsampling leaves a period-2 gain pattern on flat input', () => {
  const flat = new Float32Array(4 * 4 * 3).fill(100);
  const up = transposedConvUpsample2x(flat, 4, 0.1);
  const at = (x: number, y: number) => up[(y * 8 + x) * 3];
  assert.equal(at(2, 2), 100); // even, even: copied
  assert.ok(Math.abs(at(3, 2) - 110) < 1e-4); // odd column: gain 1.1
  assert.ok(Math.abs(at(3, 3) - 121) < 1e-4); // odd row and column: 1.1 * 1.1
});

test('classes differ in Nyquist energy, and the gap shrinks as difficulty grows', async () => {
  const root = tmpDir();
  const gap: Record<string, number> = {};
  let realEnergy = NaN;
  for (const difficulty of [0, 0.5, 1]) {
    const out = path.join(root, String(difficulty));
    await generateSynthDataset({ out, count: 12, size: 64, seed: 3, difficulty });
    const real = await meanEnergy(path.join(out, 'real'));
    const fake = await meanEnergy(path.join(out, 'fake'));
    if (!Number.isNaN(realEnergy)) assert.equal(real, realEnergy, 'real images do not depend on difficulty');
    realEnergy = real;
    gap[difficulty] = fake - real;
  }
  // Measured with seed 3: gaps about 3.1, 1.2 and 0.0 (8-bit levels). Traces scale with 1 - difficulty.
  assert.ok(gap[0] > 1.5, `difficulty 0: fake has much more period-2 energy (gap ${gap[0]})`);
  assert.ok(gap[0.5] < gap[0] / 1.5 && gap[0.5] > 0.3, `difficulty 0.5: smaller gap (${gap[0.5]} vs ${gap[0]})`);
  assert.ok(Math.abs(gap[1]) < gap[0.5] / 3, `difficulty 1: no systematic gap (${gap[1]})`);
});
