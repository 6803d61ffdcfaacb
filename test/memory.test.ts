/**
 * Peak memory of predict and preprocess is bounded by settings, not by the folder: a folder of large PNGs is
 * decoded under a shared budget of 4 bytes x --max-pixels (lib/data/images.ts). Measured as the peak RSS of
 * a real child process, against the same command on one small image, with a generous margin (memory, not time,
 * so the test is not load-sensitive). Full-size numbers (81-megapixel images) are in `npm run bench`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { initBackend } from '../lib/backend/backend';
import { createUntrainedRun } from './fixtures/runs';

const ROOT = path.join(__dirname, '..', '..');
const MB = 2 ** 20;

/** Runs the CLI and returns its exit code and peak RSS in bytes. */
function peakRss(args: string[], cwd: string): { code: number | null; peak: number; stderr: string } {
  const file = path.join(cwd, `peak-${Date.now()}-${Math.random()}`);
  const r = spawnSync(
    process.execPath,
    ['--require', path.join(__dirname, 'helpers', 'peak-rss.js'), path.join(ROOT, 'bin', 'realfake.js'), ...args],
    {
      cwd,
      encoding: 'utf8',
      env: { ...process.env, REALFAKE_BACKEND: 'wasm', REALFAKE_PEAK_RSS_FILE: file },
      timeout: 600_000,
    },
  );
  return { code: r.status, peak: fs.existsSync(file) ? Number(fs.readFileSync(file, 'utf8')) : NaN, stderr: r.stderr };
}

async function setup() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rf-memory-'));
  // Eight 4000 x 4000 PNGs (16 megapixels, 48 MB each decoded), a flat colour so they are quick to make.
  const big = await sharp({ create: { width: 4000, height: 4000, channels: 3, background: { r: 90, g: 120, b: 150 } } })
    .png({ compressionLevel: 1 })
    .toBuffer();
  const small = await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 90, g: 120, b: 150 } } })
    .png()
    .toBuffer();
  for (const [dir, bytes, n] of [
    ['big', big, 8],
    ['big-fake', big, 8],
    ['small', small, 1],
    ['small-fake', small, 1],
  ] as const) {
    fs.mkdirSync(path.join(root, dir));
    for (let i = 0; i < n; i++) fs.writeFileSync(path.join(root, dir, `${i}.png`), bytes);
  }
  await initBackend('cpu');
  return { root, run: await createUntrainedRun(path.join(root, 'runs')) };
}

test(
  'predict and preprocess on a folder of large images stay within the decode budget',
  { timeout: 900_000 },
  async (t) => {
    const { root, run } = await setup();
    const image = 4000 * 4000 * 3;
    const cases: Array<{
      name: string;
      command: (dir: string, fake: string) => string[];
      extra: string[];
      allowed: number;
    }> = [
      // Default settings (100-megapixel budget, one decode per core): at most the cores' worth of images at once
      // (before the budget, predict decoded a whole batch of 32 at once: +217 MB here, 1.5 GiB on 81-megapixel images).
      {
        name: 'predict, defaults',
        command: (dir) => ['predict', '--run', run, dir],
        extra: [],
        allowed: os.availableParallelism() * image + 60 * MB,
      },
      {
        name: 'preprocess, defaults',
        command: (dir, fake) => ['preprocess', '--real', dir, '--fake', fake, '--out', `out-${dir}`, '--size', '16'],
        extra: [],
        allowed: os.availableParallelism() * image + 60 * MB,
      },
      // A budget of 16 megapixels (64 MB): one image at a time, whatever the concurrency asked for.
      {
        name: 'predict, --max-pixels 16000000',
        command: (dir) => ['predict', '--run', run, dir],
        extra: ['--max-pixels', '16000000', '--concurrency', '8'],
        allowed: image + 60 * MB,
      },
      {
        name: 'preprocess, --max-pixels 16000000',
        command: (dir, fake) => ['preprocess', '--real', dir, '--fake', fake, '--out', `out2-${dir}`, '--size', '16'],
        extra: ['--max-pixels', '16000000', '--concurrency', '8'],
        allowed: image + 60 * MB,
      },
    ];
    for (const c of cases) {
      const base = peakRss([...c.command('small', 'small-fake'), ...c.extra], root);
      const big = peakRss([...c.command('big', 'big-fake'), ...c.extra], root);
      assert.equal(base.code, 0, `${c.name} (small): ${base.stderr}`);
      assert.equal(big.code, 0, `${c.name} (big): ${big.stderr}`);
      const growth = big.peak - base.peak;
      t.diagnostic(
        `${c.name}: peak ${(big.peak / MB).toFixed(0)} MB, ${(growth / MB).toFixed(0)} MB above one small image (allowed ${(c.allowed / MB).toFixed(0)})`,
      );
      assert.ok(
        growth < c.allowed,
        `${c.name}: peak RSS grew ${(growth / MB).toFixed(0)} MB over the small-image run; allowed ${(c.allowed / MB).toFixed(0)} MB`,
      );
    }
  },
);
