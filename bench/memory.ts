/**
 * Peak memory of `predict` and `preprocess` on a folder of eight 81-megapixel PNGs (9000 x 9000, under the
 * default 100-megapixel limit), at default settings: the case that once peaked at 1.5 GiB and 805 MiB. Each
 * command runs as its own process; its peak RSS (all threads) is read at exit. Target: under 600 MB.
 * Part of `npm run bench`; `node dist/bench/memory.js` runs it alone and updates its section of BENCHMARKS.md.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { initBackend } from '../lib/backend/backend';
import { resolveConfig } from '../lib/config';
import { projectRoot } from '../lib/files';
import { buildModel } from '../lib/model/model';
import { saveModel } from '../lib/model/model-io';
import { createRun } from '../lib/runs/runs';
import { writeSection } from './sections';

export interface DecodeMemory {
  command: string;
  images: string;
  peakRssMB: number;
  seconds: number;
  loadAverage1m: number;
}

export const MEMORY_TARGET_MB = 600;

/** Runs the CLI with a preload that reports the process's own peak RSS at exit (test/helpers/peak-rss.ts). */
function measure(args: string[], cwd: string): { peakRssMB: number; seconds: number } {
  const report = path.join(cwd, 'peak-rss');
  const preload = path.join(projectRoot(), 'dist', 'test', 'helpers', 'peak-rss.js');
  const started = Date.now();
  const r = spawnSync(
    process.execPath,
    ['--require', preload, path.join(projectRoot(), 'bin', 'realfake.js'), ...args],
    {
      cwd,
      encoding: 'utf8',
      env: { ...process.env, REALFAKE_PEAK_RSS_FILE: report },
    },
  );
  if (r.status !== 0) throw new Error(`realfake ${args[0]} failed: ${r.stderr.trim().split('\n').pop()}`);
  return {
    peakRssMB: Math.round(Number(fs.readFileSync(report, 'utf8')) / 2 ** 20),
    seconds: (Date.now() - started) / 1000,
  };
}

export async function measureDecodeMemory(log: (line: string) => void = () => undefined): Promise<DecodeMemory[]> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rf-bench-memory-'));
  try {
    // Flat colour: quick to encode, and decoding still materialises every pixel (243 MB per image).
    const huge = await sharp({
      create: { width: 9000, height: 9000, channels: 3, background: { r: 90, g: 120, b: 150 } },
    })
      .png({ compressionLevel: 1 })
      .toBuffer();
    const small = await sharp({ create: { width: 128, height: 128, channels: 3, background: { r: 20, g: 40, b: 60 } } })
      .png()
      .toBuffer();
    for (const [dir, bytes] of [
      ['huge', huge],
      ['small', small],
    ] as const) {
      fs.mkdirSync(path.join(root, dir));
      for (let i = 0; i < 8; i++) fs.writeFileSync(path.join(root, dir, `${i}.png`), bytes);
    }
    await initBackend();
    const config = resolveConfig({ preset: 'smoke' });
    const run = createRun({
      root: path.join(root, 'runs'),
      config,
      preset: 'smoke',
      dataDir: root,
      datasetFingerprint: 'none',
      split: { train: [], val: [], test: [] },
    });
    const model = buildModel(config);
    await saveModel(model, path.join(run.dir, 'model'));
    model.dispose();
    const results: DecodeMemory[] = [];
    for (const [command, args] of [
      ['predict', ['predict', '--run', run.dir, 'huge']],
      ['preprocess', ['preprocess', '--real', 'huge', '--fake', 'small', '--out', 'out', '--size', '128']],
    ] as const) {
      const loadAverage1m = Number(os.loadavg()[0].toFixed(2));
      const m = measure([...args], root);
      results.push({
        command,
        images: command === 'predict' ? '8 x 81 MP PNG' : '8 x 81 MP PNG + 8 small',
        ...m,
        loadAverage1m,
      });
      log(JSON.stringify(results[results.length - 1]));
    }
    return results;
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

/** The BENCHMARKS.md section's body (bench/sections.ts puts it between its markers). */
export function memorySection(results: DecodeMemory[]): string {
  const rows = results.map(
    (r) =>
      `| ${r.command} | ${r.images} | ${r.peakRssMB} MB | ${r.peakRssMB < MEMORY_TARGET_MB ? 'met' : '**missed**'} | ${r.seconds.toFixed(1)} s | ${r.loadAverage1m} |`,
  );
  return [
    '## Decode memory (predict, preprocess; default settings)',
    '',
    `Peak RSS of the whole process (bench/memory.ts), target < ${MEMORY_TARGET_MB} MB on any folder. Decoding shares a budget of ` +
      '4 bytes x --max-pixels (default 100 megapixels) and --concurrency decodes (default one per core), so large images ' +
      'wait their turn. Before the budget, predict measured 1.5 GiB (predict) and 805 MiB (preprocess) on such a folder.',
    '',
    '| command | images | peak RSS | < 600 MB | wall time | load |',
    '|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

if (require.main === module) {
  measureDecodeMemory((line) => process.stdout.write(line + '\n'))
    .then((results) => {
      const section = memorySection(results);
      writeSection('memory', section);
      process.stdout.write(`${section}\n`);
    })
    .catch((err) => {
      process.stderr.write(`bench: ${(err as Error).message}\n`);
      process.exitCode = 1;
    });
}
