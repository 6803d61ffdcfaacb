/**
 * A run's evaluation beside the study's published figures, as a terminal table and RUNDIR/report.md.
 * The study's "published" column shows what it printed (precision and recall swapped); the "corrected"
 * column recomputes everything from its confusion matrix. Which split the run was scored on is stated,
 * because the study chose its checkpoint and reported metrics on the same validation split.
 */
import * as fs from 'fs';
import * as path from 'path';
import { STUDY_DEFAULTS, type Config } from '../config';
import type { IntervalMetric, MetricIntervals } from './bootstrap';
import { readJson } from '../files';
import { STUDY_REPORTED, metricsFromConfusion, parseMetricsJson, type Confusion } from '../metrics/metrics';
import { formatRate as rate, markdownTable } from './tables';
import { parsePredictionsCsv } from './compare';
import { perSourceFromPredictions, sourceTableCells, type SourceMetrics } from './per-source';

/** metrics.json through parseMetricsJson (which restores "NaN" and "Infinity"), with one-line errors. */
function readText<T>(file: string, parse: (text: string) => T, what: string): T {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : (err as Error).message;
    throw new Error(`${file}: ${reason} (${what})`);
  }
  try {
    return parse(text);
  } catch (err) {
    throw new Error(`${file}: not valid JSON (${(err as Error).message})`);
  }
}

/** The study's printed accuracy (two decimals). Everything else of the study's comes from STUDY_REPORTED. */
export const STUDY_PUBLISHED_ACCURACY = 0.99;

export type EvaluationSplit = 'val' | 'test' | 'external';

export interface ReportRow {
  metric: string;
  run: string;
  /** What the study printed. */
  published: string;
  /** Recomputed from the study's confusion matrix, fake = positive. */
  corrected: string;
}

export interface Report {
  markdown: string;
  rows: ReportRow[];
  configRows: { setting: string; run: string; study: string }[];
  split: EvaluationSplit;
  /** One sentence on what the split means for the numbers. */
  splitNote: string;
  /** Per source (metrics.json, else recomputed from predictions.csv); null when neither has them. */
  perSource: SourceMetrics[] | null;
  /** Where the per-source numbers came from, or why there are none. */
  perSourceNote: string;
}

/** The metrics.json fields the report reads (roc/pr curves are ignored). */
interface RunMetrics {
  n: number;
  threshold: number;
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  specificity: number;
  auc?: number;
  averagePrecision?: number;
  confusion: Confusion;
  split?: EvaluationSplit;
  /** Bootstrap intervals (evaluate writes them; older metrics.json files have none). */
  intervals?: MetricIntervals;
  /** Per-source metrics (evaluate writes them since sources exist). */
  perSource?: SourceMetrics[];
}

function readRunMetrics(file: string): RunMetrics {
  const m = readText(
    file,
    parseMetricsJson,
    'is --run a run folder? `realfake evaluate` writes it',
  ) as unknown as RunMetrics;
  const number = (v: unknown) => typeof v === 'number';
  for (const field of ['n', 'threshold', 'accuracy', 'precision', 'recall', 'f1', 'specificity'] as const) {
    if (!number(m?.[field])) throw new Error(`${file}: missing or non-numeric field "${field}"`);
  }
  for (const cell of ['tp', 'fp', 'fn', 'tn'] as const) {
    if (!Number.isInteger(m.confusion?.[cell]))
      throw new Error(`${file}: missing or non-integer field "confusion.${cell}"`);
  }
  if (m.split !== undefined && !['val', 'test', 'external'].includes(m.split)) {
    throw new Error(`${file}: field "split" must be "val", "test" or "external" (got ${JSON.stringify(m.split)})`);
  }
  return m;
}

/**
 * The run's per-source metrics: metrics.json's; for runs evaluated before it held them, recomputed from
 * predictions.csv when that has a source column (same bootstrap as evaluate: 1000 resamples, the run's seed).
 */
