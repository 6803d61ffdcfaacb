/**
 * `npm run bench:crossval`: leave-one-source-out on the shared development faces (faces-dev and faces-diffusion-dev,
 * linked as six sources under data/generalization, never copied) with the `faces` preset (REALFAKE_BENCH_PRESET
 * for another), as `realfake crossval --by-source` does; the matrix, each source's held-out numbers with 95 %
 * intervals, the wall time, machine and load go into BENCHMARKS.md's bench:crossval block. Resumes an unfinished
 * run in outputs/crossval/bench-<preset>. Stops with a clear message when the shared folders are absent.
 */
import * as os from 'os';
import * as path from 'path';
import { describeBackend, initBackend } from '../lib/backend/backend';
import { resolveConfig } from '../lib/config';
import { runCrossval, sourceKey, writeCrossvalReport, type CrossvalResult } from '../lib/crossval';
import { ensureDataset } from '../lib/data/dataset-cache';
import { linkSharedSources, missingSharedSources, sharedRoot } from '../lib/data/source-folders';
import { findImageData } from '../lib/data/sources';
import { projectRoot } from '../lib/files';
import { writeSection } from './sections';

/** One line on the held-out sources: the mean and the worst, per class. */
export function heldOutSummary(result: CrossvalResult): string {
  const held = result.folds.flatMap((f) => f.perSource.filter((m) => sourceKey(m.label, m.source) === f.heldOut));
  const part = (label: number, what: string) => {
    const ms = held.filter((m) => m.label === label);
    if (!ms.length) return '';
    const worst = ms.reduce((a, b) => (b.auc.estimate < a.auc.estimate ? b : a));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    return `held-out ${what} sources: mean AUC ${mean(ms.map((m) => m.auc.estimate)).toFixed(3)}, mean ${ms[0].rateName} ${mean(ms.map((m) => m.rate.estimate)).toFixed(3)}; lowest AUC ${worst.auc.estimate.toFixed(3)} (${worst.source})`;
  };
  return [part(1, 'fake'), part(0, 'real')].filter(Boolean).join('; ');
}

async function main(): Promise<void> {
  const log = (line: string) => process.stdout.write(line + '\n');
  const missing = missingSharedSources();
  if (missing.length) {
    log(
      `bench:crossval skipped: ${missing.join(', ')} not found (set REALFAKE_SHARED to the folder holding faces-dev and faces-diffusion-dev)`,
    );
    return;
  }
  const preset = process.env.REALFAKE_BENCH_PRESET ?? 'faces';
  const config = resolveConfig({ preset });
  const dataRoot = path.join(projectRoot(), 'data', 'generalization');
  linkSharedSources(dataRoot);
  const backend = await initBackend();
  const started = Date.now();
  const load = os.loadavg()[0];
  const dataDir = await ensureDataset(findImageData(dataRoot)!, config, dataRoot, log);
  const out = path.join(projectRoot(), 'outputs', 'crossval', `bench-${preset}`);
  const result = await runCrossval({ dataDir, config, preset, out, log });
  const report = await writeCrossvalReport(result, out);
  const minutes = (Date.now() - started) / 60000;
  const body = [
    `## Leave-one-source-out on the shared faces (\`npm run bench:crossval\`)`,
    '',
    `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${os.cpus().length} x ${os.cpus()[0]?.model.trim()}, ${describeBackend(backend)}; ` +
      `preset \`${preset}\`; ${minutes.toFixed(1)} min in all (folds already done when it started are read back, not retrained); load average ${load.toFixed(1)} at the start, ${os.loadavg()[0].toFixed(1)} at the end. ` +
      `Same as \`realfake data shared --data-root data/generalization && realfake crossval --by-source --preset ${preset} --data-root data/generalization\`. Sources: ${sharedRoot()} (faces-dev: FFHQ and StyleGAN; faces-diffusion-dev: Stable Diffusion 1.x, Unsplash, lab portraits; all 256 px JPEG q75).`,
    '',
    report.markdown,
    '',
    heldOutSummary(result) + '.',
  ].join('\n');
  log(`\n${body}\nwrote ${writeSection('crossval', body)}`);
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`bench:crossval: ${(err as Error).message}\n`);
    process.exitCode = 1;
  });
}
