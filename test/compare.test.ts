/** compare's per-source views on two hand-built run folders: one evaluated with sources, one older run. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { compareRuns } from '../lib/eval/compare';
import { computeMetrics, metricsToJson, type Metrics } from '../lib/eval/metrics';
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
