/**
 * Seeded randomness for everything that must be reproducible: splits, shuffles, synthetic data.
 * mulberry32 is tiny, fast and good enough for shuffling; it is not for cryptography.
 */

export type Rng = () => number;

/** A uniform [0, 1) generator fully determined by `seed`. */
export function makeRng(seed: number): Rng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher-Yates shuffle in place; returns the same array. */
export function shuffleInPlace<T>(items: T[], rng: Rng): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

/** 0..n-1 in a seeded random order. */
export function permutation(n: number, rng: Rng): number[] {
  return shuffleInPlace(Array.from({ length: n }, (_, i) => i), rng);
}

/** A standard normal sample (Box-Muller). */
export function gaussian(rng: Rng): number {
  const u = 1 - rng();
  const v = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

export interface SplitIndices {
  train: number[];
  val: number[];
  test: number[];
}

/**
 * A seeded random split of n samples, like scikit-learn's train_test_split (not stratified, as in the study).
 * Validation and test sizes are rounded up, as scikit-learn does for its test_size.
 */
export function splitIndices(n: number, valFraction: number, testFraction: number, seed: number): SplitIndices {
  if (valFraction < 0 || testFraction < 0 || valFraction + testFraction >= 1) {
    throw new Error(`invalid split: valFraction ${valFraction} + testFraction ${testFraction} must be in [0, 1)`);
  }
  const order = permutation(n, makeRng(seed));
  const nTest = Math.ceil(n * testFraction);
  const nVal = Math.ceil(n * valFraction);
  return {
    test: order.slice(0, nTest),
    val: order.slice(nTest, nTest + nVal),
    train: order.slice(nTest + nVal),
  };
}
