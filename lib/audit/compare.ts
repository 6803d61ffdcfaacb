/**
 * The comparison a researcher wants: the study's preprocessing against harmonised preprocessing, for each
 * probe and (optionally) the study's own CNN, on the same images, the same split and the same recipe. Only
 * `harmonize` differs between the two columns, so any gap is what the data's shape was worth.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Config } from '../config';
import { evaluateRun } from '../eval/evaluate';
import { csvField, writeFileAtomic } from '../files';
import { ensureDataset } from '../data/dataset-cache';
import type { DataSource } from '../data/sources';
import { trainRun, TrainRunOptions } from '../train/experiment';
import type { Figure } from '../viz/plots';
import { writeFigureHtml } from '../viz/plots';
import { bootstrapAccuracyAuc, type ValueInterval as Interval } from '../eval/bootstrap';
import { PROBE_NAMES, ProbeName, ProbeOptions, runProbes } from './probes';

export type Preprocessing = 'study' | 'harmonized';
export type ModelName = ProbeName | 'study CNN';

export interface ComparisonRow {
  preprocessing: Preprocessing;
  model: ModelName;
  accuracy: Interval;
  auc: Interval;
  trainN: number;
  evalN: number;
  split: string;
  seconds: number;
  /** The study CNN's run folder. */
  runDir?: string;
  bestEpoch?: number;
}

export interface CompareOptions {
  source: DataSource;
  /** The recipe; `harmonize` is set to false, then true. */
  config: Config;
  /** Preprocessed datasets go to <workDir>/cache, study-CNN runs to <workDir>/runs. */
  workDir: string;
  /** Also train and evaluate the study's CNN under both preprocessings (minutes to hours). */
  studyCnn?: boolean;
  probes?: ProbeOptions;
  makeStepper?: (config: Config, log: (line: string) => void) => TrainRunOptions['makeStepper'];
  log?: (line: string) => void;
}

/** Step: every probe (or `options.probes`) on one preprocessed dataset, as comparison rows. */
export async function probeRows(
  preprocessing: Preprocessing,
  dataDir: string,
  config: Config,
  options: ProbeOptions = {},
  log: (line: string) => void = () => undefined,
): Promise<ComparisonRow[]> {
  const rows: ComparisonRow[] = [];
  for (const r of await runProbes(dataDir, config, options)) {
    rows.push({
      preprocessing,
      model: r.probe,
      accuracy: r.accuracy,
      auc: r.auc,
      trainN: r.trainN,
      evalN: r.evalN,
      split: r.split,
      seconds: r.seconds,
    });
    log(`${preprocessing} ${r.probe}: accuracy ${fmt(r.accuracy)}, AUC ${fmt(r.auc)} (${r.seconds.toFixed(1)} s)`);
  }
  return rows;
}

/** Step: the study's CNN trained with `config` on one preprocessed dataset (runs into workDir/runs), evaluated. */
export async function studyCnnRow(
  preprocessing: Preprocessing,
  dataDir: string,
  config: Config,
  options: Pick<CompareOptions, 'workDir' | 'makeStepper' | 'log'>,
): Promise<ComparisonRow> {
  const log = options.log ?? (() => undefined);
  const started = performance.now();
  const trained = await trainRun({
    dataDir,
    config,
    preset: `compare-${preprocessing}`,
    runsDir: path.join(options.workDir, 'runs'),
    log,
    makeStepper: options.makeStepper?.(config, log),
  });
  const evaluation = await evaluateRun(trained.run.dir);
  const labels = evaluation.predictions.map((p) => p.label);
  const scores = evaluation.predictions.map((p) => p.pFake);
  const boot = bootstrapAccuracyAuc(labels, scores, { seed: config.seed, threshold: config.threshold });
  log(`${preprocessing} study CNN: accuracy ${fmt(boot.accuracy)}, AUC ${fmt(boot.auc)}`);
  return {
    preprocessing,
    model: 'study CNN',
    accuracy: boot.accuracy,
    auc: boot.auc,
    trainN: trained.run.meta.splitSizes.train,
    evalN: evaluation.metrics.n,
    split: evaluation.metrics.split,
    seconds: (performance.now() - started) / 1000,
    runDir: trained.run.dir,
    bestEpoch: trained.bestEpoch,
  };
}

/** Both preprocessings, each: its dataset (cached), the probes, then (with studyCnn) the study's CNN. */
export async function compareStudyVsHarmonized(options: CompareOptions): Promise<ComparisonRow[]> {
  const log = options.log ?? (() => undefined);
  const rows: ComparisonRow[] = [];
  for (const harmonize of [false, true]) {
    const preprocessing: Preprocessing = harmonize ? 'harmonized' : 'study';
    const config: Config = { ...options.config, harmonize };
    const dataDir = await ensureDataset(options.source, config, options.workDir, log);
    rows.push(...(await probeRows(preprocessing, dataDir, config, options.probes, log)));
    if (options.studyCnn) rows.push(await studyCnnRow(preprocessing, dataDir, config, options));
  }
  return rows;
}

