/**
 * `npm run bench:real`: train and evaluate on the real development faces in ../shared/faces-dev (700 FFHQ,
 * 700 StyleGAN, all 256px JPEG q75, so only content separates them), with a config that finishes in about
 * 15 minutes on 2 CPU cores, and append accuracy, AUC and time to BENCHMARKS.md. Skips, saying so, when the
 * folder is absent. The data is read in place and never copied into the repository.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { describeBackend } from '../lib/backend/backend';
import { resolveConfig } from '../lib/config';
import { evaluateRun } from '../lib/eval/evaluate';
import { trainRun } from '../lib/train/experiment';
import { projectRoot } from '../lib/files';
import { parallelStepperFactory } from '../lib/train/parallel';
import { ensureDataset } from '../lib/data/dataset-cache';
import { REAL_SECTION_MARKER } from './bench';

/** 64 px keeps an epoch near a minute on 2 cores; a test split gives honest numbers (checkpoint chosen on val). */
export const REAL_BENCH_CONFIG = resolveConfig({
  preset: 'smoke',
  overrides: { imageSize: 64, limitPerClass: 700, epochs: 10, batchSize: 32, learningRate: 1e-3, valFraction: 0.15, testFraction: 0.15, seed: 42 },
});

async function main(): Promise<void> {
  const log = (line: string) => process.stdout.write(line + '\n');
  const root = projectRoot();
  const faces = path.resolve(root, '..', 'shared', 'faces-dev');
  if (!fs.existsSync(path.join(faces, 'real')) || !fs.existsSync(path.join(faces, 'fake'))) {
    log(`bench:real skipped: ${faces}/{real,fake} not found (the development faces are not part of the repository)`);
    return;
  }
  const started = Date.now();
  const config = REAL_BENCH_CONFIG;
  const work = path.join(root, 'outputs', 'bench-real');
  const dataDir = await ensureDataset({ kind: 'user', realDir: path.join(faces, 'real'), fakeDir: path.join(faces, 'fake') }, config, work, log);
  const trainStarted = Date.now();
  const trained = await trainRun({ dataDir, config, preset: 'bench-real', runsDir: path.join(work, 'runs'), log, makeStepper: parallelStepperFactory(config, log) });
  const trainSeconds = (Date.now() - trainStarted) / 1000;
  const evaluation = await evaluateRun(trained.run.dir);
  const m = evaluation.metrics;
  const seconds = (Date.now() - started) / 1000;
  const row = [
    new Date().toISOString().slice(0, 10),
    `${config.imageSize} px ${config.resize}, ${config.epochs} epochs, batch ${config.batchSize}, lr ${config.learningRate}, seed ${config.seed}`,
    `${trained.run.meta.splitSizes.train}/${trained.run.meta.splitSizes.val}/${trained.run.meta.splitSizes.test}`,
    `${trained.bestEpoch}`,
    `${m.split} (${m.n})`,
    m.accuracy.toFixed(4),
    m.auc.toFixed(4),
    `TP ${m.confusion.tp} FP ${m.confusion.fp} FN ${m.confusion.fn} TN ${m.confusion.tn}`,
    `${(trainSeconds / 60).toFixed(1)} min`,
    `${(seconds / 60).toFixed(1)} min`,
    `${describeBackend(trained.backend).split(' ')[0]}, ${trained.run.meta.workers ?? 1} workers, load ${os.loadavg()[0].toFixed(1)}`,
  ];
  const header = [
    REAL_SECTION_MARKER,
    '## Real data: ../shared/faces-dev (`npm run bench:real`)',
    '',
    '700 FFHQ + 700 StyleGAN (v1) faces, 256px JPEG q75 in both classes (only content separates them); preprocessed with',
    'nearest resize; checkpoint chosen on the validation split, metrics on the held-out test split. One row per run.',
    '',
    '| date | config | train/val/test | best epoch | evaluated on | accuracy | AUC | confusion (fake +) | training | total | backend |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ].join('\n');
  const file = path.join(root, 'BENCHMARKS.md');
  let text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Benchmarks\n';
  if (!text.includes(REAL_SECTION_MARKER)) text = `${text.trimEnd()}\n\n${header}\n`;
  text = `${text.trimEnd()}\n| ${row.join(' | ')} |\n`;
  fs.writeFileSync(file, text);
  log(`\nfaces-dev: accuracy ${m.accuracy.toFixed(4)}, AUC ${m.auc.toFixed(4)} on ${m.n} test images; ${(seconds / 60).toFixed(1)} min; run ${trained.run.dir}\nappended to ${file}`);
}

main().catch((err) => {
  process.stderr.write(`bench:real: ${(err as Error).message}\n`);
  process.exitCode = 1;
});
