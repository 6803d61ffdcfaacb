import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  aucTrapezoid,
  averagePrecision,
  computeMetrics,
  confusionMatrix,
  metricsFromConfusion,
  metricsToJson,
  parseMetricsJson,
  precisionRecallCurve,
  rocAuc,
  rocCurve,
  STUDY_REPORTED,
} from '../lib/metrics/metrics';
import { getScorer } from '../lib/metrics/scorers';

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-12): void {
  assert.equal(actual.length, expected.length, `length ${actual.length} vs ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    const ok = Number.isNaN(e) ? Number.isNaN(a) : a === e || Math.abs(a - e) <= tol;
    assert.ok(ok, `index ${i}: got ${a}, expected ${e} (actual [${Array.from(actual)}])`);
  }
}

test('confusionMatrix counts each cell', () => {
  // labels      1 1 1 0 0 0 0
  // predictions 1 1 0 1 0 0 0  -> tp 2, fn 1, fp 1, tn 3
  assert.deepEqual(confusionMatrix([1, 1, 1, 0, 0, 0, 0], [1, 1, 0, 1, 0, 0, 0]), { tp: 2, fp: 1, fn: 1, tn: 3 });
});

test('bad input fails with one line naming the reason', () => {
  assert.throws(() => confusionMatrix([0, 1], [1]), /labels and predictions differ in length \(2 vs 1\)/);
  assert.throws(() => confusionMatrix([0, 2], [1, 1]), /labels\[1\] is 2/);
  assert.throws(() => rocCurve([0, 1], [0.5, NaN]), /scores\[1\] is NaN/);
  assert.throws(() => computeMetrics([], []), /no samples/);
  assert.throws(() => aucTrapezoid([0, 1, 0.5], [0, 1, 1]), /neither increasing nor decreasing/);
});

test('computeMetrics on a small hand-computed case', () => {
  const labels = [1, 1, 1, 0, 0, 0, 0];
  const scores = [0.9, 0.6, 0.3, 0.7, 0.2, 0.1, 0.5];
  // At 0.5 (>= counts): predictions 1 1 0 1 0 0 1 -> tp 2, fn 1, fp 2 (0.7 and 0.5 exactly), tn 2.
  const m = computeMetrics(labels, scores, 0.5);
  assert.deepEqual(m.confusion, { tp: 2, fp: 2, fn: 1, tn: 2 });
  assert.equal(m.n, 7);
  assert.equal(m.positiveClass, 'fake');
  assert.equal(m.accuracy, 4 / 7); // (tp + tn) / n
  assert.equal(m.precision, 2 / 4); // tp / (tp + fp)
  assert.equal(m.recall, 2 / 3); // tp / (tp + fn)
  assert.equal(m.specificity, 2 / 4); // tn / (tn + fp)
  assert.ok(Math.abs(m.f1 - (2 * 0.5 * (2 / 3)) / (0.5 + 2 / 3)) < 1e-15); // harmonic mean = 4/7
  // Sorted scores: .9(1) .7(0) .6(1) .5(0) .3(1) .2(0) .1(0); P = 3, N = 4.
  // Pairs (pos, neg) ranked correctly: .9 beats 4 negs, .6 beats 3 (.5 .2 .1), .3 beats 2 -> 9/12 = 0.75.
  assert.ok(Math.abs(m.auc - 0.75) < 1e-15);
  // AP: recall steps at the positives: .9 (P=1/1), .6 (P=2/3), .3 (P=3/5) -> (1 + 2/3 + 3/5) / 3 = 34/45.
  assert.ok(Math.abs(m.averagePrecision - 34 / 45) < 1e-15);
  // A higher threshold moves the 0.5 negative and the 0.6 positive: tp 1, fp 1, fn 2, tn 3.
  assert.deepEqual(computeMetrics(labels, scores, 0.65).confusion, { tp: 1, fp: 1, fn: 2, tn: 3 });
});

test('roc_curve, precision_recall_curve and average_precision match sklearn on an example with ties', () => {
  // Expected values printed by scikit-learn 1.2.1 (Debian python3-sklearn) with
  //   roc_curve(y, s, drop_intermediate=False); precision_recall_curve(y, s);
  //   average_precision_score(y, s); roc_auc_score(y, s)
  // sklearn 1.2 writes the first ROC threshold as max(s) + 1 = 1.9; sklearn >= 1.3 (and realfake) write +inf.
  // Hand check: descending groups .9:{0} .8:{1,1} .4:{0,0,1} .35:{1} .1:{0} -> cumulative (tp, fp) =
  // (0,1) (2,1) (3,3) (4,3) (4,4); P = N = 4. AP = .25*(4/7) + .25*(3/6) + .5*(2/3) = 101/168.
  const y = [0, 0, 1, 1, 0, 1, 1, 0];
  const s = [0.1, 0.4, 0.35, 0.8, 0.4, 0.8, 0.4, 0.9];
  const roc = rocCurve(y, s);
  assertClose(roc.fpr, [0.0, 0.25, 0.25, 0.75, 0.75, 1.0]);
  assertClose(roc.tpr, [0.0, 0.0, 0.5, 0.75, 1.0, 1.0]);
  assertClose(roc.thresholds, [Infinity, 0.9, 0.8, 0.4, 0.35, 0.1]);
  const pr = precisionRecallCurve(y, s);
  assertClose(pr.precision, [0.5, 0.5714285714285714, 0.5, 0.6666666666666666, 0.0, 1.0]);
  assertClose(pr.recall, [1.0, 1.0, 0.75, 0.5, 0.0, 0.0]);
  assertClose(pr.thresholds, [0.1, 0.35, 0.4, 0.8, 0.9]);
  assertClose([averagePrecision(y, s), rocAuc(y, s)], [0.6011904761904762, 0.5625]);
  assertClose([averagePrecision(y, s)], [101 / 168]);
  // The order of samples inside a tie must not matter.
  const perm = [7, 3, 1, 6, 0, 5, 2, 4];
  const roc2 = rocCurve(
    perm.map((i) => y[i]),
    perm.map((i) => s[i]),
  );
  assert.deepEqual(roc2, roc);
});

test('scorers by sklearn name are the sklearn-equal functions; an unknown name is refused', () => {
  const y = [0, 0, 1, 1, 0, 1, 1, 0];
  const s = [0.1, 0.4, 0.35, 0.8, 0.4, 0.8, 0.4, 0.9];
  // roc_auc_score and average_precision_score of the example above (scikit-learn 1.2.1).
  assertClose([getScorer('roc_auc')(y, s), getScorer('average_precision')(y, s)], [0.5625, 0.6011904761904762]);
  assert.throws(() => getScorer('f1'), /unknown scorer "f1": known are roc_auc, average_precision/);
  assert.throws(() => getScorer('toString'), /unknown scorer/);
});

test('all-same scores give one point besides the origin (AUC 0.5, AP = prevalence)', () => {
  const y = [1, 0, 0, 1, 0];
  const s = [0.3, 0.3, 0.3, 0.3, 0.3];
  const roc = rocCurve(y, s);
  assert.deepEqual(roc, { fpr: [0, 1], tpr: [0, 1], thresholds: [Infinity, 0.3] });
  assert.equal(rocAuc(y, s), 0.5);
  assert.equal(averagePrecision(y, s), 2 / 5);
  assert.deepEqual(precisionRecallCurve(y, s), { precision: [0.4, 1], recall: [1, 0], thresholds: [0.3] });
  // Threshold above every score: nothing predicted fake, so precision is 0 by the zero_division rule.
  const m = computeMetrics(y, s, 0.5);
  assert.deepEqual(m.confusion, { tp: 0, fp: 0, fn: 2, tn: 3 });
  assert.equal(m.precision, 0);
  assert.equal(m.recall, 0);
  assert.equal(m.f1, 0);
  assert.equal(m.specificity, 1);
});

test('one-class labels: AUC is NaN, curves follow sklearn warning behaviour', () => {
  // sklearn 1.2.1: roc_curve([1,1,1,1], [.1,.2,.2,.9]) -> fpr all nan, tpr [0, .25, .75, 1];
  // precision_recall_curve -> precision [1,1,1,1], recall [1,.75,.25,0]; average_precision_score -> 1.0.
  const allFake = rocCurve([1, 1, 1, 1], [0.1, 0.2, 0.2, 0.9]);
  assertClose(allFake.fpr, [NaN, NaN, NaN, NaN]);
  assertClose(allFake.tpr, [0, 0.25, 0.75, 1]);
  assert.ok(Number.isNaN(rocAuc([1, 1, 1, 1], [0.1, 0.2, 0.2, 0.9])));
  assert.equal(averagePrecision([1, 1, 1, 1], [0.1, 0.2, 0.2, 0.9]), 1);
  // sklearn 1.2.1: all real [0,0,0] with [.1,.2,.2] -> tpr all nan; PR recall set to 1: precision [0,0,1],
  // recall [1,1,0]; average_precision_score -> -0.0 (we return 0).
  const allRealPr = precisionRecallCurve([0, 0, 0], [0.1, 0.2, 0.2]);
  assert.deepEqual(allRealPr, { precision: [0, 0, 1], recall: [1, 1, 0], thresholds: [0.1, 0.2] });
  assert.equal(averagePrecision([0, 0, 0], [0.1, 0.2, 0.2]), 0);
  const m = computeMetrics([0, 0, 0], [0.1, 0.2, 0.6]);
  assert.ok(Number.isNaN(m.auc));
  assertClose(m.roc.tpr, [NaN, NaN, NaN, NaN]);
  assert.deepEqual(m.confusion, { tp: 0, fp: 1, fn: 0, tn: 2 });
  assert.equal(m.recall, 0); // 0 / 0 -> 0
});

test('perfect and inverted classifiers', () => {
  const y = [0, 0, 0, 1, 1, 1];
  const good = [0.1, 0.2, 0.3, 0.7, 0.8, 0.9];
  const bad = good.map((p) => 1 - p);
  const mg = computeMetrics(y, good);
  assert.equal(mg.auc, 1);
  assert.equal(mg.averagePrecision, 1);
  assert.deepEqual(mg.confusion, { tp: 3, fp: 0, fn: 0, tn: 3 });
  assert.deepEqual([mg.accuracy, mg.precision, mg.recall, mg.f1, mg.specificity], [1, 1, 1, 1, 1]);
  const mb = computeMetrics(y, bad);
  assert.equal(mb.auc, 0);
  // Inverted: positives are found last: precision at the three recall steps 1/4, 2/5, 3/6.
  assert.ok(Math.abs(mb.averagePrecision - (1 / 4 + 2 / 5 + 3 / 6) / 3) < 1e-15);
  assert.deepEqual(mb.confusion, { tp: 0, fp: 3, fn: 3, tn: 0 });
  assert.equal(mb.accuracy, 0);
});

test('aucTrapezoid: increasing and decreasing x, hand-computed', () => {
  // (0,0)-(1,1): 0.5; (1,1)-(3,1): 2 -> 2.5
  assert.equal(aucTrapezoid([0, 1, 3], [0, 1, 1]), 2.5);
  assert.equal(aucTrapezoid([3, 1, 0], [1, 1, 0]), 2.5);
});

test("the study's confusion matrix: precision 602/609, recall 602/607", () => {
  const r = metricsFromConfusion(STUDY_REPORTED);
  assert.equal(r.precision, 602 / 609);
  assert.equal(r.recall, 602 / 607);
  assert.equal(r.accuracy, (602 + 586) / 1200);
  assert.equal(r.specificity, 586 / 593);
  assert.equal(r.precision.toFixed(4), '0.9885');
  assert.equal(r.recall.toFixed(4), '0.9918');
  assert.ok(Math.abs(r.f1 - (2 * r.precision * r.recall) / (r.precision + r.recall)) < 1e-15);
});

test('metricsToJson writes valid JSON with non-finite numbers as strings, and parses back', () => {
  const m = computeMetrics([0, 0, 0], [0.1, 0.2, 0.6]); // auc NaN, first threshold Infinity
  const text = metricsToJson(m);
  const raw = JSON.parse(text);
  assert.equal(raw.roc.thresholds[0], 'Infinity');
  assert.equal(raw.auc, 'NaN');
  assert.match(text, /"thresholds": \["Infinity", 0\.6, 0\.2, 0\.1\]/); // number arrays stay on one line
  const back = parseMetricsJson(text);
  assert.equal(back.roc.thresholds[0], Infinity);
  assert.ok(Number.isNaN(back.auc));
  const m2 = computeMetrics([0, 1, 1, 0], [0.2, 0.9, 0.4, 0.5]);
  assert.deepEqual(parseMetricsJson(metricsToJson(m2)), m2);
});
