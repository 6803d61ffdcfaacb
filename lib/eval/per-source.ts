/**
 * Metrics per source: where a detector works and where it does not, one generator or camera at a time.
 *
 * A dataset's images come from sources (lib/data/dataset.ts sourceOf: ffhq, stylegan, sd14_blonde_woman ...).
 * One overall accuracy hides a generator the model never learned; the field reports per generator instead
 * (Wang et al. 2020, CNNDetection; Ojha et al. 2023, UnivFD), and so does realfake:
 *   - a fake source: recall (the share of its images called fake at the threshold) and ROC AUC of its images
 *     against ALL the real images scored with it (how well its fakes rank above every real);
 *   - a real source: specificity (the share called real) and ROC AUC of ALL the fakes against its images.
 * Intervals are 95 % percentile-bootstrap intervals (lib/eval/bootstrap.ts), resampling the images of the pair
 * (the source's images, plus the other class for AUC), seeded, so the same scores give the same intervals.
 */
import { bootstrapInterval, formatInterval, type BootstrapOptions, type Interval } from './bootstrap';
import { rocAuc } from '../metrics/metrics';
import { textTable } from './tables';

export interface SourceMetrics {
  source: string;
  /** 1: a fake source, 0: a real one. */
  label: number;
  /** Images of this source that were scored. */
  n: number;
  /** 'recall' for a fake source, 'specificity' for a real one: the share of its images given the right verdict. */
  rateName: 'recall' | 'specificity';
  rate: Interval;
  /** ROC AUC against the whole other class (NaN, with no interval, when there is none). */
  auc: Interval;
}

/** Rows of each (label, source), in order of first appearance. */
function groupBySource(
  labels: ArrayLike<number>,
  sources: readonly string[],
): Array<{ source: string; label: number; rows: number[] }> {
  const groups = new Map<string, { source: string; label: number; rows: number[] }>();
  sources.forEach((source, i) => {
    const key = `${labels[i]}\u0000${source}`;
    const group = groups.get(key) ?? groups.set(key, { source, label: labels[i], rows: [] }).get(key)!;
    group.rows.push(i);
  });
  return [...groups.values()];
}

/**
 * Per-source metrics of scored images: labels (0 real, 1 fake), pFake scores and each image's source, aligned by
 * index; `threshold` as in computeMetrics (pFake >= threshold is called fake). Real sources come first.
 */
export function perSourceMetrics(
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
  sources: readonly string[],
  threshold: number,
  options: BootstrapOptions = {},
): SourceMetrics[] {
  if (labels.length !== scores.length || labels.length !== sources.length) {
    throw new Error(
      `per-source metrics: ${labels.length} labels, ${scores.length} scores and ${sources.length} sources must match`,
    );
  }
  const others = (label: number) =>
    Array.from({ length: labels.length }, (_, i) => i).filter((i) => labels[i] !== label);
  return groupBySource(labels, sources)
    .sort((a, b) => a.label - b.label)
    .map(({ source, label, rows }) => {
      const right = (i: number) => (scores[i] >= threshold ? 1 : 0) === label;
      const rate = bootstrapInterval(
        rows.length,
        (idx) => idx.reduce((k, j) => k + (right(rows[j]) ? 1 : 0), 0) / idx.length,
        options,
      );
      const pair = [...rows, ...others(label)];
      const auc = bootstrapInterval(
        pair.length,
        (idx) =>
          rocAuc(
            Array.from(idx, (j) => labels[pair[j]]),
            Array.from(idx, (j) => scores[pair[j]]),
          ),
        options,
      );
      const strip = ({ estimate, low, high }: Interval): Interval => ({ estimate, low, high });
      return {
        source,
        label,
        n: rows.length,
        rateName: label === 1 ? 'recall' : 'specificity',
        rate: strip(rate),
        auc: strip(auc),
      };
    });
}

/** Whether some class has more than one source: only then do the per-source numbers say more than the overall ones. */
export function hasSeveralSources(rows: SourceMetrics[]): boolean {
  return rows.length > new Set(rows.map((r) => r.label)).size;
}

/**
 * Per-source metrics from scored predictions (predictions.csv), for runs evaluated before metrics.json held them;
 * null when the predictions carry no sources (files written before sources existed).
 */
export function perSourceFromPredictions(
  predictions: Array<{ label: number; source?: string; pFake: number }>,
  threshold: number,
  options: BootstrapOptions = {},
): SourceMetrics[] | null {
  if (!predictions.length || predictions.some((p) => p.source === undefined)) return null;
  return perSourceMetrics(
    predictions.map((p) => p.label),
    predictions.map((p) => p.pFake),
    predictions.map((p) => p.source as string),
    threshold,
    options,
  );
}

/** One row of the per-source table, as text cells: the one formatting behind every per-source table. */
export interface SourceTableRow {
  source: string;
  class: 'real' | 'fake';
  images: string;
  /** "recall 0.910 [0.860, 0.950]" or "specificity ...". */
  'recall / specificity': string;
  /** "0.970 [0.950, 0.990]" ("n/a" without the other class). */
  AUC: string;
}

/** The per-source table's rows (for report.md, analyze, the terminal and notebook DataFrames). */
export function sourceTableRows(rows: SourceMetrics[], digits = 3): SourceTableRow[] {
  return rows.map((r) => ({
    source: r.source,
    class: r.label ? 'fake' : 'real',
    images: String(r.n),
    'recall / specificity': `${r.rateName} ${formatInterval(r.rate, digits)}`,
    AUC: formatInterval(r.auc, digits),
  }));
}

/** The per-source table as headers and cells, for textTable / markdownTable (lib/eval/tables.ts). */
export function sourceTableCells(rows: SourceMetrics[], digits = 3): { headers: string[]; cells: string[][] } {
  const table = sourceTableRows(rows, digits);
  const headers = ['source', 'class', 'images', 'recall / specificity [95 %]', 'AUC vs the other class [95 %]'];
  return { headers, cells: table.map((r) => [r.source, r.class, r.images, r['recall / specificity'], r.AUC]) };
}

/** The per-source table for the terminal (`realfake evaluate`, `report`, the `npm start` summary). */
export function formatSourceTable(rows: SourceMetrics[], digits = 3): string {
  const { headers, cells } = sourceTableCells(rows, digits);
  return textTable(headers, cells);
}
