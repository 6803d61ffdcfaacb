/**
 * Seeded bootstrap confidence intervals for the metrics realfake reports: evaluation, comparison, per-source
 * tables, video tracks and the audit's probes all resample here.
 *
 * Method: the percentile bootstrap (Efron & Tibshirani 1993, ch. 13): draw `resamples` sets of n images with
 * replacement from the scored split, recompute the metric on each, and take the (1 - confidence) / 2 and
 * (1 + confidence) / 2 quantiles of those values (quantileSorted: numpy's default "linear" quantile, type 7 of
 * Hyndman & Fan 1996, "Sample quantiles in statistical packages"). The resampling is seeded
 * (lib/random.ts), so the same run, seed and resample count give the same interval everywhere.
 * Resamples on which a metric is undefined (AUC or AP when a resample holds one class only) are left out of
 * that metric's quantiles and counted in `dropped`.
 */
import { makeRng } from '../random';
import { metricsFromConfusion, rocAuc } from '../metrics/metrics';

export interface Interval {
  /** The metric on the full split (not the bootstrap mean). */
  estimate: number;
  low: number;
  high: number;
}

export const INTERVAL_METRICS = [
  'accuracy',
  'precision',
  'recall',
  'f1',
  'specificity',
  'auc',
  'averagePrecision',
] as const;
export type IntervalMetric = (typeof INTERVAL_METRICS)[number];

export interface MetricIntervals {
  method: 'percentile bootstrap';
  confidence: number;
  resamples: number;
  seed: number;
  /** Per metric, how many resamples it was undefined on (one-class resamples for AUC and AP). */
  dropped: Partial<Record<IntervalMetric, number>>;
  intervals: Record<IntervalMetric, Interval>;
}

export interface BootstrapOptions {
  resamples?: number;
  seed?: number;
  confidence?: number;
}

/**
 * Quantile of sorted values with linear interpolation between order statistics: numpy's default ("linear"),
 * type 7 of Hyndman & Fan (1996), R's default too. The one quantile of realfake's intervals.
 */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
}

/** Index sets for the resamples: each is n indices drawn uniformly with replacement. */
export function resampleIndices(n: number, resamples: number, seed: number): Int32Array[] {
  const rng = makeRng(seed);
  return Array.from({ length: resamples }, () => {
    const idx = new Int32Array(n);
    for (let i = 0; i < n; i++) idx[i] = Math.floor(rng() * n);
    return idx;
  });
}

function checkOptions(options: BootstrapOptions): Required<BootstrapOptions> {
  const { resamples = 1000, seed = 0, confidence = 0.95 } = options;
  if (!(Number.isInteger(resamples) && resamples >= 1))
    throw new Error(`bootstrap: resamples must be a positive integer (got ${resamples})`);
  if (!(confidence > 0 && confidence < 1))
    throw new Error(`bootstrap: confidence must be in (0, 1) (got ${confidence})`);
  return { resamples, seed, confidence };
}

/** The percentile interval of any statistic of the resampled indices; NaN values are dropped. */
export function bootstrapInterval(
  n: number,
  statistic: (indices: Int32Array) => number,
  options: BootstrapOptions = {},
): Interval & { dropped: number } {
  const { resamples, seed, confidence } = checkOptions(options);
  const all = Int32Array.from({ length: n }, (_, i) => i);
  const values = resampleIndices(n, resamples, seed)
    .map(statistic)
    .filter((v) => !Number.isNaN(v))
    .sort((a, b) => a - b);
  return {
    estimate: statistic(all),
    low: quantileSorted(values, (1 - confidence) / 2),
    high: quantileSorted(values, (1 + confidence) / 2),
    dropped: resamples - values.length,
  };
}

/**
 * Metrics of resamples without re-sorting: the split is sorted by score once, tied scores grouped; a resample
 * is a count per image, and walking the groups in descending score gives its cumulative TP/FP and so the
 * ROC AUC (trapezoids) and AP (sum of recall steps x precision) exactly as sklearn computes them on the resampled
 * data. O(n) per resample instead of O(n log n) plus allocations.
 */
