import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Command } from 'commander';
import { buildReport, type ReportRow } from '../lib/eval/report';
import { registerReportCommand } from '../lib/cli/report';
import { STUDY_DEFAULTS } from '../lib/config';
import { HAND_SOURCES } from './fixtures/per-source';

/** A run folder as training writes it; the confusion matrix is small enough to check every rate by hand. */
function writeRun(metrics: Record<string, unknown> = {}, config: Record<string, unknown> = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'realfake-report-'));
  const confusion = { tp: 50, fp: 3, fn: 2, tn: 45 };
  fs.writeFileSync(
    path.join(dir, 'metrics.json'),
    JSON.stringify({
      n: 100,
      threshold: 0.5,
      positiveClass: 'fake',
      accuracy: 95 / 100,
      precision: 50 / 53,
      recall: 50 / 52,
      f1: 100 / 105,
      specificity: 45 / 48,
      auc: 0.98765,
      averagePrecision: 'NaN',
      confusion,
      split: 'val',
      roc: { fpr: [0, 1], tpr: [0, 1], thresholds: ['Infinity', 0] },
      pr: { precision: [1], recall: [0], thresholds: [] },
      ...metrics,
    }),
  );
  fs.writeFileSync(
    path.join(dir, 'config.json'),
    JSON.stringify({
      ...STUDY_DEFAULTS,
      imageSize: 64,
      resize: 'bilinear',
      epochs: 8,
      learningRate: 0.001,
      limitPerClass: 200,
      seed: 7,
      ...config,
    }),
  );
  return dir;
}

const row = (rows: ReportRow[], metric: string) => rows.find((r) => r.metric.startsWith(metric));

test('the table shows the run beside the study, as published and corrected (values checked by hand)', () => {
  const { rows, markdown } = buildReport(writeRun());
  assert.deepEqual(row(rows, 'Accuracy'), {
    metric: 'Accuracy',
    run: '0.9500',
    published: '0.99',
    corrected: '0.9900',
  });
  // Run: 50/53, 50/52, 100/105, 45/48. Study: 602/609 precision, 602/607 recall, printed the other way round.
  assert.deepEqual(row(rows, 'Precision'), {
    metric: 'Precision',
    run: '0.9434',
    published: '0.9918 ¹',
    corrected: '0.9885',
  });
  assert.deepEqual(row(rows, 'Recall'), {
    metric: 'Recall (sensitivity)',
    run: '0.9615',
    published: '0.9885 ¹',
    corrected: '0.9918',
  });
  assert.equal(row(rows, 'F1')?.run, '0.9524');
  assert.equal(row(rows, 'F1')?.corrected, '0.9901'); // 1204/1216
  assert.equal(row(rows, 'Specificity')?.run, '0.9375');
  assert.equal(row(rows, 'Specificity')?.corrected, '0.9882'); // 586/593
  assert.equal(row(rows, 'ROC AUC')?.run, '0.9877');
  assert.equal(row(rows, 'Average precision')?.run, 'n/a', 'NaN in metrics.json is shown as n/a');
  assert.deepEqual(
    ['TP', 'FP', 'FN', 'TN'].map((m) => [row(rows, m)?.run, row(rows, m)?.published]),
    [
      ['50', '602'],
      ['3', '7'],
      ['2', '5'],
      ['45', '586'],
    ],
  );
  assert.equal(row(rows, 'Images scored')?.published, '1200');

  assert.match(markdown, /\| Precision +\| 0\.9434 +\| 0\.9918 ¹ +\| 0\.9885 +\|/);
  assert.match(markdown, /TP\/\(TP\+FN\) = 602\/607 = 0\.9918, which is the recall/);
  assert.match(markdown, /TP\/\(TP\+FP\) = 602\/609 = 0\.9885, which is the precision/);
  assert.match(markdown, /\(recall \+ specificity\)\/2 = 0\.9900/);
  assert.match(markdown, /\| resize +\| bilinear +\| nearest +\|/);
  assert.match(markdown, /\| learningRate +\| 0\.001 +\| 0\.00001 +\|/);
  assert.match(markdown, /\| limitPerClass +\| 200 +\| 3000 +\|/);
  const unlimited = buildReport(writeRun({}, { limitPerClass: null })).configRows.find(
    (r) => r.setting === 'limitPerClass',
  );
  assert.equal(unlimited?.run, 'all');
});

test('the split is stated: val warns and recommends --test-fraction; test and inferred splits are named', () => {
  const val = buildReport(writeRun());
  assert.equal(val.split, 'val');
  assert.match(val.splitNote, /validation split.*also chose the checkpoint/);
  assert.match(val.splitNote, /--test-fraction/);
  assert.match(val.markdown, /on its \*\*val\*\* split/);

  const held = buildReport(writeRun({ split: 'test' }, { testFraction: 0.1 }));
  assert.equal(held.split, 'test');
  assert.match(held.splitNote, /held-out test split.*testFraction = 0\.1/);

  const inferred = buildReport(writeRun({ split: undefined }, { testFraction: 0.15 }));
  assert.equal(inferred.split, 'test');
  assert.match(inferred.splitNote, /no "split" field; inferred from testFraction = 0\.15/);
  assert.equal(buildReport(writeRun({ split: undefined })).split, 'val');
  assert.equal(buildReport(writeRun({ split: 'external' })).split, 'external');
});

