/**
 * `npm run bench:crossval`: leave-one-source-out on the shared development faces (faces-dev and faces-diffusion-dev,
 * linked as six sources under data/generalization, never copied) with the `faces` preset (REALFAKE_BENCH_PRESET
 * for another), as `realfake crossval --by-source` does; the matrix, each source's held-out numbers with 95 %
 * intervals, the wall time, machine and load go into BENCHMARKS.md's bench:crossval block. Resumes an unfinished
 * run in outputs/crossval/bench-<preset>. Stops with a clear message when the shared folders are absent.
 * `--from DIR --minutes M` writes the block from a cross-validation `realfake crossval` already finished in DIR
 * (M: its measured wall time), saying so, instead of training again.
 */
import * as os from 'os';
import * as path from 'path';
import { describeBackend, initBackend } from '../lib/backend/backend';
import { resolveConfig } from '../lib/config';
import { CROSSVAL_FILE, runCrossval, sourceKey, writeCrossvalReport, type CrossvalResult } from '../lib/crossval';
import { ensureDataset } from '../lib/data/dataset-cache';
import { linkSharedSources, missingSharedSources, sharedRoot } from '../lib/data/source-folders';
import { findImageData } from '../lib/data/sources';
import { projectRoot, readJson } from '../lib/files';
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

const sourcesNote = () =>
  `Sources: ${sharedRoot()} (faces-dev: FFHQ and StyleGAN; faces-diffusion-dev: Stable Diffusion 1.x, Unsplash, lab portraits; all 256 px JPEG q75).`;

/** The BENCHMARKS.md block for a finished cross-validation. */
export function crossvalSection(result: CrossvalResult, markdown: string, how: string): string {
  return [
    `## Leave-one-source-out on the shared faces (\`npm run bench:crossval\`)`,
    '',
    how,
    '',
    markdown,
    '',
    heldOutSummary(result) + '.',
  ].join('\n');
}

/** `--from DIR --minutes M`: the block from a finished `realfake crossval` folder. */
async function fromFinished(dir: string, minutes: string | undefined): Promise<void> {
  const result = readJson<CrossvalResult>(path.join(dir, CROSSVAL_FILE), 'cross-validation');
  const report = await writeCrossvalReport(result, dir);
  const how =
    `From \`realfake crossval --by-source\` in ${path.relative(projectRoot(), path.resolve(dir))} (${result.folds.length} folds, preset settings in its crossval.json), ` +
    `written ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC; wall time ${minutes ?? 'not recorded'} min on ${os.cpus().length} x ${os.cpus()[0]?.model.trim()}, native backend. ${sourcesNote()}`;
  process.stdout.write(`wrote ${writeSection('crossval', crossvalSection(result, report.markdown, how))}\n`);
}

async function main(): Promise<void> {
  const log = (line: string) => process.stdout.write(line + '\n');
  const from = process.argv.indexOf('--from');
  if (from > 0) {
    const minutes = process.argv.indexOf('--minutes');
    return fromFinished(process.argv[from + 1], minutes > 0 ? process.argv[minutes + 1] : undefined);
  }
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
  const how =
    `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${os.cpus().length} x ${os.cpus()[0]?.model.trim()}, ${describeBackend(backend)}; ` +
    `preset \`${preset}\`; ${minutes.toFixed(1)} min in all (folds already done when it started are read back, not retrained); load average ${load.toFixed(1)} at the start, ${os.loadavg()[0].toFixed(1)} at the end. ` +
    `Same as \`realfake data shared --data-root data/generalization && realfake crossval --by-source --preset ${preset} --data-root data/generalization\`. ${sourcesNote()}`;
  const body = crossvalSection(result, report.markdown, how);
  log(`\n${body}\nwrote ${writeSection('crossval', body)}`);
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`bench:crossval: ${(err as Error).message}\n`);
    process.exitCode = 1;
  });
}
