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

type SplitSettings = Pick<Config, 'valFraction' | 'testFraction' | 'splitSeed'> & { stratifyBySource?: boolean };

/** One shuffle of `rows` (scikit-learn's train_test_split with random_state = splitSeed; see splitIndices). */
function shuffleSplit(rows: number[], config: SplitSettings): SplitIndices {
  const split = splitIndices(rows.length, config.valFraction, config.testFraction, config.splitSeed);
  const pick = (indices: number[]) => indices.map((i) => rows[i]);
  return { train: pick(split.train), val: pick(split.val), test: pick(split.test) };
}

/**
 * Splits the selected rows with the config's fractions and splitSeed; returns dataset row numbers, each part in
 * ascending order. Without stratifyBySource (the study): one shuffle of all rows, scikit-learn's
 * train_test_split row for row. With it, and `strata` (each dataset row's group, e.g. its class and source), each
 * group is split on its own the same way (validation ceil(valFraction x n), test ceil(testFraction x n) of its n
 * rows), so every source keeps its share of every part.
 */
export function splitRows(rows: number[], config: SplitSettings, strata?: ArrayLike<string>): SplitIndices {
  const groups = new Map<string, number[]>();
  if (config.stratifyBySource && strata) rows.forEach((row) => (groups.get(strata[row]) ?? groups.set(strata[row], []).get(strata[row])!).push(row));
  else groups.set('', rows);
  const parts: SplitIndices = { train: [], val: [], test: [] };
  for (const [group, members] of groups) {
    let split: SplitIndices;
    try {
      split = shuffleSplit(members, config);
    } catch (err) {
      throw new Error(group ? `source ${group.replace('\u0000', ' ')}: ${(err as Error).message} (too few images to stratify)` : (err as Error).message);
    }
    for (const part of ['train', 'val', 'test'] as const) parts[part].push(...split[part]);
  }
  const sorted = (indices: number[]) => indices.sort((a, b) => a - b);
  return { train: sorted(parts.train), val: sorted(parts.val), test: sorted(parts.test) };
}

/** Each row's stratum for splitRows: its class and its source. */
export function sourceStrata(labels: ArrayLike<number>, sources: string[]): string[] {
  return sources.map((source, row) => `${labels[row] ? 'fake' : 'real'}\u0000${source}`);
}

/** The rows a run with `config` trains, validates and tests on, for a dataset's labels (and sources, to stratify). */
export function datasetSplit(
  labels: Uint8Array,
  config: Pick<Config, 'limitPerClass'> & SplitSettings,
  sources?: string[],
): SplitIndices {
  return splitRows(selectRows(labels, config.limitPerClass), config, sources && sourceStrata(labels, sources));
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
