/**
 * Which dataset rows a run uses and how they are split. Training (lib/train/experiment.ts), the notebooks'
 * class-balance chart and evaluation all call these, so they always agree on the rows.
 */
import type { Config } from '../config';
import { splitIndices, type SplitIndices } from '../random';

/** The first `limit` rows of each class, in dataset (sorted file) order; all rows when limit is null. */
export function selectRows(labels: Uint8Array, limit: number | null): number[] {
  const taken = [0, 0];
  const rows: number[] = [];
  labels.forEach((label, row) => {
    if (limit === null || taken[label] < limit) {
      taken[label]++;
      rows.push(row);
    }
  });
  return rows;
}

/**
 * Splits the selected rows with the config's fractions and splitSeed (scikit-learn's train_test_split with
 * random_state = splitSeed; see splitIndices); returns dataset row numbers, each part in ascending order.
 */
export function splitRows(rows: number[], config: Pick<Config, 'valFraction' | 'testFraction' | 'splitSeed'>): SplitIndices {
  const split = splitIndices(rows.length, config.valFraction, config.testFraction, config.splitSeed);
  const pick = (indices: number[]) => indices.map((i) => rows[i]).sort((a, b) => a - b);
  return { train: pick(split.train), val: pick(split.val), test: pick(split.test) };
}

/** The rows a run with `config` trains, validates and tests on, for a dataset's labels. */
export function datasetSplit(labels: Uint8Array, config: Pick<Config, 'limitPerClass' | 'valFraction' | 'testFraction' | 'splitSeed'>): SplitIndices {
  return splitRows(selectRows(labels, config.limitPerClass), config);
}

/** Sizes of the parts of a split of n rows (what splitIndices makes), without drawing it. */
export function splitSizes(n: number, config: Pick<Config, 'valFraction' | 'testFraction'>): { train: number; val: number; test: number } {
  const val = Math.ceil(config.valFraction * n);
  const test = Math.ceil(config.testFraction * n);
  return { train: n - val - test, val, test };
}

/** Rows a config takes from a dataset with these class counts (the first limitPerClass of each class). */
export function selectedCount(counts: { real: number; fake: number }, limitPerClass: number | null): number {
  const take = (k: number) => (limitPerClass === null ? k : Math.min(k, limitPerClass));
  return take(counts.real) + take(counts.fake);
}

// A type alias, not an interface: it must fit classBalanceFigure's Record<string, number> parameter.
export type SplitClassCounts = { Real: number; Fake: number };

/** Images per class in each part of a split (`test` only when the split has one). */
export function splitClassCounts(labels: Uint8Array, split: SplitIndices): Record<string, SplitClassCounts> {
  const count = (rows: number[]) => ({ Real: rows.filter((r) => labels[r] === 0).length, Fake: rows.filter((r) => labels[r] === 1).length });
  const counts: Record<string, SplitClassCounts> = { train: count(split.train), validation: count(split.val) };
  if (split.test.length) counts.test = count(split.test);
  return counts;
}