test('missing or broken inputs give one line naming the file', () => {
  const dir = writeRun();
  fs.rmSync(path.join(dir, 'metrics.json'));
  assert.throws(() => buildReport(dir), new RegExp(`${path.join(dir, 'metrics.json')}: not found`));

  assert.throws(
    () => buildReport(writeRun({ confusion: { tp: 1, fp: 2, fn: 3 } })),
    /metrics\.json: missing or non-integer field "confusion\.tn"/,
  );
  assert.throws(
    () => buildReport(writeRun({ recall: undefined })),
    /metrics\.json: missing or non-numeric field "recall"/,
  );
  assert.throws(() => buildReport(writeRun({ split: 'train' })), /field "split" must be/);

  const noConfig = writeRun();
  fs.writeFileSync(path.join(noConfig, 'config.json'), '{');
  assert.throws(() => buildReport(noConfig), /config\.json: not valid JSON/);
});

async function runCli(args: string[]): Promise<{ stdout: string; stderr: string; exitCode: number }> {
  const program = new Command().exitOverride();
  registerReportCommand(program);
  const out = { stdout: '', stderr: '' };
  const saved = { stdout: process.stdout.write, stderr: process.stderr.write };
  process.stdout.write = ((c: string) => ((out.stdout += c), true)) as typeof process.stdout.write;
  process.stderr.write = ((c: string) => ((out.stderr += c), true)) as typeof process.stderr.write;
  try {
    await program.parseAsync(['node', 'realfake', ...args]);
  } finally {
    process.stdout.write = saved.stdout;
    process.stderr.write = saved.stderr;
  }
  const exitCode = Number(process.exitCode ?? 0);
  process.exitCode = 0;
  return { ...out, exitCode };
}

/** The cells of the Markdown table row that starts with `first`. */
function markdownRow(markdown: string, first: string): string[] | undefined {
  const line = markdown.split('\n').find((l) => l.startsWith(`| ${first} `));
  return line
    ?.split('|')
    .slice(1, -1)
    .map((cell) => cell.trim());
}

test('report.md has a per-source table from metrics.json: source, class, n, rate [interval], AUC [interval]', () => {
  const { markdown, perSource } = buildReport(writeRun({ perSource: HAND_SOURCES }));
  assert.equal(perSource?.length, 4);
  assert.match(markdown, /## Per source\n/);
  assert.deepEqual(markdownRow(markdown, 'source'), [
    'source',
    'class',
    'images',
    'recall / specificity [95 %]',
    'AUC vs the other class [95 %]',
  ]);
  assert.deepEqual(markdownRow(markdown, 'ffhq'), [
    'ffhq',
    'real',
    '50',
    'specificity 0.875 [0.750, 1.000]',
    '0.938 [0.875, 1.000]',
  ]);
  assert.deepEqual(markdownRow(markdown, 'sd14'), [
    'sd14',
    'fake',
    '40',
    'recall 0.625 [0.500, 0.750]',
    '0.875 [0.813, 0.938]',
  ]);
  assert.deepEqual(markdownRow(markdown, 'gan'), [
    'gan',
    'fake',
    '20',
    'recall 0.500 [0.250, 0.750]',
    'n/a [n/a, n/a]',
  ]);
});

test('older runs: per-source numbers recomputed from predictions.csv with sources, else "run evaluate again"', () => {
  const dir = writeRun();
  // Threshold 0.5. Real a: 0.1 0.6 0.2; fake b: 0.9 0.4; fake c: 0.7.
  fs.writeFileSync(
    path.join(dir, 'predictions.csv'),
    'file,label,source,pFake\nr1.png,0,a,0.1\nr2.png,0,a,0.6\nr3.png,0,a,0.2\nf1.png,1,b,0.9\nf2.png,1,b,0.4\nf3.png,1,c,0.7\n',
  );
  const report = buildReport(dir);
  const round = (x: number) => Math.round(x * 1e12) / 1e12;
  const estimates = report.perSource?.map((r) => [r.source, r.rateName, round(r.rate.estimate), round(r.auc.estimate)]);
  assert.deepEqual(estimates, [
    // a: 2 of 3 called real; the 3 fakes rank above a's images in 3 + 2 + 3 of 9 pairs.
    ['a', 'specificity', round(2 / 3), round(8 / 9)],
    // b: 0.9 called fake of 2; above the 3 reals in 3 + 2 of 6 pairs.
    ['b', 'recall', 1 / 2, round(5 / 6)],
    ['c', 'recall', 1, 1],
  ]);
  assert.match(report.perSourceNote, /recomputed from predictions\.csv/);
  assert.equal(markdownRow(report.markdown, 'b')?.[3].slice(0, 12), 'recall 0.500');

  fs.writeFileSync(path.join(dir, 'predictions.csv'), 'file,label,pFake\nr1.png,0,0.1\nf1.png,1,0.9\n');
  const old = buildReport(dir);
  assert.equal(old.perSource, null);
  assert.match(old.markdown, /## Per source\n\nNo per-source numbers \(run evaluate again\)/);
  fs.rmSync(path.join(dir, 'predictions.csv'));
  assert.equal(buildReport(dir).perSourceNote, 'no per-source numbers (run evaluate again)');
});

test('CLI: prints the table, writes report.md; no --run is a usage error, a missing run a failure', async () => {
  const dir = writeRun();
  const ok = await runCli(['report', '--run', dir]);
  assert.equal(ok.exitCode, 0);
  assert.match(ok.stdout, /Precision +0\.9434 +0\.9918 ¹ +0\.9885/);
  assert.match(ok.stdout, /--test-fraction/);
  assert.match(ok.stdout, /\nno per-source numbers \(run evaluate again\)\n/);
  assert.equal(fs.readFileSync(path.join(dir, 'report.md'), 'utf8'), buildReport(dir).markdown);

  const usage = await runCli(['report']);
  assert.equal(usage.exitCode, 2);
  assert.match(usage.stderr, /needs --run/);

  const missing = await runCli(['report', '--run', path.join(dir, 'nope')]);
  assert.equal(missing.exitCode, 1);
  assert.match(missing.stderr, /^realfake: .*nope\/metrics\.json: not found/);
});
