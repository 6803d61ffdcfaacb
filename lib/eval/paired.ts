/**
 * Paired tests: do two models differ on the same test images?
 *   McNemar (1947) for accuracy: only the discordant pairs count, b = images A gets right and B wrong,
 *     c = the reverse. Reported both as the continuity-corrected chi-square (Edwards 1948; statsmodels'
 *     mcnemar(exact=False)) and as the exact binomial test (b ~ Binomial(b + c, 1/2), two-sided; statsmodels'
 *     mcnemar(exact=True)), which is the one to read when b + c is small (< 25).
 *   DeLong, DeLong & Clarke-Pearson (1988) for ROC AUC: the two AUCs' difference over its standard error from
 *     the structural components (placement values), computed as in Sun & Xu (2014); z and a two-sided normal p.
 * Distribution functions come from jStat.
 */
// jstat ships no type declarations; these are the three functions used.
const { jStat } = require('jstat') as {
  jStat: {
    normal: { cdf(x: number, mean: number, sd: number): number };
    chisquare: { cdf(x: number, dof: number): number };
    binomial: { cdf(k: number, n: number, p: number): number };
  };
};

export interface McNemarResult {
  /** A right, B wrong. */
  b: number;
  /** A wrong, B right. */
  c: number;
  statistic: number;
  pValue: number;
  exactPValue: number;
}

export interface DeLongResult {
  aucA: number;
  aucB: number;
  difference: number;
  standardError: number;
  z: number;
  pValue: number;
}

function checkSame(labels: ArrayLike<number>, a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  if (labels.length !== a.length || labels.length !== b.length) {
    throw new Error(
      `${what}: labels and the two runs' values differ in length (${labels.length}, ${a.length}, ${b.length})`,
    );
  }
}

/** McNemar's test from the two runs' hard predictions (0/1) on the same images. */
export function mcnemarTest(
  labels: ArrayLike<number>,
  predictionsA: ArrayLike<number>,
  predictionsB: ArrayLike<number>,
): McNemarResult {
  checkSame(labels, predictionsA, predictionsB, 'mcnemar');
  let b = 0;
  let c = 0;
  for (let i = 0; i < labels.length; i++) {
    const rightA = predictionsA[i] === labels[i];
    const rightB = predictionsB[i] === labels[i];
    if (rightA && !rightB) b++;
    else if (!rightA && rightB) c++;
  }
  return { b, c, ...mcnemarFromCounts(b, c) };
}

export function mcnemarFromCounts(b: number, c: number): { statistic: number; pValue: number; exactPValue: number } {
  if (b + c === 0) return { statistic: 0, pValue: 1, exactPValue: 1 };
  const statistic = Math.max(0, Math.abs(b - c) - 1) ** 2 / (b + c);
  const pValue = 1 - jStat.chisquare.cdf(statistic, 1);
  const exactPValue = Math.min(1, 2 * jStat.binomial.cdf(Math.min(b, c), b + c, 0.5));
  return { statistic, pValue, exactPValue };
}

/** Placement values of one scorer: V10 per positive, V01 per negative (ties count 1/2). */
function placements(pos: number[], neg: number[]): { v10: Float64Array; v01: Float64Array } {
  const v10 = new Float64Array(pos.length);
  const v01 = new Float64Array(neg.length);
  for (let i = 0; i < pos.length; i++) {
    for (let j = 0; j < neg.length; j++) {
      const psi = pos[i] > neg[j] ? 1 : pos[i] === neg[j] ? 0.5 : 0;
      v10[i] += psi;
      v01[j] += psi;
    }
  }
  v10.forEach((v, i) => (v10[i] = v / neg.length));
  v01.forEach((v, j) => (v01[j] = v / pos.length));
  return { v10, v01 };
}

function covariance(x: Float64Array, y: Float64Array): number {
  const n = x.length;
  if (n < 2) return 0;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  let s = 0;
  for (let i = 0; i < n; i++) s += (x[i] - mx) * (y[i] - my);
  return s / (n - 1);
}

/** DeLong's test for two correlated ROC AUCs (two runs' scores on the same images). */
export function delongTest(
  labels: ArrayLike<number>,
  scoresA: ArrayLike<number>,
  scoresB: ArrayLike<number>,
): DeLongResult {
  checkSame(labels, scoresA, scoresB, 'delong');
  const split = (scores: ArrayLike<number>) => {
    const pos: number[] = [];
    const neg: number[] = [];
    for (let i = 0; i < labels.length; i++) (labels[i] === 1 ? pos : neg).push(scores[i]);
    return { pos, neg };
  };
  const a = split(scoresA);
  const b = split(scoresB);
  const m = a.pos.length;
  const n = a.neg.length;
  if (m === 0 || n === 0) throw new Error('delong: need both real and fake images');
  const pa = placements(a.pos, a.neg);
  const pb = placements(b.pos, b.neg);
  const mean = (v: Float64Array) => v.reduce((s, x) => s + x, 0) / v.length;
  const aucA = mean(pa.v10);
  const aucB = mean(pb.v10);
  const variance =
    (covariance(pa.v10, pa.v10) + covariance(pb.v10, pb.v10) - 2 * covariance(pa.v10, pb.v10)) / m +
    (covariance(pa.v01, pa.v01) + covariance(pb.v01, pb.v01) - 2 * covariance(pa.v01, pb.v01)) / n;
  const difference = aucA - aucB;
  const standardError = Math.sqrt(Math.max(variance, 0));
  if (standardError === 0)
    return {
      aucA,
      aucB,
      difference,
      standardError,
      z: difference === 0 ? 0 : Infinity * Math.sign(difference),
      pValue: difference === 0 ? 1 : 0,
    };
  const z = difference / standardError;
  const pValue = 2 * (1 - jStat.normal.cdf(Math.abs(z), 0, 1));
  return { aucA, aucB, difference, standardError, z, pValue };
}
