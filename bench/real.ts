/**
 * `npm run bench:real`: train and evaluate on the real development faces in ../shared/faces-dev (700 FFHQ,
 * 700 StyleGAN, all 256px JPEG q75, so only content separates them): the study CNN and the `faces` preset on one
 * split, each row appended to BENCHMARKS.md with accuracy, AUC and time. Skips, saying so, when the
 * folder is absent. The data is read in place and never copied into the repository.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { describeBackend } from '../lib/backend/backend';
import { Config, resolveConfig } from '../lib/config';
import { evaluateRun } from '../lib/eval/evaluate';
import { trainRun } from '../lib/train/experiment';
import { projectRoot, writeFileAtomic } from '../lib/files';
import { parallelStepperFactory } from '../lib/train/parallel';
import { ensureDataset } from '../lib/data/dataset-cache';
import { REAL_SECTION_MARKER } from './bench';

const FACES = resolveConfig({ preset: 'faces' });
const SAME_SPLIT = {
  limitPerClass: FACES.limitPerClass,
  valFraction: FACES.valFraction,
  testFraction: FACES.testFraction,
  splitSeed: FACES.splitSeed,
  seed: FACES.seed,
};

/**
 * The study's CNN at 64 px with Adam 1e-4 for 40 epochs (the recipe measured in PyTorch on these faces: it stays
 * at ln 2 for ~15-20 epochs, then learns; at 1e-3 it does not learn) and the `faces` preset, both on the faces
 * preset's split, so the two rows share one test part.
 * REALFAKE_BENCH_ROWS=study or =faces runs one of them.
 */
export const REAL_BENCH_CONFIGS: Record<string, Config> = {
  study: resolveConfig({
    preset: 'smoke',
    overrides: { imageSize: 64, epochs: 40, batchSize: 32, learningRate: 1e-4, ...SAME_SPLIT },
  }),
  faces: FACES,
};
/** The study row's config (kept under its old name for callers). */
export const REAL_BENCH_CONFIG = REAL_BENCH_CONFIGS.study;

function describeConfig(config: Config): string {
  const base = `${config.imageSize} px ${config.resize}, ${config.epochs} epochs, batch ${config.batchSize}, lr ${config.learningRate}, seed ${config.seed}`;
  if (config.model === 'study' && config.input === 'unit') return `study CNN, ${base}`;
  return `\`faces\` preset: ${config.model}${config.model === 'facefeat' ? ` (${config.facePooling} pooling)` : ''}, ${base}, wd ${config.weightDecay}, ls ${config.labelSmoothing}, ${config.lrSchedule}, monitor ${config.monitor}${config.ttaFlip ? ', flip TTA' : ''}`;
}

/**
 * BENCHMARKS.md with `row` added under the last row of the bench:real table (the section runs from its marker to
 * the next section's marker), not at the end of the file where other sections and notes follow; the section with
 * its header is appended first when the file has none.
 */
export function insertRealRow(text: string, header: string, row: string): string {
  if (!text.includes(REAL_SECTION_MARKER)) text = `${text.trimEnd()}\n\n${header}\n`;
  const start = text.indexOf(REAL_SECTION_MARKER);
  const next = text.indexOf('<!--', start + REAL_SECTION_MARKER.length);
  const end = next < 0 ? text.length : next;
  const lines = text.slice(start, end).split('\n');
  const last = lines.map((line) => line.startsWith('|')).lastIndexOf(true);
  lines.splice(last + 1, 0, row);
  return text.slice(0, start) + lines.join('\n') + text.slice(end);
}

async function main(): Promise<void> {
  const log = (line: string) => process.stdout.write(line + '\n');
  const root = projectRoot();
  const faces = path.resolve(root, '..', 'shared', 'faces-dev');
  if (!fs.existsSync(path.join(faces, 'real')) || !fs.existsSync(path.join(faces, 'fake'))) {
    log(`bench:real skipped: ${faces}/{real,fake} not found (the development faces are not part of the repository)`);
    return;
  }
  const only = process.env.REALFAKE_BENCH_ROWS;
  for (const [name, config] of Object.entries(REAL_BENCH_CONFIGS)) {
    if (only && only !== name) continue;
    await benchRow(name, config, faces, root, log);
  }
}

async function benchRow(
  name: string,
  config: Config,
  faces: string,
  root: string,
  log: (line: string) => void,
): Promise<void> {
  const started = Date.now();
  const work = path.join(root, 'outputs', 'bench-real');
  const dataDir = await ensureDataset(
    { kind: 'user', realDir: path.join(faces, 'real'), fakeDir: path.join(faces, 'fake') },
    config,
    work,
    log,
  );
  const trainStarted = Date.now();
  const trained = await trainRun({
    dataDir,
    config,
    preset: `bench-real-${name}`,
    runsDir: path.join(work, 'runs'),
    log,
    makeStepper: parallelStepperFactory(config, log),
  });
  const trainSeconds = (Date.now() - trainStarted) / 1000;
  const evaluation = await evaluateRun(trained.run.dir);
  const m = evaluation.metrics;
  const seconds = (Date.now() - started) / 1000;
  const row = [
    new Date().toISOString().slice(0, 10),
    describeConfig(config),
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
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Benchmarks\n';
  writeFileAtomic(file, insertRealRow(text, header, `| ${row.join(' | ')} |`));
  log(
    `\nfaces-dev ${name}: accuracy ${m.accuracy.toFixed(4)}, AUC ${m.auc.toFixed(4)} on ${m.n} test images; ${(seconds / 60).toFixed(1)} min; run ${trained.run.dir}\nappended to ${file}`,
  );
}

if (require.main === module)
  main().catch((err) => {
    process.stderr.write(`bench:real: ${(err as Error).message}\n`);
    process.exitCode = 1;
  });
