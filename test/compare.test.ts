/**
 * compare on hand-built run folders: per-source views (one run evaluated with sources, one older run) and runs
 * grouped across seeds with hand-computed mean and sample sd.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { compareRuns, writeComparisonFiles } from '../lib/eval/compare';
import { formatMeanSd, groupBySeed, meanSd } from '../lib/eval/seed-groups';
import type { Config } from '../lib/config';
import { gridPoints, parseSetArgs, planSweep, runIsFinished, SWEEP_FILE } from '../lib/sweep';
import { skipForMissingTool } from './helpers/tools';
import { computeMetrics, metricsToJson, type Metrics } from '../lib/metrics/metrics';
import { HAND_SOURCES } from './fixtures/per-source';

/** Real ffhq: 0.1 0.6 0.2; fake sd14: 0.9 0.4; fake new: 0.7 (threshold 0.5). */
const PREDICTIONS = [
  ['r1.png', 0, 'ffhq', 0.1],
  ['r2.png', 0, 'ffhq', 0.6],
  ['r3.png', 0, 'ffhq', 0.2],
  ['f1.png', 1, 'sd14', 0.9],
  ['f2.png', 1, 'sd14', 0.4],
  ['f3.png', 1, 'new', 0.7],
] as const;

/** A run folder as evaluate leaves it; `extra` goes into metrics.json, `dataDir` into run.json. */
function writeRun(root: string, id: string, extra: Record<string, unknown>, dataDir?: string): string {
  const dir = path.join(root, id);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ seed: 5, epochs: id === 'run-a' ? 2 : 3 }));
  const metrics = computeMetrics(
    PREDICTIONS.map((p) => p[1]),
    PREDICTIONS.map((p) => p[3]),
    0.5,
  );
  fs.writeFileSync(path.join(dir, 'metrics.json'), metricsToJson({ ...metrics, split: 'test', ...extra } as Metrics));
  const csv = PREDICTIONS.map((p) => p.join(','));
  fs.writeFileSync(path.join(dir, 'predictions.csv'), ['file,label,source,pFake', ...csv].join('\n') + '\n');
  if (dataDir) fs.writeFileSync(path.join(dir, 'run.json'), JSON.stringify({ id, dataDir }));
  return dir;
}

test('compare: per-source table across runs (metrics.json or recomputed) and the sources each dataset holds', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'realfake-compare-'));
  fs.mkdirSync(path.join(root, 'data'));
  const sourceCounts = HAND_SOURCES.map((s) => ({ source: s.source, label: s.label, count: s.n * 10 }));
  fs.writeFileSync(path.join(root, 'data', 'dataset.json'), JSON.stringify({ sourceCounts }));
  // run-a: evaluated with sources (hand-built numbers), its dataset at hand; run-b: older metrics.json, no run.json.
  const a = writeRun(root, 'run-a', { perSource: HAND_SOURCES }, '../data');
  const b = writeRun(root, 'run-b', {});
  const comparison = compareRuns([a, b], { resamples: 200 });

  const rows = comparison.sourceRows;
  assert.deepEqual(
    rows.map((r) => r.source),
    ['ffhq (real)', 'celeba (real)', 'sd14 (fake)', 'gan (fake)', 'new (fake)'],
  );
  assert.deepEqual(rows[0]['run-a'], 'specificity 0.875 [0.750, 1.000]; AUC 0.938 [0.875, 1.000] (n 50)');
  assert.deepEqual(rows[3]['run-a'], 'recall 0.500 [0.250, 0.750]; AUC n/a [n/a, n/a] (n 20)');
  assert.equal(rows[4]['run-a'], '—', 'run-a scored no image of "new"');
  assert.equal(rows[1]['run-b'], '—');
  // run-b recomputed from predictions.csv: ffhq 2 of 3 called real, fakes above its images in 8 of 9 pairs.
  assert.match(
    rows[0]['run-b'],
    /^specificity 0\.667 \[\d\.\d{3}, \d\.\d{3}\]; AUC 0\.889 \[\d\.\d{3}, \d\.\d{3}\] \(n 3\)$/,
  );
  assert.match(rows[2]['run-b'], /^recall 0\.500 \[.*\]; AUC 0\.833 \[.*\] \(n 2\)$/);

  assert.deepEqual(comparison.sourceCountRows, [
    { source: 'ffhq (real)', 'run-a': '500', 'run-b': 'n/a' },
    { source: 'celeba (real)', 'run-a': '300', 'run-b': 'n/a' },
    { source: 'sd14 (fake)', 'run-a': '400', 'run-b': 'n/a' },
    { source: 'gan (fake)', 'run-a': '200', 'run-b': 'n/a' },
  ]);
  assert.match(
    comparison.markdown,
    /## Per source \(95 % bootstrap intervals\)\n[^#]*\| ffhq \(real\) \| specificity 0\.875/,
  );
  assert.ok(comparison.figures['per_source_run-a'] && comparison.figures['per_source_run-b']);
});

