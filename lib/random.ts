/**
 * Seeded randomness for everything that must be reproducible: shuffles and synthetic data (mulberry32), and the
 * study's split (NumPy's legacy MT19937, so the rows match scikit-learn's).
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

/** A standard normal sample (Box-Muller). */
export function gaussian(rng: Rng): number {
  const u = 1 - rng();
  const v = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

// ---------------------------------------------------------------------------------------------------------
// NumPy's legacy generator, for the study's split

/**
 * The Mersenne Twister MT19937 seeded as NumPy's legacy `RandomState(seed)` seeds it (Matsumoto and
 * Nishimura's init_genrand), producing the same 32-bit words.
 */
export class MT19937 {
  private readonly mt = new Uint32Array(624);
  private index = 624;

  constructor(seed: number) {
    if (!(Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff)) {
      throw new Error(`MT19937 seed must be an integer in [0, 2^32 - 1] (got ${seed})`);
    }
    this.mt[0] = seed >>> 0;
    for (let i = 1; i < 624; i++) {
      const prev = this.mt[i - 1] ^ (this.mt[i - 1] >>> 30);
      this.mt[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
  }

  /** The next uniform 32-bit unsigned integer. */
  nextUint32(): number {
    if (this.index >= 624) this.twist();
    let y = this.mt[this.index++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  private twist(): void {
    const mt = this.mt;
    for (let i = 0; i < 624; i++) {
      const y = (mt[i] & 0x80000000) | (mt[(i + 1) % 624] & 0x7fffffff);
      mt[i] = mt[(i + 397) % 624] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
    }
    this.index = 0;
  }

  /**
   * A uniform integer in [0, max], drawn as NumPy's `random_interval` does: mask to the smallest all-ones
   * value >= max and reject draws above max (so the number of words consumed matches NumPy's).
   */
  interval(max: number): number {
    if (max === 0) return 0;
    if (max > 0xffffffff) throw new Error(`interval: max ${max} needs 64-bit draws, not supported`);
    let mask = max;
    mask |= mask >>> 1;
    mask |= mask >>> 2;
    mask |= mask >>> 4;
    mask |= mask >>> 8;
    mask |= mask >>> 16;
    mask >>>= 0;
    let value: number;
    do value = (this.nextUint32() & mask) >>> 0;
    while (value > max);
    return value;
  }
}

/**
 * NumPy's legacy `np.random.RandomState(seed).permutation(n)`: arange(n) shuffled by the legacy
 * Fisher-Yates (`for i in reversed(range(1, n)): j = random_interval(i); swap(i, j)`).
 */
export function numpyPermutation(n: number, seed: number): number[] {
  const rng = new MT19937(seed);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.interval(i);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

export interface SplitIndices {
  train: number[];
  val: number[];
  test: number[];
}

/**
 * The study's split, generalised to an optional test part. With testFraction 0 it is exactly scikit-learn's
 * `train_test_split(X, y, test_size=valFraction, random_state=seed)` (ShuffleSplit): n_val = ceil(valFraction n),
 * perm = RandomState(seed).permutation(n), validation = perm[:n_val], train = perm[n_val:]. A test part, when
 * asked for, is taken right after the validation rows (n_test = ceil(testFraction n)), so the validation rows
 * stay scikit-learn's whatever the test fraction. Indices are returned in permutation order.
 */
export function splitIndices(n: number, valFraction: number, testFraction: number, seed: number): SplitIndices {
  if (!(valFraction >= 0 && testFraction >= 0 && valFraction + testFraction < 1)) {
    throw new Error(`invalid split: valFraction ${valFraction} + testFraction ${testFraction} must be in [0, 1)`);
  }
  const order = numpyPermutation(n, seed);
  const nVal = Math.ceil(valFraction * n);
  const nTest = Math.ceil(testFraction * n);
  if (nVal + nTest >= n && n > 0) {
    throw new Error(`invalid split: ${nVal} validation + ${nTest} test rows leave no training rows out of ${n}`);
  }
  return {
    val: order.slice(0, nVal),
    test: order.slice(nVal, nVal + nTest),
    train: order.slice(nVal + nTest),
  };
}
