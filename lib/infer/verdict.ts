/**
 * The verdict policy: from a model's raw pFake to "Real", "Fake (AI-generated)" or "Uncertain".
 *
 * This module has NO imports on purpose: the page's in-browser mode loads its compiled JavaScript too
 * (lib/serve/web, like lib/faces/crop.ts), so predict, evaluate, the API and the page decide alike.
 *
 * A policy is a threshold on the raw pFake (config `threshold`, or one `realfake analyze` picked), a temperature
 * (lib/eval/calibration.ts: pFake_T = s(logit(pFake) / T); 1 = none) and, for runs with a model card, an
 * uncertain band picked on validation (lib/infer/uncertain-band.ts). The band's edges are cuts on the calibrated
 * probability; each also carries its raw equivalent (the same validation image's raw score), and the verdict is
 * taken on the raw score, so a different temperature (predict --calibrated) changes the probability shown but
 * never which images fall in the band. Temperature scaling is increasing, so raw and calibrated cuts select the
 * same images.
 *
 * With a band: Fake when raw >= max(fake edge, threshold), Real when raw < min(real edge, threshold), Uncertain
 * in between. The band is widened to hold the threshold so that a verdict given outside it agrees with both the
 * 95 % rule and the threshold. A side whose edge is null (no cut reached the target precision on validation)
 * gives no verdict of its own: the band extends to that end (0 or 1). Without a band: Fake when raw >= threshold.
 */

export type Verdict = 'Real' | 'Fake (AI-generated)' | 'Uncertain';

/** One side of the band: the cut, and what it achieved on the validation split. */
export interface BandEdge {
  /** The cut on the calibrated probability (fake side: p >= cut; real side: p < cut). */
  calibrated: number;
  /** The same cut on the raw pFake. */
  raw: number;
  /** Share of the side's validation images that truly are of its class (fake side: precision of "fake"). */
  precision: number;
  /** Validation images on this side of the cut, and how many of them are of the side's class. */
  count: number;
  correct: number;
}

export interface UncertainBand {
  /** The precision each side had to reach (0.95). */
  target: number;
  /** Real below this edge; null: no cut reached the target, nothing is called real. */
  real: BandEdge | null;
  /** Fake from this edge up; null: no cut reached the target, nothing is called fake. */
  fake: BandEdge | null;
}

export interface VerdictPolicy {
  /** On the raw pFake: Fake when pFake >= threshold (inside the band's widening, see the module comment). */
  threshold: number;
  /** Temperature for the probability shown (1: none). */
  temperature: number;
  /** null: no band (runs without a model card, or edges that crossed on validation). */
  band: UncertainBand | null;
}

export interface VerdictResult {
  verdict: Verdict;
  /** Probability of the verdict given (pFake for Fake, 1 - pFake for Real; the likelier class's for Uncertain). */
  confidence: number;
  /** The probability of fake shown: the raw pFake scaled by the policy's temperature. */
  pFake: number;
}

const EPS = 1e-7;
/** p kept inside [1e-7, 1 - 1e-7], so logs and logits stay finite. */
export const clipProbability = (p: number) => Math.min(1 - EPS, Math.max(EPS, p));
const clip = clipProbability;

export const logit = (p: number): number => Math.log(clip(p) / (1 - clip(p)));
/**
 * logit's inverse, exported as `sigmoid`. Its own name differs because the page loads this file as a classic
 * script, where every script's top-level names share one scope, and blazeface.js has a `sigmoid` of its own
 * (test/page-scripts.test.ts checks the page's compiled scripts for such clashes).
 */
const logistic = (z: number): number => 1 / (1 + Math.exp(-z));
export { logistic as sigmoid };

/** pFake after temperature scaling (lib/eval/calibration.ts); T = 1 returns pFake unchanged (not clipped). */
export function applyTemperature(pFake: number, temperature: number): number {
  return temperature === 1 ? pFake : logistic(logit(pFake) / temperature);
}

/** The policy of a run without a model card: its threshold, no temperature, no band. */
export function thresholdPolicy(threshold: number): VerdictPolicy {
  return { threshold, temperature: 1, band: null };
}

/** Where the verdicts change on the raw pFake: Real below `realBelow`, Fake from `fakeFrom`, Uncertain between. */
export function verdictCuts(policy: VerdictPolicy): { realBelow: number; fakeFrom: number } {
  const { threshold: t, band } = policy;
  if (!band) return { realBelow: t, fakeFrom: t };
  return {
    realBelow: Math.min(band.real ? band.real.raw : -Infinity, t),
    fakeFrom: Math.max(band.fake ? band.fake.raw : Infinity, t),
  };
}

/** The verdict for one raw pFake under a policy (see the module comment). */
export function verdictFor(rawPFake: number, policy: VerdictPolicy): VerdictResult {
  const pFake = applyTemperature(rawPFake, policy.temperature);
  const { realBelow, fakeFrom } = verdictCuts(policy);
  if (rawPFake >= fakeFrom) return { verdict: 'Fake (AI-generated)', confidence: pFake, pFake };
  if (rawPFake < realBelow) return { verdict: 'Real', confidence: 1 - pFake, pFake };
  return { verdict: 'Uncertain', confidence: Math.max(pFake, 1 - pFake), pFake };
}