export function resampleScorer(
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
  threshold: number,
): (counts: Int32Array) => Record<IntervalMetric, number> {
  const n = labels.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b] - scores[a]);
  // groupEnd[k]: one past the last position of the tie group starting at or containing position k.
  const groupStarts: number[] = [];
  for (let k = 0; k < n; k++) if (k === 0 || scores[order[k]] !== scores[order[k - 1]]) groupStarts.push(k);
  groupStarts.push(n);
  const calledFake = Uint8Array.from({ length: n }, (_, i) => (scores[i] >= threshold ? 1 : 0));
  return (counts) => {
    let tp = 0,
      fp = 0,
      fn = 0,
      tn = 0;
    for (let i = 0; i < n; i++) {
      const w = counts[i];
      if (!w) continue;
      if (calledFake[i]) {
        if (labels[i] === 1) tp += w;
        else fp += w;
      } else if (labels[i] === 1) fn += w;
      else tn += w;
    }
    const positives = tp + fn;
    const negatives = fp + tn;
    let cumTp = 0,
      cumFp = 0,
      area = 0,
      ap = 0;
    for (let g = 0; g + 1 < groupStarts.length; g++) {
      let gTp = 0,
        gFp = 0;
      for (let k = groupStarts[g]; k < groupStarts[g + 1]; k++) {
        const i = order[k];
        if (labels[i] === 1) gTp += counts[i];
        else gFp += counts[i];
      }
      if (gTp === 0 && gFp === 0) continue;
      area += (gFp * (2 * cumTp + gTp)) / 2;
      cumTp += gTp;
      cumFp += gFp;
      if (gTp > 0) ap += (gTp / positives) * (cumTp / (cumTp + cumFp));
    }
    return {
      ...metricsFromConfusion({ tp, fp, fn, tn }),
      auc: positives > 0 && negatives > 0 ? area / (positives * negatives) : NaN,
      averagePrecision: positives > 0 ? ap : NaN,
    };
  };
}

function countsOf(indices: Int32Array, n: number): Int32Array {
  const counts = new Int32Array(n);
  for (let k = 0; k < indices.length; k++) counts[indices[k]]++;
  return counts;
}

/** 95 % (by default) percentile-bootstrap intervals for accuracy, precision, recall, F1, specificity, AUC and AP. */
export function metricIntervals(
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
  threshold: number,
  options: BootstrapOptions = {},
): MetricIntervals {
  const { resamples, seed, confidence } = checkOptions(options);
  if (labels.length === 0) throw new Error('bootstrap: no samples');
  if (labels.length !== scores.length)
    throw new Error(`bootstrap: labels and scores differ in length (${labels.length} vs ${scores.length})`);
  const n = labels.length;
  const score = resampleScorer(labels, scores, threshold);
  const full = score(new Int32Array(n).fill(1));
  const samples = resampleIndices(n, resamples, seed).map((idx) => score(countsOf(idx, n)));
  const intervals = {} as Record<IntervalMetric, Interval>;
  const dropped: Partial<Record<IntervalMetric, number>> = {};
  for (const metric of INTERVAL_METRICS) {
    const values = samples
      .map((m) => m[metric])
      .filter((v) => !Number.isNaN(v))
      .sort((a, b) => a - b);
    if (values.length < resamples) dropped[metric] = resamples - values.length;
    intervals[metric] = {
      estimate: full[metric],
      low: quantileSorted(values, (1 - confidence) / 2),
      high: quantileSorted(values, (1 + confidence) / 2),
    };
  }
  return { method: 'percentile bootstrap', confidence, resamples, seed, dropped, intervals };
}

/** An interval as the audit's probes report it (outputs/audit JSON and CSV keep these names). */
export interface ValueInterval {
  value: number;
  lo: number;
  hi: number;
}

export interface AccuracyAucIntervals {
  accuracy: ValueInterval;
  auc: ValueInterval;
  n: number;
  replicates: number;
}

/**
 * Accuracy (score >= threshold means fake) and ROC AUC with percentile intervals, for the audit's probes.
 * Resamples holding one class only have no AUC and are left out of the AUC's interval (rare unless n is tiny).
 */
export function bootstrapAccuracyAuc(
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
  options: { threshold?: number; replicates?: number; seed?: number; level?: number } = {},
): AccuracyAucIntervals {
  const { threshold = 0.5, replicates = 1000, seed = 0, level = 0.95 } = options;
  const n = labels.length;
  if (n === 0) throw new Error('bootstrap: no scored images');
  const boot = { resamples: replicates, seed, confidence: level };
  const accuracy = bootstrapInterval(
    n,
    (idx) => idx.reduce((correct, i) => correct + ((scores[i] >= threshold ? 1 : 0) === labels[i] ? 1 : 0), 0) / n,
    boot,
  );
  const auc = bootstrapInterval(
    n,
    (idx) =>
      rocAuc(
        Float64Array.from(idx, (i) => labels[i]),
        Float64Array.from(idx, (i) => scores[i]),
      ),
    boot,
  );
  const shape = (i: Interval): ValueInterval => ({ value: i.estimate, lo: i.low, hi: i.high });
  return { accuracy: shape(accuracy), auc: shape(auc), n, replicates };
}

/** "0.9500 [0.9312, 0.9688]", or "n/a". */
export function formatInterval(i: Interval | undefined, digits = 4): string {
  if (!i) return 'n/a';
  const f = (v: number) => (Number.isFinite(v) ? v.toFixed(digits) : 'n/a');
  return `${f(i.estimate)} [${f(i.low)}, ${f(i.high)}]`;
}
