/**
 * The uncertain band, picked on the validation split's calibrated probabilities:
 *   fake edge t_fake = the LOWEST cut such that, of the validation images with p >= t_fake, at least `target`
 *                      (0.95) are fake (the precision of calling them fake);
 *   real edge t_real = the HIGHEST cut such that, of the validation images with p < t_real, at least `target`
 *                      are real.
 * Between them a verdict says "Uncertain" (lib/infer/verdict.ts). Cuts are the validation images' own
 * calibrated probabilities (a cut at an image's p puts that image on the fake side), and for the real side also
 * 1 (every image below it). Edge cases:
 *   - no cut reaches the target on a side: that edge is null, the band extends to that end (0 or 1), and a note
 *     says so; with neither side reaching it, every image is uncertain;
 *   - edges that cross (t_real > t_fake): no band (null), plain threshold, and a note says so; equal edges give an
 *     empty band (only the threshold's widening, lib/infer/verdict.ts, can make it uncertain);
 *   - no validation images: no band.
 */
import { applyTemperature, type BandEdge, type UncertainBand } from './verdict';

export const BAND_TARGET = 0.95;

export interface BandPick {
  band: UncertainBand | null;
  /** Plain-language notes on the edge cases met (empty when both edges were found and do not cross). */
  notes: string[];
  /** Validation images the band was picked on. */
  n: number;
}

/** labels 0 real / 1 fake and raw pFake, aligned; `temperature` as in lib/infer/verdict.ts applyTemperature. */
export function pickUncertainBand(
  labels: ArrayLike<number>,
  rawScores: ArrayLike<number>,
  temperature = 1,
  target = BAND_TARGET,
): BandPick {
  const n = labels.length;
  if (n !== rawScores.length) throw new Error(`uncertain band: ${n} labels but ${rawScores.length} scores`);
  if (n === 0) return { band: null, notes: ['no validation images: no uncertain band'], n };
  // Sorted by raw score, which sorts the calibrated ones too (the scaling is increasing).
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => rawScores[a] - rawScores[b]);
  const raw = order.map((i) => rawScores[i]);
  const cal = raw.map((p) => applyTemperature(p, temperature));
  const fake = order.map((i) => (labels[i] === 1 ? 1 : 0));
  // fakesFrom[i]: fakes among sorted images i..n-1.
  const fakesFrom = new Array<number>(n + 1).fill(0);
  for (let i = n - 1; i >= 0; i--) fakesFrom[i] = fakesFrom[i + 1] + fake[i];
  // A cut at sorted index i splits [0, i) from [i, n); it is a distinct cut when p changes there.
  const isCut = (i: number) => i === 0 || i === n || cal[i] > cal[i - 1];
  const edge = (i: number, count: number, correct: number): BandEdge => ({
    calibrated: i < n ? cal[i] : 1,
    raw: i < n ? raw[i] : 1,
    precision: correct / count,
    count,
    correct,
  });

  let fakeEdge: BandEdge | null = null;
  for (let i = 0; i < n && !fakeEdge; i++) {
    if (isCut(i) && fakesFrom[i] / (n - i) >= target) fakeEdge = edge(i, n - i, fakesFrom[i]);
  }
  let realEdge: BandEdge | null = null;
  for (let i = n; i >= 1 && !realEdge; i--) {
    const reals = i - (fakesFrom[0] - fakesFrom[i]);
    if (isCut(i) && reals / i >= target) realEdge = edge(i, i, reals);
  }

  const pct = `${target * 100} %`;
  const notes: string[] = [];
  if (!fakeEdge) notes.push(`no cut reached ${pct} precision of "fake" on validation: nothing is called fake`);
  if (!realEdge) notes.push(`no cut reached ${pct} real on validation: nothing is called real`);
  if (realEdge && fakeEdge && realEdge.calibrated > fakeEdge.calibrated) {
    notes.push(
      `the edges cross on validation (real below ${realEdge.calibrated.toFixed(4)}, fake from ${fakeEdge.calibrated.toFixed(4)}): no uncertain band, the plain threshold decides`,
    );
    return { band: null, notes, n };
  }
  return { band: { target, real: realEdge, fake: fakeEdge }, notes, n };
}
