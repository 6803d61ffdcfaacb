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
import { bootstrapInterval, type BootstrapOptions, type Interval } from './bootstrap';
import { rocAuc } from './metrics';

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

/** One line per source for a text table: "stylegan (fake, 140)  recall 0.91 [0.86, 0.95]  AUC 0.97 [0.95, 0.99]". */
export function formatSourceMetrics(rows: SourceMetrics[], digits = 3): string[] {
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');
  const interval = (i: Interval) => `${f(i.estimate)} [${f(i.low)}, ${f(i.high)}]`;
  const names = rows.map((r) => `${r.source} (${r.label ? 'fake' : 'real'}, ${r.n})`);
  const width = Math.max(0, ...names.map((n) => n.length));
  return rows.map(
    (r, i) => `${names[i].padEnd(width)}  ${r.rateName.padEnd(11)} ${interval(r.rate)}  AUC ${interval(r.auc)}`,
  );
}