test('meanSd: the sample standard deviation (ddof = 1), hand-computed', () => {
  // Mean 5; squared deviations 9+1+1+1+0+0+4+16 = 32; sample sd sqrt(32 / 7) (the population sd would be 2).
  const m = meanSd([2, 4, 4, 4, 5, 5, 7, 9]);
  assert.equal(m.n, 8);
  assert.equal(m.mean, 5);
  assert.ok(Math.abs(m.sd - Math.sqrt(32 / 7)) < 1e-12);
  assert.equal(formatMeanSd(m, 3), '5.000 ± 2.138');
  const one = meanSd([0.9]);
  assert.ok(one.mean === 0.9 && Number.isNaN(one.sd), 'one value: no spread');
  assert.equal(formatMeanSd(one), '0.9000 ± n/a');
  assert.deepEqual(meanSd([1, NaN, 3]), { n: 2, mean: 2, sd: Math.SQRT2 }, 'NaN (undefined metric) left out');
});

test('groupBySeed: runs differing only in seed and splitSeed (and the thread count) are one group', () => {
  const c = (lr: number, seed: number, splitSeed: number, workers = 0) =>
    ({ learningRate: lr, epochs: 2, seed, splitSeed, workers }) as unknown as Config;
  const groups = groupBySeed([c(1e-3, 1, 5), c(1e-4, 1, 5), c(1e-3, 2, 5, 4), c(1e-3, 3, 7)]);
  assert.deepEqual(groups, [
    {
      label: 'learningRate=0.001',
      members: [0, 2, 3],
      seeds: [
        { seed: 1, splitSeed: 5 },
        { seed: 2, splitSeed: 5 },
        { seed: 3, splitSeed: 7 },
      ],
    },
    { label: 'learningRate=0.0001', members: [1], seeds: [{ seed: 1, splitSeed: 5 }] },
  ]);
  assert.equal(groupBySeed([c(1e-3, 1, 5), c(1e-3, 2, 5)])[0].label, 'all runs');
});

/** Six held-back images (3 real, 3 fake); the first `wrong` of them scored on the wrong side of 0.5. */
function writeSeedRun(root: string, id: string, config: Record<string, unknown>, wrong: number): string {
  const dir = path.join(root, id);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
  const labels = [0, 1, 0, 1, 0, 1];
  const scores = labels.map((l, i) => (i < wrong ? (l ? 0.2 : 0.8) : l ? 0.8 : 0.2));
  fs.writeFileSync(
    path.join(dir, 'metrics.json'),
    metricsToJson({ ...computeMetrics(labels, scores, 0.5), split: 'test' } as Metrics),
  );
  const csv = labels.map((l, i) => `img${i}.png,${l},${l ? 'fake' : 'real'},${scores[i]}`);
  fs.writeFileSync(path.join(dir, 'predictions.csv'), ['file,label,source,pFake', ...csv].join('\n') + '\n');
  return dir;
}

