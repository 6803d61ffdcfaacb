/**
 * `realfake sweep`, `compare`, `analyze`, and predict/evaluate with the stored threshold and temperature, end to
 * end on a tiny embedded (synthetic) dataset in a temporary folder. The sweep is run twice to check it resumes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { realfake as runCli } from './helpers/cli';
import { logit, sigmoid, verdictFor } from '../lib/infer/verdict';

const realfake = (args: string[], cwd: string) => runCli(args, cwd, 600_000);

test('sweep (resumable) > compare > analyze > predict --threshold picked --calibrated --explain > evaluate/report with intervals', () => {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'rf-analysis-'));
  assert.equal(realfake(['synth', '--out', 'faces', '--count', '16', '--size', '64', '--seed', '5'], cwd).code, 0);
  assert.equal(
    realfake(['preprocess', '--real', 'faces/real', '--fake', 'faces/fake', '--out', 'prepared', '--size', '64'], cwd)
      .code,
    0,
  );

  const sweepArgs = [
    'sweep',
    '--data',
    'prepared',
    '--out',
    'sweep',
    '--preset',
    'smoke',
    '--set',
    'lr=1e-3,3e-4',
    '--epochs',
    '1',
    '--batch-size',
    '8',
    '--test-fraction',
    '0.25',
    '--workers',
    '1',
  ];
  const sweep = realfake(sweepArgs, cwd);
  assert.equal(sweep.code, 0, sweep.stderr + sweep.stdout);
  const state = JSON.parse(fs.readFileSync(path.join(cwd, 'sweep', 'sweep.json'), 'utf8'));
  assert.deepEqual(
    state.points.map((p: { key: string; status: string }) => [p.key, p.status]),
    [
      ['learningRate=0.001', 'done'],
      ['learningRate=0.0003', 'done'],
    ],
  );
  const comparison = fs.readFileSync(path.join(cwd, 'sweep', 'comparison.md'), 'utf8');
  assert.match(comparison, /\| learningRate \| 0\.001 \| 0\.0003 \|/, 'the differing setting is tabled');
  assert.match(comparison, /McNemar b \/ c/);
  assert.match(comparison, /\| auc \| [0-9.]+ \[[0-9.]+, [0-9.]+\]/, 'AUC with an interval');
  assert.ok(fs.existsSync(path.join(cwd, 'sweep', 'figures.html')));

  // Again: both runs are kept and skipped, no new run folder.
  const again = realfake(sweepArgs, cwd);
  assert.equal(again.code, 0, again.stderr);
  assert.equal((again.stdout.match(/finished before, kept/g) ?? []).length, 2);
  assert.equal(fs.readdirSync(path.join(cwd, 'sweep', 'runs')).length, 2);

  const compare = realfake(['compare', 'sweep/runs/*', '--out', 'cmp'], cwd);
  assert.equal(compare.code, 0, compare.stderr);
  assert.match(compare.stdout, /Comparison of 2 runs/);
  // Flat class folders: one source per class, named after it; both runs trained on the one dataset.
  assert.match(compare.stdout, /\| real \(real\) \| specificity [0-9.]+ \[[0-9.]+, [0-9.]+\]; AUC [0-9.]+ \[/);
  assert.match(compare.stdout, /\| fake \(fake\) \| (\d+) \| \1 \|/, 'the sources each run saw');
  assert.ok(fs.existsSync(path.join(cwd, 'cmp', 'comparison.md')));
  assert.equal(realfake(['compare', 'sweep/runs/nothing*'], cwd).code, 2, 'a glob matching nothing is a usage error');

  const runDir = path.join('sweep', 'runs', fs.readdirSync(path.join(cwd, 'sweep', 'runs')).sort()[0]);
  const metrics = JSON.parse(fs.readFileSync(path.join(cwd, runDir, 'metrics.json'), 'utf8'));
  assert.equal(metrics.split, 'test');
  assert.equal(metrics.intervals.resamples, 1000);
  assert.ok(
    metrics.intervals.intervals.accuracy.low <= metrics.accuracy &&
      metrics.accuracy <= metrics.intervals.intervals.accuracy.high,
  );

  const analyze = realfake(
    ['analyze', '--run', runDir, '--robustness', 'quick', '--resamples', '100', '--gradcam', '1'],
    cwd,
  );
  assert.equal(analyze.code, 0, analyze.stderr);
  assert.match(analyze.stdout, /## Metrics with 95 % intervals/);
  assert.match(analyze.stdout, /jpeg q75/);
  for (const f of [
    'threshold.json',
    'calibration.json',
    'analysis/analysis.json',
    'analysis/analysis.md',
    'analysis/figures.html',
  ]) {
    assert.ok(fs.existsSync(path.join(cwd, runDir, f)), `${f} written`);
  }
  const analysis = JSON.parse(fs.readFileSync(path.join(cwd, runDir, 'analysis', 'analysis.json'), 'utf8'));
  assert.equal(analysis.robustness[0].perturbation, 'none');
  assert.match(analyze.stdout, /## Per source\n/);
  assert.deepEqual(
    analysis.perSource.map((r: { source: string; rateName: string }) => [r.source, r.rateName]),
    [
      ['real', 'specificity'],
      ['fake', 'recall'],
    ],
    'per source at the picked threshold',
  );
  assert.match(
    fs.readFileSync(path.join(cwd, runDir, 'analysis', 'figures.html'), 'utf8'),
    /Per source on test at threshold/,
  );
  assert.ok(
    analysis.gradcam.length >= 1 && fs.existsSync(path.join(cwd, runDir, 'analysis', analysis.gradcam[0].path)),
    'a Grad-CAM overlay (path relative to analysis/)',
  );
  const stored = JSON.parse(fs.readFileSync(path.join(cwd, runDir, 'threshold.json'), 'utf8'));
  assert.equal(stored.pickedOn, 'val');
  const temperature = JSON.parse(fs.readFileSync(path.join(cwd, runDir, 'calibration.json'), 'utf8')).temperature;
  assert.ok(temperature > 0);

  const image = path.join('faces', 'fake', fs.readdirSync(path.join(cwd, 'faces', 'fake')).sort()[0]);
  const plain = realfake(['predict', '--run', runDir, '--json', image], cwd);
  const tuned = realfake(
    ['predict', '--run', runDir, '--json', '--threshold', 'picked', '--calibrated', '--explain', 'cams', image],
    cwd,
  );
  assert.equal(tuned.code, 0, tuned.stderr);
  const [p0, p1] = [JSON.parse(plain.stdout), JSON.parse(tuned.stdout)];
  // Plain predict shows pFake scaled by the model card's temperature (evaluate wrote the card): undo it.
  const card = JSON.parse(fs.readFileSync(path.join(cwd, runDir, 'model-card.json'), 'utf8'));
  const raw = sigmoid(card.policy.temperature * logit(p0.pFake));
  assert.ok(Math.abs(p1.pFake - sigmoid(logit(raw) / temperature)) < 1e-5, "analyze's temperature instead");
  const policy = { ...card.policy, threshold: stored.threshold, temperature };
  assert.equal(p1.verdict, verdictFor(raw, policy).verdict, "the picked threshold, with the card's band");
  if (p1.verdict !== 'Uncertain')
    assert.equal(p1.verdict === 'Fake (AI-generated)', raw >= stored.threshold, 'the picked threshold decides');
  assert.ok(
    fs.existsSync(path.join(cwd, 'cams', `${path.basename(image, '.png')}.gradcam.png`)),
    'the Grad-CAM overlay',
  );
  assert.equal(realfake(['predict', '--run', runDir, '--threshold', 'high', image], cwd).code, 2);

  const evaluate = realfake(['evaluate', '--run', runDir, '--threshold', 'picked'], cwd);
  assert.equal(evaluate.code, 0, evaluate.stderr);
  assert.match(evaluate.stdout, /95 % interval/);
  assert.equal(JSON.parse(fs.readFileSync(path.join(cwd, runDir, 'metrics.json'), 'utf8')).threshold, stored.threshold);
  assert.equal(realfake(['report', '--run', runDir], cwd).code, 0);
  assert.match(
    fs.readFileSync(path.join(cwd, runDir, 'report.md'), 'utf8'),
    /\| Accuracy +\| [0-9.]+ \[[0-9.]+, [0-9.]+\]/,
  );
});
