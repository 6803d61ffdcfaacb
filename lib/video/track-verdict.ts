/**
 * One verdict per tracked face: the run's policy (threshold, uncertain band, temperature: lib/infer/verdict.ts)
 * applied to the mean raw pFake over the track's frames, with a 95 % percentile-bootstrap interval of that mean
 * over the frames (lib/eval/bootstrap.ts; seeded, so the same video gives the same interval) and the share of
 * frames that alone would be called fake. pFake and the interval are shown temperature-scaled, like every pFake
 * realfake shows (the scaling is increasing, so the interval maps end to end).
 */
import { bootstrapInterval } from '../eval/bootstrap';
import { applyTemperature, Verdict, verdictFor, type VerdictPolicy } from '../infer/verdict';

export interface TrackVerdict {
  verdict: Verdict;
  confidence: number;
  pFake: number;
  interval: { low: number; high: number; confidence: number };
  /** Share of the track's frames whose own verdict is Fake. */
  fakeShare: number;
}

export function trackVerdict(rawScores: number[], policy: VerdictPolicy, resamples = 1000): TrackVerdict {
  if (rawScores.length === 0) throw new Error('trackVerdict: a track without frames');
  const mean = (idx: ArrayLike<number>) => {
    let s = 0;
    for (let k = 0; k < idx.length; k++) s += rawScores[idx[k]];
    return s / idx.length;
  };
  const boot = bootstrapInterval(rawScores.length, mean, { resamples, seed: 0, confidence: 0.95 });
  const { verdict, confidence, pFake } = verdictFor(boot.estimate, policy);
  const fake = rawScores.filter((r) => verdictFor(r, policy).verdict === 'Fake (AI-generated)').length;
  return {
    verdict,
    confidence,
    pFake,
    interval: {
      low: applyTemperature(boot.low, policy.temperature),
      high: applyTemperature(boot.high, policy.temperature),
      confidence: 0.95,
    },
    fakeShare: fake / rawScores.length,
  };
}
