/**
 * Percentile bootstrap intervals for a probe's accuracy and ROC AUC: resample the evaluated images with
 * replacement (seeded), recompute, take the 2.5th and 97.5th percentiles (Efron and Tibshirani 1993, ch. 13).
 * Small and self-contained on purpose; lib/eval may grow a general version (see the issue 9 notes).
 */
import { rocAuc } from '../eval/metrics';
import { makeRng } from '../random';

export interface Interval {
  value: number;
  lo: number;
  hi: number;
}

export interface BootstrapResult {
  accuracy: Interval;
  auc: Interval;
  n: number;
  replicates: number;
}

function accuracyOf(
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
  threshold: number,
  index?: Int32Array,
): number {
  const n = index ? index.length : labels.length;
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const j = index ? index[i] : i;
    if ((scores[j] >= threshold ? 1 : 0) === labels[j]) correct++;
  }
  return correct / Math.max(n, 1);
}

/** The q-quantile (0..1) of sorted values, linearly interpolated (numpy's default). */
function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  const at = q * (sorted.length - 1);
  const lo = Math.floor(at);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (at - lo);
}

/**
 * Accuracy (score >= threshold means fake) and AUC with 95 % intervals. Resamples holding one class only have
 * no AUC and are left out of the AUC's interval (rare unless n is tiny).
 */
export function bootstrapAccuracyAuc(
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
  options: { threshold?: number; replicates?: number; seed?: number; level?: number } = {},
): BootstrapResult {
  const { threshold = 0.5, replicates = 1000, seed = 0, level = 0.95 } = options;
  const n = labels.length;
  if (n === 0) throw new Error('bootstrap: no scored images');
  const rng = makeRng(seed);
  const accs = new Float64Array(replicates);
  const aucs: number[] = [];
  const index = new Int32Array(n);
  const l = new Float64Array(n);
  const s = new Float64Array(n);
  for (let b = 0; b < replicates; b++) {
    let positives = 0;
    for (let i = 0; i < n; i++) {
      index[i] = Math.floor(rng() * n);
      l[i] = labels[index[i]];
      s[i] = scores[index[i]];
      positives += l[i];
    }
    accs[b] = accuracyOf(l, s, threshold);
    if (positives > 0 && positives < n) aucs.push(rocAuc(l, s));
  }
  const tail = (1 - level) / 2;
  const interval = (value: number, values: Float64Array): Interval => {
    values.sort();
    return { value, lo: quantile(values, tail), hi: quantile(values, 1 - tail) };
  };
  return {
    accuracy: interval(accuracyOf(labels, scores, threshold), accs),
    auc: interval(rocAuc(labels, scores), Float64Array.from(aucs)),
    n,
    replicates,
  };
}
