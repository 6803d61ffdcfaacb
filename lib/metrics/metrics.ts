/**
 * Binary classification metrics for realfake. Positive class = fake (label 1), negative = real (label 0).
 *
 * The curve functions reproduce scikit-learn exactly (roc_curve with drop_intermediate=False,
 * precision_recall_curve, average_precision_score, auc) so numbers here can be checked against the
 * Python study and against any sklearn run. Degenerate cases follow sklearn's *warning* behaviour rather
 * than raising, because a notebook cell that evaluates a tiny or one-class split should still show
 * every other metric:
 *   - precision / recall / f1 / specificity with a zero denominator are 0 (sklearn's zero_division default
 *     "warn" returns 0);
 *   - rocAuc is NaN when only one class is present (sklearn raises ValueError there);
 *   - rocCurve's fpr (no negatives) or tpr (no positives) is all NaN (sklearn warns and does the same);
 *   - precisionRecallCurve with no positives sets recall to 1 everywhere (sklearn warns and does the same).
 */

export interface Confusion {
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}

export interface RocCurve {
  fpr: number[];
  tpr: number[];
  /** Decreasing; the first is +Infinity (nothing predicted fake), like sklearn >= 1.3. */
  thresholds: number[];
}

export interface PrCurve {
  /** One longer than thresholds: ends with precision 1 at recall 0, like sklearn. */
  precision: number[];
  recall: number[];
  /** Increasing. */
  thresholds: number[];
}

export interface Metrics {
  n: number;
  threshold: number;
  positiveClass: 'fake';
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  specificity: number;
  auc: number;
  averagePrecision: number;
  confusion: Confusion;
  roc: RocCurve;
  pr: PrCurve;
}

export interface RateMetrics {
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  specificity: number;
}

/** The confusion matrix the study reported (fake = positive). Its text swapped precision and recall. */
export const STUDY_REPORTED: Readonly<Confusion> = Object.freeze({ tp: 602, fp: 7, fn: 5, tn: 586 });

/** a / b, or 0 when b is 0 (sklearn's zero_division default). */
function ratio(a: number, b: number): number {
  return b === 0 ? 0 : a / b;
}

function checkLabels(labels: ArrayLike<number>, what: string): void {
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] !== 0 && labels[i] !== 1) {
      throw new Error(`metrics: ${what}[${i}] is ${labels[i]}, expected 0 (real) or 1 (fake)`);
    }
  }
}

function checkPair(labels: ArrayLike<number>, other: ArrayLike<number>, otherName: string): void {
  if (labels.length !== other.length) {
    throw new Error(`metrics: labels and ${otherName} differ in length (${labels.length} vs ${other.length})`);
  }
  checkLabels(labels, 'labels');
}

function checkScores(scores: ArrayLike<number>): void {
  for (let i = 0; i < scores.length; i++) {
    if (!Number.isFinite(scores[i])) throw new Error(`metrics: scores[${i}] is ${scores[i]}, expected a finite number`);
  }
}

export function confusionMatrix(labels: ArrayLike<number>, predictions: ArrayLike<number>): Confusion {
  checkPair(labels, predictions, 'predictions');
  checkLabels(predictions, 'predictions');
  const c: Confusion = { tp: 0, fp: 0, fn: 0, tn: 0 };
  for (let i = 0; i < labels.length; i++) {
    const cell = predictions[i] === 1 ? (labels[i] === 1 ? 'tp' : 'fp') : labels[i] === 1 ? 'fn' : 'tn';
    c[cell]++;
  }
  return c;
}

/** Accuracy, precision, recall, f1 and specificity from counts alone (e.g. the study's reported matrix). */
export function metricsFromConfusion(c: Confusion): RateMetrics {
  const n = c.tp + c.fp + c.fn + c.tn;
  return {
    accuracy: ratio(c.tp + c.tn, n),
    precision: ratio(c.tp, c.tp + c.fp),
    recall: ratio(c.tp, c.tp + c.fn),
    // 2tp / (2tp + fp + fn) equals the harmonic mean of precision and recall, and is 0 (not NaN) when tp = 0.
    f1: ratio(2 * c.tp, 2 * c.tp + c.fp + c.fn),
    specificity: ratio(c.tn, c.tn + c.fp),
  };
}

/**
 * sklearn's _binary_clf_curve: cumulative true/false positives when predicting fake for score >= t,
 * for each distinct score t in decreasing order. Tied scores form one point (only the last index of a
 * tie group is kept), which is why the sort order inside a tie does not matter.
 */
function binaryClfCurve(labels: ArrayLike<number>, scores: ArrayLike<number>) {
  checkPair(labels, scores, 'scores');
  checkScores(scores);
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[b] - scores[a]);
  const tps: number[] = [];
  const fps: number[] = [];
  const thresholds: number[] = [];
  let tp = 0;
  for (let k = 0; k < order.length; k++) {
    tp += labels[order[k]];
    const last = k === order.length - 1 || scores[order[k + 1]] !== scores[order[k]];
    if (last) {
      tps.push(tp);
      fps.push(k + 1 - tp);
      thresholds.push(scores[order[k]]);
    }
  }
  return { tps, fps, thresholds };
}