/** "0.95 [0.91, 0.98]" */
export function fmt(i: Interval, digits = 3): string {
  const f = (v: number) => (Number.isFinite(v) ? v.toFixed(digits) : 'n/a');
  return `${f(i.value)} [${f(i.lo)}, ${f(i.hi)}]`;
}

const MODEL_ORDER: ModelName[] = [...PROBE_NAMES, 'study CNN'];

/** One row per model: accuracy and AUC under each preprocessing, with 95 % intervals (plain objects for danfojs). */
export function comparisonTable(rows: ComparisonRow[]): Array<Record<string, string>> {
  const models = MODEL_ORDER.filter((m) => rows.some((r) => r.model === m));
  const cell = (model: ModelName, pre: Preprocessing, what: 'accuracy' | 'auc') => {
    const row = rows.find((r) => r.model === model && r.preprocessing === pre);
    return row ? fmt(row[what]) : '';
  };
  return models.map((model) => ({
    model,
    'accuracy, study': cell(model, 'study', 'accuracy'),
    'accuracy, harmonized': cell(model, 'harmonized', 'accuracy'),
    'AUC, study': cell(model, 'study', 'auc'),
    'AUC, harmonized': cell(model, 'harmonized', 'auc'),
  }));
}

export function markdownTable(records: Array<Record<string, string | number>>): string {
  if (records.length === 0) return '';
  const columns = Object.keys(records[0]);
  return [
    `| ${columns.join(' | ')} |`,
    `|${columns.map(() => '---').join('|')}|`,
    ...records.map((r) => `| ${columns.map((c) => String(r[c])).join(' | ')} |`),
  ].join('\n');
}

/** Accuracy (left) and AUC (right) per model, study vs harmonised bars with 95 % interval whiskers. */
export function comparisonFigure(rows: ComparisonRow[]): Figure {
  const models = MODEL_ORDER.filter((m) => rows.some((r) => r.model === m));
  const colours: Record<Preprocessing, string> = { study: '#d62728', harmonized: '#1f77b4' };
  const data: Array<Record<string, unknown>> = [];
  (['accuracy', 'auc'] as const).forEach((what, panel) => {
    for (const pre of ['study', 'harmonized'] as const) {
      const picked = models.map((m) => rows.find((r) => r.model === m && r.preprocessing === pre));
      const values = picked.map((r) => r?.[what].value ?? null);
      data.push({
        type: 'bar',
        name: `${pre} preprocessing`,
        legendgroup: pre,
        showlegend: panel === 0,
        x: models,
        y: values,
        xaxis: panel ? 'x2' : 'x',
        yaxis: panel ? 'y2' : 'y',
        marker: { color: colours[pre] },
        error_y: {
          type: 'data',
          symmetric: false,
          array: picked.map((r) => (r ? r[what].hi - r[what].value : null)),
          arrayminus: picked.map((r) => (r ? r[what].value - r[what].lo : null)),
        },
      });
    }
  });
  const chance = (axis: string) => ({
    type: 'line',
    xref: `${axis} domain`,
    x0: 0,
    x1: 1,
    yref: axis === 'x' ? 'y' : 'y2',
    y0: 0.5,
    y1: 0.5,
    line: { dash: 'dot', color: '#777' },
  });
  return {
    data,
    layout: {
      title: { text: 'Study preprocessing vs harmonised: same images, same split, same recipe (95 % bootstrap)' },
      barmode: 'group',
      xaxis: { domain: [0, 0.47] },
      xaxis2: { domain: [0.53, 1], anchor: 'y2' },
      yaxis: { title: { text: 'Accuracy' }, range: [0, 1.05] },
      yaxis2: { title: { text: 'ROC AUC' }, range: [0, 1.05], anchor: 'x2' },
      shapes: [chance('x'), chance('x2')],
      legend: { orientation: 'h', x: 0, y: -0.15 },
      margin: { l: 70, r: 30, t: 60, b: 80 },
      width: 1000,
      height: 460,
    },
  };
}

/** comparison.json, comparison.csv (one row per preprocessing x model) and comparison.html in `dir`. */
export function writeComparison(rows: ComparisonRow[], dir: string): string[] {
  fs.mkdirSync(dir, { recursive: true });
  const json = path.join(dir, 'comparison.json');
  const csv = path.join(dir, 'comparison.csv');
  const html = path.join(dir, 'comparison.html');
  writeFileAtomic(json, `${JSON.stringify(rows, null, 2)}\n`);
  const header = 'preprocessing,model,accuracy,accuracy_lo,accuracy_hi,auc,auc_lo,auc_hi,train_n,eval_n,split,seconds';
  const lines = rows.map((r) =>
    [
      r.preprocessing,
      r.model,
      r.accuracy.value,
      r.accuracy.lo,
      r.accuracy.hi,
      r.auc.value,
      r.auc.lo,
      r.auc.hi,
      r.trainN,
      r.evalN,
      r.split,
      r.seconds.toFixed(1),
    ]
      .map((v) => csvField(typeof v === 'number' ? +v.toFixed(6) : v))
      .join(','),
  );
  writeFileAtomic(csv, `${[header, ...lines].join('\n')}\n`);
  writeFigureHtml(comparisonFigure(rows), html);
  return [json, csv, html];
}
