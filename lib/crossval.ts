/**
 * Leave-one-source-out cross-validation: the field's test of whether a detector generalises (CNNDetection,
 * Wang et al. 2020; UnivFD, Ojha et al. 2023: train on some generators, test on one never seen).
 *
 * One fixed, source-stratified split of the dataset (lib/data/split.ts) gives every fold the same test part. Then:
 *   - the fold "all sources" trains on every source's train/validation rows and is tested on the test part;
 *   - for each source S (every fake source, and every real one), the fold "without S" trains on the same rows
 *     minus S's, and is tested on the test part plus ALL of S's images (S was never seen, so every image of it
 *     is a fair test).
 * Every fold is an ordinary run (its split recorded in split.json) evaluated by evaluateRun, so its metrics.json
 * holds per-source numbers (lib/eval/per-source.ts): the train-source x test-source matrix is read from them.
 * The cell (without S, S) is the held-out number: how the detector does on a source it never saw.
 * Resumable: a fold whose run folder has metrics.json is read, not trained again.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Config } from './config';
import { loadDataset, type Dataset } from './data/dataset';
import { metricIntervals } from './eval/bootstrap';
import { computeMetrics, metricsToJson } from './metrics/metrics';
import { perSourceMetrics } from './eval/per-source';
import { familyOf } from './model/families';
import { loadModel } from './model/model-io';
import { featureFile, featureKey, featureScores, frozenFeatureProblem } from './train/frozen-features';
import { openRun } from './runs/runs';
import { datasetSplit } from './data/split';
import { evaluateRun, predictionsCsv } from './eval/evaluate';
import type { SourceMetrics } from './eval/per-source';
import { readJson, writeFileAtomic, writeJsonAtomic } from './files';
import { writeFigures, type Figure } from './viz/plots';
import { sourceMatrixFigure } from './viz/source-matrix';
import type { SplitIndices } from './random';
import { trainRun, type TrainRunOptions } from './train/experiment';
import { interruptRequested, InterruptedError } from './interrupt';

/** A source of one class: 'real/ffhq', 'fake/stylegan'. */
export const sourceKey = (label: number, source: string): string => `${label ? 'fake' : 'real'}/${source}`;

export interface Fold {
  /** 'all sources', or the held-out source's key. */
  name: string;
  heldOut: string | null;
  split: SplitIndices;
}

/** The folds for a dataset's labels and sources under a config (see the module comment). */
export function sourceFolds(labels: Uint8Array, sources: string[], config: Config, only?: string[]): Fold[] {
  if (!(config.testFraction > 0)) {
    throw new Error(
      "cross-validation needs a test part (testFraction > 0): a held-out source is scored against the other sources' test images",
    );
  }
  const base = datasetSplit(labels, { ...config, stratifyBySource: true }, sources);
  const keys = [...new Set(sources.map((s, row) => sourceKey(labels[row], s)))].sort();
  const unknown = (only ?? []).filter((k) => !keys.includes(k));
  if (unknown.length) throw new Error(`--hold-out: no source ${unknown.join(', ')} (the sources: ${keys.join(', ')})`);
  const folds: Fold[] = [{ name: 'all sources', heldOut: null, split: base }];
  for (const key of keys) {
    if (only && !only.includes(key)) continue;
    const inS = (row: number) => sourceKey(labels[row], sources[row]) === key;
    const notS = (rows: number[]) => rows.filter((r) => !inS(r));
    const sRows = [...base.train, ...base.val].filter(inS);
    const split = {
      train: notS(base.train),
      val: notS(base.val),
      test: [...base.test, ...sRows].sort((a, b) => a - b),
    };
    for (const label of [0, 1]) {
      if (!split.train.some((r) => labels[r] === label)) {
        throw new Error(
          `holding out ${key} leaves no ${label ? 'fake' : 'real'} training images: add another ${label ? 'fake' : 'real'} source`,
        );
      }
    }
    folds.push({ name: `without ${key}`, heldOut: key, split });
  }
  return folds;
}

export interface FoldResult {
  name: string;
  heldOut: string | null;
  runDir: string;
  trainSources: string[];
  perSource: SourceMetrics[];
}

export interface CrossvalResult {
  dataDir: string;
  /** The dataset's fingerprint and the config: folds are resumed only when both are the same. */
  fingerprint: string;
  config: Config;
  sources: string[];
  folds: FoldResult[];
}

export const CROSSVAL_FILE = 'crossval.json';

