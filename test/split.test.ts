/**
 * The study's split, row for row: realfake's validation rows are the rows scikit-learn's
 * train_test_split(X, y, test_size=0.2, random_state=5) puts in its test part (MT19937 and NumPy's legacy
 * RandomState.permutation, bounded draws and all). Checked against scikit-learn itself when Debian's
 * python3-sklearn is installed, and always against index lists it produced (scikit-learn 1.2.1, NumPy 1.24.2).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MT19937, numpyPermutation, splitIndices } from '../lib/random';
import { datasetSplit, splitClassCounts, splitRows, splitSizes, selectedCount } from '../lib/data/split';
import { pythonSkip, runPython } from './fixtures/python';

test('MT19937 gives the reference outputs (seed 5489: 3499211612 first) and NumPy seed 0 permutation', () => {
  const mt = new MT19937(5489);
  assert.equal(mt.nextUint32(), 3499211612);
  // np.random.RandomState(0).permutation(10)
  assert.deepEqual(numpyPermutation(10, 0), [2, 8, 4, 9, 1, 6, 7, 3, 0, 5]);
  assert.throws(() => new MT19937(-1), /seed must be an integer in \[0, 2\^32 - 1\]/);
});

/** train_test_split(np.arange(n), test_size=0.2, random_state=seed), printed by scikit-learn 1.2.1. */
const SKLEARN_LISTS = [
  { n: 10, seed: 5, val: [9, 5], train: [2, 4, 7, 1, 0, 8, 6, 3] },
  {
    n: 37,
    seed: 5,
    val: [32, 18, 3, 19, 22, 5, 0, 23],
    train: [
      20, 10, 33, 2, 6, 31, 36, 24, 1, 11, 13, 25, 29, 26, 21, 17, 15, 12, 30, 28, 34, 27, 7, 4, 8, 9, 16, 14, 35,
    ],
  },
  {
    n: 65,
    seed: 0,
    val: [45, 29, 43, 62, 34, 33, 31, 40, 26, 63, 22, 2, 11],
    train: [
      28, 54, 4, 10, 35, 52, 46, 30, 7, 14, 27, 64, 55, 41, 42, 58, 18, 61, 32, 15, 5, 16, 20, 56, 8, 13, 25, 37, 17,
      48, 51, 57, 38, 1, 12, 49, 24, 6, 23, 36, 50, 21, 19, 9, 39, 60, 59, 3, 0, 53, 47, 44,
    ],
  },
];

test('splitIndices equals hard-coded scikit-learn train_test_split index lists', () => {
  for (const { n, seed, val, train } of SKLEARN_LISTS) {
    const split = splitIndices(n, 0.2, 0, seed);
    assert.deepEqual(split.val, val, `n ${n}, seed ${seed}: validation`);
    assert.deepEqual(split.train, train, `n ${n}, seed ${seed}: train`);
    assert.deepEqual(split.test, []);
  }
  // The study's size: 6,000 images, 1,200 validation rows.
  const study = splitIndices(6000, 0.2, 0, 5);
  assert.equal(study.val.length, 1200);
  assert.deepEqual(
    study.val.slice(0, 16),
    [755, 2548, 4894, 2536, 2402, 1885, 249, 3086, 4032, 1183, 4544, 5610, 875, 3624, 1553, 5031],
  );
  assert.deepEqual(
    study.train.slice(-16),
    [3185, 4300, 3792, 2718, 2672, 2459, 1982, 740, 1032, 2121, 5520, 3046, 1725, 4079, 2254, 2915],
  );
});

const sklearnSkip = pythonSkip('numpy', 'sklearn');

test(
  "splitIndices matches scikit-learn itself row for row (sizes up to the study's 6,000, several seeds)",
  { skip: sklearnSkip },
  () => {
    const cases = [
      [1, 5],
      [2, 5],
      [5, 5],
      [64, 5],
      [255, 7],
      [256, 7],
      [1000, 5],
      [6000, 5],
      [6000, 42],
      [4321, 123456789],
      [300, 4294967295],
    ];
    const script = `
import json, sys
import numpy as np
from sklearn.model_selection import train_test_split
out = []
for n, seed in json.loads(sys.argv[1]):
    if n < 2:
        out.append(None); continue
    train, val = train_test_split(np.arange(n), test_size=0.2, random_state=seed)
    out.append({"train": train.tolist(), "val": val.tolist()})
print(json.dumps(out))
`;
    const expected = JSON.parse(runPython(script, JSON.stringify(cases))) as Array<{
      train: number[];
      val: number[];
    } | null>;
    cases.forEach(([n, seed], i) => {
      const want = expected[i];
      if (!want) return; // scikit-learn refuses to split fewer than 2 samples
      const got = splitIndices(n, 0.2, 0, seed);
      assert.deepEqual(got.val, want.val, `n ${n}, seed ${seed}: validation rows`);
      assert.deepEqual(got.train, want.train, `n ${n}, seed ${seed}: train rows`);
    });
  },
);

test("a test part comes after the validation rows, so validation stays scikit-learn's", () => {
  const plain = splitIndices(100, 0.2, 0, 5);
  const withTest = splitIndices(100, 0.2, 0.1, 5);
  assert.deepEqual(withTest.val, plain.val);
  assert.equal(withTest.test.length, 10);
  assert.equal(withTest.train.length, 70);
  assert.equal(new Set([...withTest.train, ...withTest.val, ...withTest.test]).size, 100);
  assert.deepEqual(splitSizes(100, { valFraction: 0.2, testFraction: 0.1 }), { train: 70, val: 20, test: 10 });
  assert.throws(() => splitIndices(3, 0.5, 0.4, 5), /leave no training rows/);
});

test('splitSeed, not seed, decides the split; rows map through the class limit', () => {
  const labels = Uint8Array.from([0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]);
  const config = { limitPerClass: 4, valFraction: 0.25, testFraction: 0, splitSeed: 5 };
  const split = datasetSplit(labels, config);
  // Rows 0-3 (real) and 6-9 (fake) are selected; the 8 selected rows are split as sklearn splits arange(8).
  const selected = [0, 1, 2, 3, 6, 7, 8, 9];
  const reference = splitIndices(8, 0.25, 0, 5);
  assert.deepEqual(
    split.val,
    reference.val.map((i) => selected[i]).sort((a, b) => a - b),
  );
  assert.deepEqual(splitRows(selected, config), split);
  assert.notDeepEqual(datasetSplit(labels, { ...config, splitSeed: 6 }).val, split.val);
  const counts = splitClassCounts(labels, split);
  assert.equal(counts.train.Real + counts.train.Fake, 6);
  assert.equal(counts.validation.Real + counts.validation.Fake, 2);
  assert.equal(counts.test, undefined);
  assert.equal(selectedCount({ real: 6, fake: 6 }, 4), 8);
  assert.equal(selectedCount({ real: 6, fake: 2 }, null), 8);
});
