/** Which scored images a model got wrong, most confidently wrong first (notebook 04 shows them). */

export interface ScoredImage {
  file: string;
  /** 0 real, 1 fake; undefined when the truth is not known (your own images). */
  label?: number;
  pFake: number;
}

/** Wrongly classified images (of those with a known label) at `threshold`, most confidently wrong first. */
export function misclassified(predictions: ScoredImage[], threshold: number): ScoredImage[] {
  const wrongness = (p: ScoredImage) => (p.label === 1 ? threshold - p.pFake : p.pFake - threshold);
  return predictions
    .filter((p) => p.label !== undefined && (p.pFake >= threshold ? 1 : 0) !== p.label)
    .sort((a, b) => wrongness(b) - wrongness(a));
}
