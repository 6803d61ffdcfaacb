/**
 * Tables of results, one definition each, rendered for the terminal (textTable), Markdown (markdownTable) and
 * notebooks (as rows for a DataFrame). The metrics table is defined once here: `realfake evaluate`, the
 * `npm start` summary and notebook 04 all show these rows.
 */
import type { IntervalMetric, MetricIntervals } from './bootstrap';
import type { Metrics } from '../metrics/metrics';

/** Four decimals, or "n/a" for an undefined rate (e.g. precision with nothing called fake). */
export function formatRate(v: number | undefined): string {
  if (v === undefined) return '—';
  return Number.isFinite(v) ? v.toFixed(4) : 'n/a';
}

export interface MetricsRow {
  metric: string;
  value: string;
  /** How it is computed, in words (fake = positive). */
  note: string;
  /** The bootstrap interval "[low, high]" when metrics.json holds intervals (evaluate writes them), else ''. */
  interval: string;
}

/** The metrics of one evaluation as rows: counts, rates with their definitions, and the confusion matrix. */
export function metricsTableRows(m: Metrics & { split?: string; intervals?: MetricIntervals }): MetricsRow[] {
  const c = m.confusion;
  const keys: Record<string, IntervalMetric> = {
    accuracy: 'accuracy',
    precision: 'precision',
    recall: 'recall',
    f1: 'f1',
    specificity: 'specificity',
    'ROC AUC': 'auc',
    'average precision': 'averagePrecision',
  };
  const interval = (metric: string) => {
    const i = keys[metric] ? m.intervals?.intervals[keys[metric]] : undefined;
    return i ? `[${formatRate(i.low)}, ${formatRate(i.high)}]` : '';
  };
  const rows: Array<Omit<MetricsRow, 'interval'>> = [
    { metric: 'images scored', value: String(m.n), note: `${m.split ?? 'n/a'} split, threshold ${m.threshold}` },
    { metric: 'accuracy', value: formatRate(m.accuracy), note: '(TP + TN) / n' },
    {
      metric: 'precision',
      value: formatRate(m.precision),
      note: 'TP / (TP + FP): of the images called fake, how many are',
    },
    { metric: 'recall', value: formatRate(m.recall), note: 'TP / (TP + FN): of the fakes, how many were caught' },
    { metric: 'f1', value: formatRate(m.f1), note: 'harmonic mean of precision and recall' },
    {
      metric: 'specificity',
      value: formatRate(m.specificity),
      note: 'TN / (TN + FP): of the real faces, how many were passed',
    },
    { metric: 'ROC AUC', value: formatRate(m.auc), note: 'from the scores (pFake), not from hard labels' },
    {
      metric: 'average precision',
      value: formatRate(m.averagePrecision),
      note: 'area under the precision-recall steps',
    },
    { metric: 'TP / FP / FN / TN', value: `${c.tp} / ${c.fp} / ${c.fn} / ${c.tn}`, note: 'fake = positive' },
  ];
  return rows.map((r) => ({ ...r, interval: interval(r.metric) }));
}

/** The metrics table for the terminal. */
export function formatMetricsTable(m: Metrics & { split?: string; intervals?: MetricIntervals }): string {
  const rows = metricsTableRows(m);
  if (!m.intervals)
    return textTable(
      ['Metric', 'Value', 'How'],
      rows.map((r) => [r.metric, r.value, r.note]),
    );
  const header = `${m.intervals.confidence * 100} % interval (bootstrap, ${m.intervals.resamples})`;
  return textTable(
    ['Metric', 'Value', header, 'How'],
    rows.map((r) => [r.metric, r.value, r.interval, r.note]),
  );
}

function columnWidths(headers: string[], rows: string[][]): number[] {
  return headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
}

/** A plain aligned table for the terminal. */
export function textTable(headers: string[], rows: string[][]): string {
  const widths = columnWidths(headers, rows);
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** A GitHub-flavoured Markdown table, columns padded so the source reads as a table too. */
export function markdownTable(headers: string[], rows: string[][]): string {
  const widths = columnWidths(headers, rows);
  const line = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i])).join(' | ')} |`;
  return [line(headers), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}
