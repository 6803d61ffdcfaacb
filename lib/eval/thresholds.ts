/**
 * Thresholds: metrics against the pFake threshold, and a threshold picked on one split (validation) to be
 * applied unchanged to another (test), so that the test numbers are not tuned on the test images.
 *
 * Rules (predicted fake when pFake >= threshold):
 *   youden   maximise Youden's J = TPR - FPR (Youden 1950), the ROC point farthest above the chance line;
 *   eer      the equal error rate point, where FPR = FNR (= 1 - TPR), as reported in biometrics/deepfake work;
 *   fpr=X    the highest TPR whose FPR <= X (e.g. fpr=0.05: at most 5 % of real photos called fake).
 * The threshold returned lies midway between the chosen distinct score and the next lower one, so it gives
 * the same confusion matrix on the picking split but does not sit exactly on one image's score.
 */
import { confusionMatrix, metricsFromConfusion, rocCurve } from '../metrics/metrics';
import type { Figure } from '../viz/plots';

export type ThresholdRule = { kind: 'youden' } | { kind: 'eer' } | { kind: 'fpr'; target: number };

export interface PickedThreshold {
  rule: string;
  threshold: number;
  /** On the split it was picked on. */
  tpr: number;
  fpr: number;
  n: number;
}

export interface ThresholdPoint {
  threshold: number;
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  specificity: number;
}

export function parseThresholdRule(text: string): ThresholdRule {
  if (text === 'youden' || text === 'eer') return { kind: text };
  const m = /^fpr=([0-9.eE+-]+)$/.exec(text);
  if (m) {
    const target = Number(m[1]);
    if (!(target >= 0 && target < 1)) throw new Error(`threshold rule ${text}: the target FPR must be in [0, 1)`);
    return { kind: 'fpr', target };
  }
  throw new Error(`unknown threshold rule "${text}" (choose youden, eer or fpr=X, e.g. fpr=0.05)`);
}

export function ruleName(rule: ThresholdRule): string {
  return rule.kind === 'fpr' ? `fpr=${rule.target}` : rule.kind;
}

/** Picks a threshold on (labels, scores) by the rule; needs both classes. */
export function pickThreshold(
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
  rule: ThresholdRule,
): PickedThreshold {
  const roc = rocCurve(labels, scores);
  if (roc.fpr.some(Number.isNaN) || roc.tpr.some(Number.isNaN))
    throw new Error('pickThreshold: the split must hold both real and fake images');
  let best = 0;
  const k = roc.thresholds.length;
  for (let i = 1; i < k; i++) {
    if (rule.kind === 'youden') {
      if (roc.tpr[i] - roc.fpr[i] > roc.tpr[best] - roc.fpr[best]) best = i;
    } else if (rule.kind === 'eer') {
      if (Math.abs(roc.fpr[i] - (1 - roc.tpr[i])) < Math.abs(roc.fpr[best] - (1 - roc.tpr[best]))) best = i;
    } else if (roc.fpr[i] <= rule.target && roc.tpr[i] > roc.tpr[best]) {
      best = i;
    }
  }
  // roc.thresholds decrease; index 0 is +Infinity (nothing called fake): use just above the top score then.
  const at = roc.thresholds[best];
  const below = best + 1 < k ? roc.thresholds[best + 1] : -Infinity;
  const threshold = !Number.isFinite(at)
    ? Math.min(1, roc.thresholds[1] + 1e-6)
    : Number.isFinite(below)
      ? (at + below) / 2
      : at;
  return { rule: ruleName(rule), threshold, tpr: roc.tpr[best], fpr: roc.fpr[best], n: labels.length };
}

/** Rates at each threshold (default 0, 0.01, ..., 1). */
export function thresholdSweep(
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
  thresholds?: number[],
): ThresholdPoint[] {
  const ts = thresholds ?? Array.from({ length: 101 }, (_, i) => i / 100);
  return ts.map((t) => ({
    threshold: t,
    ...metricsFromConfusion(
      confusionMatrix(
        labels,
        Array.from(scores, (s) => (s >= t ? 1 : 0)),
      ),
    ),
  }));
}

/** Accuracy, precision, recall, F1 and specificity against the threshold; vertical lines mark given thresholds. */
export function thresholdFigure(
  points: ThresholdPoint[],
  marks: Array<{ name: string; threshold: number }> = [],
): Figure {
  const keys = ['accuracy', 'precision', 'recall', 'f1', 'specificity'] as const;
  const x = points.map((p) => p.threshold);
  return {
    data: keys.map((key) => ({ type: 'scatter', mode: 'lines', name: key, x, y: points.map((p) => p[key]) })),
    layout: {
      title: { text: 'Metrics against the pFake threshold (positive class: Fake)' },
      xaxis: { title: { text: 'threshold (called fake when pFake >= threshold)' }, range: [0, 1] },
      yaxis: { title: { text: 'value' }, range: [-0.02, 1.02] },
      shapes: marks.map((m) => ({
        type: 'line',
        x0: m.threshold,
        x1: m.threshold,
        y0: 0,
        y1: 1,
        line: { dash: 'dot', color: 'gray' },
      })),
      annotations: marks.map((m, i) => ({
        x: m.threshold,
        y: 1 - 0.07 * i,
        text: `${m.name} ${m.threshold.toFixed(3)}`,
        showarrow: false,
        xanchor: 'left',
      })),
      margin: { l: 70, r: 30, t: 60, b: 60 },
      width: 640,
      height: 440,
    },
  };
}