function runPerSource(
  runDir: string,
  metrics: RunMetrics,
  seed: number | undefined,
): { perSource: SourceMetrics[] | null; note: string } {
  if (metrics.perSource) return { perSource: metrics.perSource, note: 'from metrics.json' };
  const file = path.join(runDir, 'predictions.csv');
  const predictions = fs.existsSync(file) ? parsePredictionsCsv(fs.readFileSync(file, 'utf8'), file) : [];
  const perSource = perSourceFromPredictions(predictions, metrics.threshold, { resamples: 1000, seed });
  return perSource
    ? { perSource, note: 'recomputed from predictions.csv (metrics.json predates per-source numbers)' }
    : { perSource: null, note: 'no per-source numbers (run evaluate again)' };
}

/** null means "no limit" for limitPerClass, the only nullable setting shown. */
const configValue = (v: unknown) => (v === undefined ? '—' : v === null ? 'all' : String(v));

export function buildReport(runDir: string): Report {
  const metrics = readRunMetrics(path.join(runDir, 'metrics.json'));
  const config = readJson<Partial<Config>>(path.join(runDir, 'config.json'), 'run config');

  const study = metricsFromConfusion(STUDY_REPORTED);
  // What the study printed: sklearn's precision_score/recall_score called as (y_pred, y_true).
  const swapped = metricsFromConfusion({ ...STUDY_REPORTED, fp: STUDY_REPORTED.fn, fn: STUDY_REPORTED.fp });
  const studyN = STUDY_REPORTED.tp + STUDY_REPORTED.fp + STUDY_REPORTED.fn + STUDY_REPORTED.tn;
  const { tp, fp, fn, tn } = STUDY_REPORTED;
  const c = metrics.confusion;

  // "0.9500 [0.9312, 0.9688]" when metrics.json holds bootstrap intervals.
  const withCi = (key: IntervalMetric) => {
    const i = metrics.intervals?.intervals[key];
    return i ? `${rate(metrics[key])} [${rate(i.low)}, ${rate(i.high)}]` : rate(metrics[key]);
  };
  const rows: ReportRow[] = [
    {
      metric: 'Accuracy',
      run: withCi('accuracy'),
      published: String(STUDY_PUBLISHED_ACCURACY),
      corrected: rate(study.accuracy),
    },
    {
      metric: 'Precision',
      run: withCi('precision'),
      published: `${rate(swapped.precision)} ¹`,
      corrected: rate(study.precision),
    },
    {
      metric: 'Recall (sensitivity)',
      run: withCi('recall'),
      published: `${rate(swapped.recall)} ¹`,
      corrected: rate(study.recall),
    },
    { metric: 'F1', run: withCi('f1'), published: '—', corrected: rate(study.f1) },
    { metric: 'Specificity', run: withCi('specificity'), published: '—', corrected: rate(study.specificity) },
    { metric: 'ROC AUC', run: withCi('auc'), published: '— ²', corrected: '— ²' },
    { metric: 'Average precision', run: withCi('averagePrecision'), published: '—', corrected: '—' },
    { metric: 'TP (fake called fake)', run: String(c.tp), published: String(tp), corrected: String(tp) },
    { metric: 'FP (real called fake)', run: String(c.fp), published: String(fp), corrected: String(fp) },
    { metric: 'FN (fake called real)', run: String(c.fn), published: String(fn), corrected: String(fn) },
    { metric: 'TN (real called real)', run: String(c.tn), published: String(tn), corrected: String(tn) },
    { metric: 'Images scored', run: String(metrics.n), published: String(studyN), corrected: String(studyN) },
  ];

  const configRows = (
    [
      'imageSize',
      'resize',
      'epochs',
      'learningRate',
      'batchSize',
      'limitPerClass',
      'splitSeed',
      'seed',
      'valFraction',
      'testFraction',
    ] as const
  ).map((key) => ({ setting: key, run: configValue(config[key]), study: configValue(STUDY_DEFAULTS[key]) }));

  const { split, splitNote } = describeSplit(metrics, config);
  const sources = runPerSource(runDir, metrics, config.seed);
  const sourceTable = sources.perSource && sourceTableCells(sources.perSource);
  const hardLabelAuc = (study.recall + study.specificity) / 2;
  const markdown = [
    `# realfake run report: ${path.basename(path.resolve(runDir))}`,
    '',
    `Metrics of this run on its **${split}** split (${metrics.n} images, threshold ${metrics.threshold}, fake = positive), beside the study's published figures.` +
      (metrics.intervals
        ? ` Brackets: ${metrics.intervals.confidence * 100} % ${metrics.intervals.method} intervals (${metrics.intervals.resamples} resamples, seed ${metrics.intervals.seed}).`
        : ''),
    '',
    markdownTable(
      ['Metric', 'This run', 'Study (as published)', 'Study (corrected)'],
      rows.map((r) => [r.metric, r.run, r.published, r.corrected]),
    ),
    '',
    `¹ The study printed precision and recall swapped: it called scikit-learn's \`precision_score\` and \`recall_score\` with the true and predicted labels in reversed order. ` +
      `Its "precision" was TP/(TP+FN) = ${tp}/${tp + fn} = ${rate(swapped.precision)}, which is the recall; its "recall" was TP/(TP+FP) = ${tp}/${tp + fp} = ${rate(swapped.recall)}, which is the precision. ` +
      `The corrected column recomputes every rate from its confusion matrix (TP ${tp}, FP ${fp}, FN ${fn}, TN ${tn}).`,
    '',
    `² The study drew its ROC curve from hard 0/1 predictions, so its area is just (recall + specificity)/2 = ${rate(hardLabelAuc)}, not comparable to this run's AUC, which ranks the model's scores.`,
    '',
    '## Which split these numbers are on',
    '',
    splitNote,
    '',
    '## Per source',
    '',
    sourceTable
      ? `Fake sources: recall, and ROC AUC of their images against all the real ones; real sources: specificity, and AUC of all the fakes against their images. Threshold ${metrics.threshold}; brackets: 95 % bootstrap intervals (${sources.note}).\n\n${markdownTable(sourceTable.headers, sourceTable.cells)}`
      : `${sources.note[0].toUpperCase()}${sources.note.slice(1)}: metrics.json and predictions.csv were written before sources existed.`,
    '',
    '## Configuration',
    '',
    markdownTable(
      ['Setting', 'This run', 'Study'],
      configRows.map((r) => [r.setting, r.run, r.study]),
    ),
    '',
  ].join('\n');
  return { markdown, rows, configRows, split, splitNote, perSource: sources.perSource, perSourceNote: sources.note };
}