export interface CrossvalOptions {
  dataDir: string;
  config: Config;
  preset: string;
  /** The cross-validation's folder: crossval.json and runs/ (one run folder per fold). */
  out: string;
  /** Hold out only these sources ('fake/sd1_eyewear' ...); default every source. */
  holdOut?: string[];
  log?: (line: string) => void;
  train?: Partial<Pick<TrainRunOptions, 'makeStepper' | 'callbacks'>>;
}

/** Trains and evaluates every fold (resuming finished ones), writing crossval.json after each. */
export async function runCrossval(options: CrossvalOptions): Promise<CrossvalResult> {
  const log = options.log ?? ((line: string) => process.stdout.write(line + '\n'));
  const dataset = loadDataset(options.dataDir);
  const folds = sourceFolds(dataset.y, dataset.sources, options.config, options.holdOut);
  const file = path.join(options.out, CROSSVAL_FILE);
  const earlier = fs.existsSync(file) ? readJson<CrossvalResult>(file, 'cross-validation state') : undefined;
  // Folds made from other data or settings are not this cross-validation's: train them again.
  const previous =
    earlier?.fingerprint === dataset.info.fingerprint &&
    JSON.stringify(earlier.config) === JSON.stringify(options.config)
      ? earlier
      : undefined;
  if (earlier && !previous) log(`${file}: made with other data or settings; its folds are not reused`);
  const result: CrossvalResult = {
    dataDir: path.resolve(options.dataDir),
    fingerprint: dataset.info.fingerprint,
    config: options.config,
    sources: [...new Set(dataset.sources.map((s, row) => sourceKey(dataset.y[row], s)))].sort(),
    folds: [],
  };
  fs.mkdirSync(options.out, { recursive: true });
  for (const [i, fold] of folds.entries()) {
    const done = previous?.folds.find(
      (f) => f.name === fold.name && fs.existsSync(path.join(f.runDir, 'metrics.json')),
    );
    if (done) {
      log(`fold ${i + 1}/${folds.length} (${fold.name}): done before, in ${done.runDir}`);
      result.folds.push(done);
      continue;
    }
    log(
      `fold ${i + 1}/${folds.length} (${fold.name}): train ${fold.split.train.length}, validation ${fold.split.val.length}, test ${fold.split.test.length}`,
    );
    const trained = await trainRun({
      dataDir: options.dataDir,
      config: { ...options.config, stratifyBySource: true },
      preset: options.preset,
      runsDir: path.join(options.out, 'runs'),
      split: fold.split,
      log: null,
      ...options.train,
    });
    if (interruptRequested())
      throw new InterruptedError(`cross-validation interrupted (Ctrl-C) in fold ${fold.name}; run again to resume`);
    const perSource = await evaluateFold(trained.run.dir, dataset, options.config);
    const trainSources = [...new Set(fold.split.train.map((r) => sourceKey(dataset.y[r], dataset.sources[r])))].sort();
    result.folds.push({ name: fold.name, heldOut: fold.heldOut, runDir: trained.run.dir, trainSources, perSource });
    writeJsonAtomic(file, result);
    const own = perSource.find((m) => sourceKey(m.label, m.source) === fold.heldOut);
    log(
      `  best epoch ${trained.bestEpoch}` +
        (own
          ? `; held-out ${fold.heldOut}: ${own.rateName} ${own.rate.estimate.toFixed(3)}, AUC ${own.auc.estimate.toFixed(3)}`
          : ''),
    );
  }
  writeJsonAtomic(file, result);
  return result;
}

/**
 * A fold's per-source metrics on its test rows, with metrics.json and predictions.csv written into its run folder
 * as evaluate writes them. A model that trains on cached frozen-backbone features (facefeat) is scored from the
 * same cache (lib/train/frozen-features.ts featureScores: the model's own head on the features, flips averaged as
 * its config says), so each image passes the backbone once for all folds; any other model is evaluated by
 * evaluateRun.
 */