test('compare groups runs that differ only by seed: each run beside mean ± sample sd, in the table and a figure', async (t) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'realfake-seeds-'));
  const base = { learningRate: 1e-3, epochs: 2, splitSeed: 5 };
  const dirs = [
    writeSeedRun(root, 'a1', { ...base, seed: 1 }, 0), // accuracy 6/6
    writeSeedRun(root, 'a2', { ...base, seed: 2 }, 1), // 5/6
    writeSeedRun(root, 'a3', { ...base, seed: 3, splitSeed: 6 }, 3), // 3/6
    writeSeedRun(root, 'b1', { ...base, learningRate: 1e-4, seed: 1 }, 0), // 6/6
    writeSeedRun(root, 'b2', { ...base, learningRate: 1e-4, seed: 2 }, 1), // 5/6
  ];
  const comparison = compareRuns(dirs, { resamples: 50 });
  assert.deepEqual(
    comparison.seedGroups.map((g) => [g.label, g.members]),
    [
      ['learningRate=0.001', [0, 1, 2]],
      ['learningRate=0.0001', [3, 4]],
    ],
  );
  const accuracy = comparison.seedRows.filter((r) => r.metric === 'accuracy');
  // Group a: mean (1 + 5/6 + 1/2) / 3 = 7/9 = 0.7778; deviations 4/18, 1/18, -5/18, so
  // sd = sqrt((16 + 1 + 25) / 324 / 2) = sqrt(21) / 18 = 0.2546 (ddof = 1).
  // Group b: mean (1 + 5/6) / 2 = 11/12 = 0.9167; sd = (1/6) / sqrt(2) = 0.1179.
  assert.deepEqual(accuracy, [
    {
      group: 'learningRate=0.001',
      'seeds (seed/splitSeed)': '1/5, 2/5, 3/6',
      metric: 'accuracy',
      'mean ± sd': '0.7778 ± 0.2546 (n 3)',
      runs: '1.0000, 0.8333, 0.5000',
    },
    {
      group: 'learningRate=0.0001',
      'seeds (seed/splitSeed)': '1/5, 2/5',
      metric: 'accuracy',
      'mean ± sd': '0.9167 ± 0.1179 (n 2)',
      runs: '1.0000, 0.8333',
    },
  ]);
  assert.match(comparison.markdown, /## Across seeds \(mean ± sample sd, ddof = 1\)/);
  assert.match(
    comparison.markdown,
    /\| learningRate=0\.001 \| 1\/5, 2\/5, 3\/6 \| accuracy \| 0\.7778 ± 0\.2546 \(n 3\) \|/,
  );
  const fig = comparison.figures.compare_seeds;
  assert.ok(fig, 'the seed-spread figure');
  const means = fig.data.find((d) => d.name === 'learningRate=0.001: mean ± sd (n 3)')!;
  assert.ok(Math.abs((means.y as number[])[0] - 7 / 9) < 1e-12, 'accuracy is the first metric');
  assert.ok(Math.abs((means.error_y as { array: number[] }).array[0] - Math.sqrt(21) / 18) < 1e-12);
  const dots = fig.data.find((d) => d.name === 'learningRate=0.001: runs')!;
  assert.deepEqual((dots.y as number[]).slice(0, 3), [1, 5 / 6, 0.5]);

  // Runs that share no settings but their seeds have nothing to average: no section, no figure.
  const single = compareRuns([dirs[0], dirs[3]], { resamples: 50 });
  assert.deepEqual(single.seedRows, []);
  assert.ok(!single.figures.compare_seeds && !/Across seeds/.test(single.markdown));

  // Written out with --svg: every figure as SVG (needs Chromium).
  const out = path.join(root, 'cmp');
  const written = await writeComparisonFiles(out, 'seeds', comparison.markdown, comparison.figures, { svg: true });
  assert.ok(fs.readFileSync(path.join(out, 'comparison.md'), 'utf8').includes('Across seeds'));
  if (skipForMissingTool(t, written.note)) return;
  assert.ok(written.files.includes(path.join(out, 'figures', 'compare_seeds.svg')));
  assert.match(fs.readFileSync(path.join(out, 'figures', 'compare_seeds.svg'), 'utf8'), /^<svg [^>]*>.*Across seeds/s);
});

test('sweep: seed and splitSeed are axes like any setting (--set seed=1,2 --set split-seed=5,6)', () => {
  const axes = parseSetArgs(['lr=1e-3', 'seed=1,2', 'split-seed=5,6']);
  assert.deepEqual(
    axes.map((a) => [a.key, a.values]),
    [
      ['learningRate', [1e-3]],
      ['seed', [1, 2]],
      ['splitSeed', [5, 6]],
    ],
  );
  assert.deepEqual(gridPoints(axes), [
    { learningRate: 1e-3, seed: 1, splitSeed: 5 },
    { learningRate: 1e-3, seed: 1, splitSeed: 6 },
    { learningRate: 1e-3, seed: 2, splitSeed: 5 },
    { learningRate: 1e-3, seed: 2, splitSeed: 6 },
  ]);
});

test('planSweep: the points and the run folders an earlier start made, without training or writing anything', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'realfake-plan-'));
  const options = { dir, dataDir: 'd', preset: 'smoke', base: {} as Config, axes: parseSetArgs(['seed=1,2']) };
  const fresh = planSweep(options);
  assert.deepEqual(
    fresh.points.map((p) => [p.key, p.status, p.runDir]),
    [
      ['seed=1', 'pending', undefined],
      ['seed=2', 'pending', undefined],
    ],
  );
  assert.deepEqual(fs.readdirSync(dir), [], 'nothing written');
  // An earlier start recorded a run for seed=2 (finished: run.json with finishedAt, and metrics.json).
  const run = path.join(dir, 'runs', 'r2');
  fs.mkdirSync(run, { recursive: true });
  fs.writeFileSync(path.join(run, 'run.json'), JSON.stringify({ finishedAt: '2026-12-06T00:00:00Z' }));
  fs.writeFileSync(path.join(run, 'metrics.json'), '{}');
  fs.writeFileSync(path.join(dir, SWEEP_FILE), JSON.stringify({ points: [{ key: 'seed=2', runDir: run }] }));
  const again = planSweep(options);
  assert.deepEqual(
    again.points.map((p) => [p.key, runIsFinished(p.runDir)]),
    [
      ['seed=1', false],
      ['seed=2', true],
    ],
  );
});