/** metrics.json says which split it scored; older runs without the field are inferred from config.testFraction. */
function describeSplit(metrics: RunMetrics, config: Partial<Config>): { split: EvaluationSplit; splitNote: string } {
  const testFraction = config.testFraction ?? 0;
  const split: EvaluationSplit = metrics.split ?? (testFraction > 0 ? 'test' : 'val');
  const inferred =
    metrics.split === undefined
      ? ` (metrics.json has no "split" field; inferred from testFraction = ${testFraction})`
      : '';
  const caveat =
    'The study chose its checkpoint (best val_accuracy over 100 epochs) and reported its metrics on that same validation split, so its figures are likely optimistic.';
  const notes: Record<EvaluationSplit, string> = {
    val:
      `This run was scored on the validation split${inferred}, which also chose the checkpoint: the same protocol as the study, and optimistic in the same way. ${caveat} ` +
      'For an unbiased estimate, train with `--test-fraction 0.1` (or more): the run then reports metrics on a held-out test split that neither training nor checkpoint selection saw.',
    test:
      `This run was scored on a held-out test split${inferred}${testFraction > 0 ? ` (testFraction = ${testFraction})` : ''} that neither training nor checkpoint selection saw. ${caveat} ` +
      "This is the fairer estimate; the study's validation-split figures are not directly comparable to it.",
    external:
      `This run was scored on an external data set${inferred}, outside the training distribution. ${caveat} ` +
      'Differences from the study also measure how well the model transfers to other real and fake images.',
  };
  return { split, splitNote: notes[split] };
}
