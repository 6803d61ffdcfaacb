/**
 * Score functions looked up by name, as scikit-learn's get_scorer does ('roc_auc', 'average_precision'), so the
 * training loop asks for a validation metric by name and imports no evaluation code. Each takes the labels
 * (1 = fake) and the scores (pFake) and is the sklearn-equal function of lib/metrics/metrics.ts.
 */
import { averagePrecision, rocAuc } from './metrics';

export type Scorer = (labels: ArrayLike<number>, scores: ArrayLike<number>) => number;

const SCORERS = {
  roc_auc: rocAuc,
  average_precision: averagePrecision,
} as const satisfies Record<string, Scorer>;

export type ScorerName = keyof typeof SCORERS;

/** The scorer called `name`; an unknown name throws, listing the known ones. */
export function getScorer(name: string): Scorer {
  if (!Object.hasOwn(SCORERS, name))
    throw new Error(`unknown scorer ${JSON.stringify(name)}: known are ${Object.keys(SCORERS).join(', ')}`);
  return SCORERS[name as ScorerName];
}