async function evaluateFold(runDir: string, dataset: Dataset, config: Config): Promise<SourceMetrics[]> {
  const plan = familyOf(config).training;
  if (plan.kind !== 'frozen-backbone' || frozenFeatureProblem(config))
    return (await evaluateRun(runDir, { figures: false })).metrics.perSource;
  const run = openRun(runDir);
  const rows = run.split.test;
  const model = await loadModel(path.join(runDir, 'model'));
  let scores: Float32Array;
  try {
    scores = await featureScores(model, dataset, rows, {
      backbone: plan.backbone,
      key: featureKey(dataset.info.fingerprint, run.config),
      file: featureFile(run.meta.dataDir, dataset.info.fingerprint, run.config),
      ttaFlip: run.config.ttaFlip,
    });
  } finally {
    model.dispose();
  }
  const labels = Uint8Array.from(rows, (r) => dataset.y[r]);
  const sources = rows.map((r) => dataset.sources[r]);
  const bootstrap = { seed: run.config.seed };
  const perSource = perSourceMetrics(labels, scores, sources, run.config.threshold, bootstrap);
  const metrics = {
    ...computeMetrics(labels, scores, run.config.threshold),
    split: 'test',
    intervals: metricIntervals(labels, scores, run.config.threshold, bootstrap),
    perSource,
    scoring: { mode: 'resize', ttaFlip: run.config.ttaFlip, models: 1, from: 'cached backbone features' },
  };
  writeFileAtomic(path.join(runDir, 'metrics.json'), metricsToJson(metrics));
  const predictions = rows.map((r, i) => ({
    file: dataset.files[r],
    label: labels[i],
    source: sources[i],
    pFake: scores[i],
  }));
  writeFileAtomic(path.join(runDir, 'predictions.csv'), predictionsCsv(predictions));
  return perSource;
}

export type MatrixMetric = 'auc' | 'rate';

/** The fold x test-source matrix of one metric's estimates (NaN where a fold has no such test source). */
export function crossvalMatrix(
  result: CrossvalResult,
  metric: MatrixMetric,
): { rows: string[]; columns: string[]; values: number[][] } {
  const columns = result.sources;
  const values = result.folds.map((fold) =>
    columns.map((key) => {
      const m = fold.perSource.find((p) => sourceKey(p.label, p.source) === key);
      return m ? m[metric].estimate : NaN;
    }),
  );
  return { rows: result.folds.map((f) => f.name), columns, values };
}

/** The matrix as a Markdown table: each cell "AUC (rate)", the held-out cells in bold. */
export function crossvalMarkdown(result: CrossvalResult): string {
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '-');
  const header = `| trained on \\ tested on | ${result.sources.join(' | ')} |`;
  const rule = `|---|${result.sources.map(() => '---|').join('')}`;
  const lines = result.folds.map((fold) => {
    const cells = result.sources.map((key) => {
      const m = fold.perSource.find((p) => sourceKey(p.label, p.source) === key);
      if (!m) return '-';
      const cell = `${f(m.auc.estimate)} (${m.rateName === 'recall' ? 'rec' : 'spec'} ${f(m.rate.estimate)})`;
      return key === fold.heldOut ? `**${cell}**` : cell;
    });
    return `| ${fold.name} | ${cells.join(' | ')} |`;
  });
  return [header, rule, ...lines].join('\n');
}

/** The heatmap of held-out AUCs (lib/viz/source-matrix.ts). */
export function crossvalFigure(result: CrossvalResult): Figure {
  return sourceMatrixFigure(
    crossvalMatrix(result, 'auc'),
    result.folds.map((f) => f.heldOut),
    'Leave-one-source-out: AUC per test source (framed: the source left out of training)',
  );
}

/** crossval.md (the matrix, then each held-out source's own number) and figures/ (the heatmap, HTML and PNG). */
export async function writeCrossvalReport(
  result: CrossvalResult,
  out: string,
  options: { svg?: boolean } = {},
): Promise<{ files: string[]; markdown: string; note: string }> {
  const heldOut = result.folds
    .filter((f) => f.heldOut)
    .map((f) => {
      const m = f.perSource.find((p) => sourceKey(p.label, p.source) === f.heldOut);
      const interval = (i: { estimate: number; low: number; high: number }) =>
        `${i.estimate.toFixed(3)} [${i.low.toFixed(3)}, ${i.high.toFixed(3)}]`;
      return m
        ? `| ${f.heldOut} | ${m.n} | ${m.rateName} ${interval(m.rate)} | ${interval(m.auc)} |`
        : `| ${f.heldOut} | - | - | - |`;
    });
  const markdown = [
    'Each cell: AUC against the whole other class (rate at the run threshold); bold: the source left out of that training.',
    '',
    crossvalMarkdown(result),
    '',
    '| held-out source | images | rate [95 % CI] | AUC [95 % CI] |',
    '|---|---|---|---|',
    ...heldOut,
  ].join('\n');
  const md = path.join(out, 'crossval.md');
  writeFileAtomic(md, markdown + '\n');
  const written = await writeFigures({ source_matrix: crossvalFigure(result) }, path.join(out, 'figures'), {
    svg: options.svg,
  });
  return { files: [md, ...written.files], markdown, note: written.note };
}