/** ROC curve over every distinct score, like sklearn's roc_curve(drop_intermediate=False). */
export function rocCurve(labels: ArrayLike<number>, scores: ArrayLike<number>): RocCurve {
  const { tps, fps, thresholds } = binaryClfCurve(labels, scores);
  const allTp = tps.length ? tps[tps.length - 1] : 0;
  const allFp = fps.length ? fps[fps.length - 1] : 0;
  // The extra first point (threshold +Infinity) makes the curve start at (0, 0).
  return {
    fpr: [0, ...fps].map((f) => (allFp > 0 ? f / allFp : NaN)),
    tpr: [0, ...tps].map((t) => (allTp > 0 ? t / allTp : NaN)),
    thresholds: [Infinity, ...thresholds],
  };
}

/** Area under (x, y) by the trapezoidal rule, like sklearn's auc: x must be monotonic (either direction). */
export function aucTrapezoid(x: ArrayLike<number>, y: ArrayLike<number>): number {
  if (x.length !== y.length)
    throw new Error(`metrics: aucTrapezoid x and y differ in length (${x.length} vs ${y.length})`);
  if (x.length < 2) throw new Error(`metrics: aucTrapezoid needs at least 2 points, got ${x.length}`);
  let up = true;
  let down = true;
  for (let i = 1; i < x.length; i++) {
    if (x[i] < x[i - 1]) up = false;
    if (x[i] > x[i - 1]) down = false;
  }
  if (!up && !down) throw new Error('metrics: aucTrapezoid x is neither increasing nor decreasing');
  let area = 0;
  for (let i = 1; i < x.length; i++) area += ((x[i] - x[i - 1]) * (y[i] + y[i - 1])) / 2;
  return down && !up ? -area : area;
}

/** ROC AUC; NaN when labels hold only one class (sklearn raises ValueError: AUC is undefined there). */
export function rocAuc(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  const roc = rocCurve(labels, scores);
  if (roc.fpr.some(Number.isNaN) || roc.tpr.some(Number.isNaN)) return NaN;
  return aucTrapezoid(roc.fpr, roc.tpr);
}

/** Precision-recall curve, like sklearn's precision_recall_curve (recall decreasing, final point (1, 0)). */
export function precisionRecallCurve(labels: ArrayLike<number>, scores: ArrayLike<number>): PrCurve {
  const { tps, fps, thresholds } = binaryClfCurve(labels, scores);
  const allTp = tps.length ? tps[tps.length - 1] : 0;
  const precision = tps.map((t, i) => ratio(t, t + fps[i]));
  // No positives at all: sklearn warns and sets recall to 1 everywhere.
  const recall = tps.map((t) => (allTp === 0 ? 1 : t / allTp));
  return {
    precision: [...precision.reverse(), 1],
    recall: [...recall.reverse(), 0],
    thresholds: thresholds.slice().reverse(),
  };
}

/** Average precision like sklearn's average_precision_score: sum over (R_n - R_{n-1}) * P_n, no interpolation. */
export function averagePrecision(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  const { precision, recall } = precisionRecallCurve(labels, scores);
  let ap = 0;
  for (let i = 0; i + 1 < recall.length; i++) ap -= (recall[i + 1] - recall[i]) * precision[i];
  // Recall steps are <= 0, so `-=` adds non-negative terms; `+ 0` turns a -0 into 0 for tidy output.
  return ap + 0;
}

/** Every metric the reports and notebooks show, at one threshold (predicted fake when score >= threshold). */
export function computeMetrics(labels: ArrayLike<number>, scores: ArrayLike<number>, threshold = 0.5): Metrics {
  if (labels.length === 0) throw new Error('metrics: no samples to evaluate');
  if (!Number.isFinite(threshold)) throw new Error(`metrics: threshold is ${threshold}, expected a finite number`);
  const roc = rocCurve(labels, scores); // validates labels and scores
  const predictions = Array.from(scores, (s) => (s >= threshold ? 1 : 0));
  const confusion = confusionMatrix(labels, predictions);
  return {
    n: labels.length,
    threshold,
    positiveClass: 'fake',
    ...metricsFromConfusion(confusion),
    auc: rocAuc(labels, scores),
    averagePrecision: averagePrecision(labels, scores),
    confusion,
    roc,
    pr: precisionRecallCurve(labels, scores),
  };
}

/**
 * Metrics as readable JSON: objects indented, number arrays on one line. JSON has no Infinity or NaN,
 * so non-finite numbers are written as the strings "Infinity", "-Infinity" and "NaN" (e.g. the first ROC
 * threshold, or auc on a one-class split); parseMetricsJson turns them back into numbers.
 */
export function metricsToJson(m: Metrics): string {
  return formatJson(m, '') + '\n';
}

function jsonNumber(x: number): string {
  return Number.isFinite(x) ? JSON.stringify(x) : JSON.stringify(String(x));
}

function formatJson(value: unknown, indent: string): string {
  if (typeof value === 'number') return jsonNumber(value);
  if (Array.isArray(value) || ArrayBuffer.isView(value)) {
    const items = Array.from(value as ArrayLike<unknown>);
    if (items.every((v) => typeof v === 'number')) return `[${(items as number[]).map(jsonNumber).join(', ')}]`;
    const inner = indent + '  ';
    return `[\n${items.map((v) => inner + formatJson(v, inner)).join(',\n')}\n${indent}]`;
  }
  if (value !== null && typeof value === 'object') {
    const inner = indent + '  ';
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${formatJson(v, inner)}`).join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value ?? null);
}

/** Inverse of metricsToJson: restores "Infinity", "-Infinity" and "NaN" strings to numbers. */
export function parseMetricsJson(text: string): Metrics {
  const special: Record<string, number> = { Infinity: Infinity, '-Infinity': -Infinity, NaN: NaN };
  return JSON.parse(text, (key, v) => (typeof v === 'string' && v in special ? special[v] : v));
}
