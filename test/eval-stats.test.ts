/**
 * The statistics of lib/eval against known answers: bootstrap intervals computed by hand, ECE of calibrated
 * and miscalibrated toys, temperature scaling recovering a known temperature, threshold rules on a hand-worked
 * ROC, and McNemar / DeLong against scipy 1.10.1 + scikit-learn 1.2.1 (Debian bookworm) reference values.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatInterval,
  metricIntervals,
  quantileSorted,
  resampleIndices,
  resampleScorer,
} from '../lib/eval/bootstrap';
import {
  applyTemperature,
  expectedCalibrationError,
  fitTemperature,
  negativeLogLikelihood,
  reliability,
  sigmoid,
} from '../lib/eval/calibration';
import { delongTest, mcnemarFromCounts, mcnemarTest } from '../lib/eval/paired';
import { parseThresholdRule, pickThreshold, thresholdSweep } from '../lib/eval/thresholds';
import { computeMetrics } from '../lib/metrics/metrics';
import { gaussian, makeRng } from '../lib/random';

const close = (actual: number, expected: number, tol: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} is not within ${tol} of ${expected}`);

test('quantiles interpolate linearly between order statistics, like numpy', () => {
  // np.quantile([1, 2, 3, 4], [0.025, 0.5, 0.975]) = [1.075, 2.5, 3.925]
  close(quantileSorted([1, 2, 3, 4], 0.025), 1.075, 1e-12, 'q0.025');
  close(quantileSorted([1, 2, 3, 4], 0.5), 2.5, 1e-12, 'median');
  close(quantileSorted([1, 2, 3, 4], 0.975), 3.925, 1e-12, 'q0.975');
});

test('bootstrap accuracy interval on a hand-computed case: 3 of 4 right gives [0.25, 1]', () => {
  // Resampled accuracy = Binomial(4, 3/4) / 4: P(0) = 1/256, P(<= 0.25) = 13/256 = 0.051, P(<= 0.75) = 175/256.
  // So the 2.5 % quantile is 0.25 (0.0039 < 0.025 < 0.051) and the 97.5 % quantile is 1 (0.684 < 0.975).
  const labels = [1, 1, 0, 0];
  const scores = [0.9, 0.8, 0.3, 0.7];
  const r = metricIntervals(labels, scores, 0.5, { resamples: 10000, seed: 7 });
  assert.deepEqual(r.intervals.accuracy, { estimate: 0.75, low: 0.25, high: 1 });
  assert.equal(r.method, 'percentile bootstrap');
  assert.equal(r.confidence, 0.95);
  // One-class resamples (prob. 2 * (1/2)^4 = 1/8) have no AUC: dropped, and counted.
  close(r.dropped.auc! / 10000, 1 / 8, 0.02, 'AUC resamples dropped');
  assert.equal(formatInterval(r.intervals.accuracy, 2), '0.75 [0.25, 1.00]');
});

test('the O(n) resample scorer equals metrics.ts (sklearn-equivalent) on resampled data, ties included', () => {
  const rng = makeRng(11);
  const n = 60;
  const labels = Array.from({ length: n }, () => (rng() < 0.5 ? 1 : 0));
  const scores = Array.from({ length: n }, () => Math.round(rng() * 10) / 10); // many ties
  const score = resampleScorer(labels, scores, 0.5);
  for (const idx of resampleIndices(n, 20, 5)) {
    const counts = new Int32Array(n);
    idx.forEach((i) => counts[i]++);
    const fast = score(counts);
    const m = computeMetrics(
      Array.from(idx, (i) => labels[i]),
      Array.from(idx, (i) => scores[i]),
      0.5,
    );
    for (const key of ['accuracy', 'precision', 'recall', 'f1', 'specificity', 'auc', 'averagePrecision'] as const)
      close(fast[key], m[key], 1e-12, key);
  }
});

test('bootstrap intervals are seeded and match the normal approximation on a large sample', () => {
  const n = 400;
  const labels = Array.from({ length: n }, (_, i) => i % 2);
  // 320 right (accuracy 0.8): the interval should be close to 0.8 +- 1.96 * sqrt(0.8 * 0.2 / 400) = +- 0.0392.
  const scores = labels.map((y, i) => (i < 320 ? (y ? 0.9 : 0.1) : y ? 0.1 : 0.9));
  const a = metricIntervals(labels, scores, 0.5, { resamples: 2000, seed: 1 });
  const b = metricIntervals(labels, scores, 0.5, { resamples: 2000, seed: 1 });
  assert.deepEqual(a, b, 'same seed, same intervals');
  close(a.intervals.accuracy.low, 0.8 - 0.0392, 0.008, 'low');
  close(a.intervals.accuracy.high, 0.8 + 0.0392, 0.008, 'high');
  assert.notDeepEqual(resampleIndices(n, 3, 1), resampleIndices(n, 3, 2), 'another seed resamples differently');
  for (const i of Object.values(a.intervals)) assert.ok(i.low <= i.estimate + 1e-12 && i.estimate <= i.high + 1e-12);
});

test('ECE is 0 on a perfectly calibrated toy and 0.4 on a miscalibrated one', () => {
  // Bin [0.2, 0.3): ten images at pFake 0.2, two fakes; bin [0.7, 0.8): ten at 0.7, seven fakes.
  const calibrated = {
    labels: [...Array(10)].map((_, i) => (i < 2 ? 1 : 0)).concat([...Array(10)].map((_, i) => (i < 7 ? 1 : 0))),
    scores: [...Array(10).fill(0.2), ...Array(10).fill(0.7)],
  };
  close(expectedCalibrationError(calibrated.labels, calibrated.scores), 0, 1e-12, 'calibrated ECE');
  // Half fakes everywhere, but the scores say 0.9 and 0.1: |0.5 - 0.9| and |0.5 - 0.1|, each with weight 1/2.
  const labels = [...Array(20)].map((_, i) => i % 2);
  const scores = [...Array(10).fill(0.9), ...Array(10).fill(0.1)];
  close(expectedCalibrationError(labels, scores), 0.4, 1e-12, 'miscalibrated ECE');
  const r = reliability(labels, scores, 10);
  assert.equal(r.bins[9].count, 10);
  close(r.bins[9].fractionFake, 0.5, 1e-12, 'fraction fake in the top bin');
  assert.equal(reliability([1], [1], 10).bins[9].count, 1, 'pFake = 1 falls in the last bin');
});

test('temperature scaling recovers a known temperature, and leaves 0.5 and the ranking alone', () => {
  const rng = makeRng(3);
  const n = 20000;
  const labels: number[] = [];
  const overconfident: number[] = [];
  const calibrated: number[] = [];
  for (let i = 0; i < n; i++) {
    const z = 2 * gaussian(rng);
    labels.push(rng() < sigmoid(z) ? 1 : 0);
    calibrated.push(sigmoid(z));
    overconfident.push(sigmoid(2.5 * z)); // logits 2.5x too large: T = 2.5 undoes it
  }
  const fit = fitTemperature(labels, overconfident);
  close(fit.temperature, 2.5, 0.1, 'recovered T');
  assert.ok(fit.nllAfter < fit.nllBefore);
  close(fitTemperature(labels, calibrated).temperature, 1, 0.05, 'T of calibrated scores');
  close(negativeLogLikelihood(labels, overconfident, fit.temperature), fit.nllAfter, 1e-12, 'NLL at T');
  close(applyTemperature(0.5, 3), 0.5, 1e-12, '0.5 stays');
  assert.ok(applyTemperature(0.9, 2) < 0.9 && applyTemperature(0.9, 2) > 0.5, 'T > 1 softens');
  close(applyTemperature(0.9, 2), sigmoid(Math.log(9) / 2), 1e-9, 'sigma(logit / T)');
  assert.ok(
    expectedCalibrationError(
      labels,
      overconfident.map((p) => applyTemperature(p, fit.temperature)),
    ) <
      expectedCalibrationError(labels, overconfident) / 3,
  );
});

test('threshold rules on a hand-worked ROC: Youden, EER and a target FPR', () => {
  // Descending: 0.9 F, 0.8 F, 0.6 R, 0.35 R, 0.3 F, 0.1 R. ROC points after each: (0, 1/3), (0, 2/3), (1/3, 2/3),
  // (2/3, 2/3), (2/3, 1), (1, 1). J is largest (2/3) at 0.8 > midway to 0.6 = 0.7; FPR = FNR at 0.6 > 0.475.
  const labels = [0, 0, 0, 1, 1, 1];
  const scores = [0.1, 0.6, 0.35, 0.8, 0.3, 0.9];
  const youden = pickThreshold(labels, scores, parseThresholdRule('youden'));
  close(youden.threshold, 0.7, 1e-12, 'youden');
  close(youden.tpr, 2 / 3, 1e-12, 'tpr');
  assert.equal(youden.fpr, 0);
  close(pickThreshold(labels, scores, parseThresholdRule('eer')).threshold, 0.475, 1e-12, 'eer');
  close(pickThreshold(labels, scores, parseThresholdRule('fpr=0.34')).threshold, 0.7, 1e-12, 'fpr <= 0.34');
  close(
    pickThreshold(labels, scores, parseThresholdRule('fpr=0.7')).threshold,
    0.2,
    1e-12,
    'fpr <= 0.7: all fakes caught',
  );
  assert.throws(() => parseThresholdRule('best'), /unknown threshold rule "best"/);
  const sweep = thresholdSweep(labels, scores, [0, 0.7, 1]);
  assert.deepEqual(
    sweep.map((p) => p.accuracy),
    [0.5, 5 / 6, 0.5],
  );
});

test('McNemar matches scipy: chi2.sf of the corrected statistic and binomtest', () => {
  // /usr/bin/python3: stats.chi2.sf((|b-c|-1)^2/(b+c), 1), stats.binomtest(min(b, c), b + c, 0.5).pvalue
  const cases: Array<[number, number, number, number, number]> = [
    [10, 3, 2.769230769230769, 0.0960923294556734, 0.09228515625],
    [25, 40, 3.0153846153846153, 0.08247788747320971, 0.08168153394154003],
    [5, 5, 0, 1, 1],
    [0, 7, 5.142857142857143, 0.02334220201289086, 0.015625],
  ];
  for (const [b, c, statistic, p, exact] of cases) {
    const r = mcnemarFromCounts(b, c);
    close(r.statistic, statistic, 1e-12, `statistic ${b},${c}`);
    close(r.pValue, p, 1e-9, `p ${b},${c}`);
    close(r.exactPValue, exact, 1e-9, `exact p ${b},${c}`);
  }
  // Counting: A right / B wrong on images 0 and 1, the reverse on image 2.
  const m = mcnemarTest([1, 0, 1, 0], [1, 0, 0, 0], [0, 1, 1, 0]);
  assert.deepEqual([m.b, m.c], [2, 1]);
});

test('DeLong matches a numpy implementation of Sun & Xu (2014) with scipy.stats.norm, and sklearn AUCs', () => {
  const y = [1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 1, 1];
  const a = [
    0.9, 0.8, 0.7, 0.7, 0.4, 0.65, 0.3, 0.2, 0.5, 0.1, 0.7, 0.35, 0.45, 0.55, 0.6, 0.95, 0.05, 0.25, 0.85, 0.5,
  ];
  const b = [0.6, 0.9, 0.5, 0.8, 0.3, 0.7, 0.4, 0.6, 0.2, 0.3, 0.5, 0.1, 0.65, 0.75, 0.3, 0.55, 0.45, 0.2, 0.4, 0.5];
  const r = delongTest(y, a, b);
  close(r.aucA, 0.895, 1e-12, 'AUC A (sklearn roc_auc_score)');
  close(r.aucB, 0.81, 1e-12, 'AUC B');
  close(r.standardError, 0.10517181709522332, 1e-12, 'SE of the difference');
  close(r.z, 0.8082013066584212, 1e-10, 'z');
  close(r.pValue, 0.41897470567062045, 1e-9, 'two-sided p');
  const same = delongTest(y, a, a);
  assert.deepEqual([same.difference, same.pValue], [0, 1]);
});
