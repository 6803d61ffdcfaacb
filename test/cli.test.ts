/** The `realfake` command line end to end, in a temporary folder: exit codes, files written, outputs. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { realfake } from './helpers/cli';
import { logit, sigmoid, verdictCuts, verdictFor } from '../lib/infer/verdict';

test('--help and --version exit 0; usage errors exit 2; failures exit 1 with one line', () => {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'rf-cli-'));
  const help = realfake(['--help'], cwd);
  assert.equal(help.code, 0);
  for (const sub of ['run', 'synth', 'preprocess', 'train', 'evaluate', 'predict', 'report', 'data'])
    assert.match(help.stdout, new RegExp(`\\b${sub}\\b`));
  for (const sub of ['synth', 'preprocess', 'train', 'evaluate', 'predict'])
    assert.equal(realfake([sub, '--help'], cwd).code, 0, `${sub} --help`);
  assert.equal(realfake(['--version'], cwd).code, 0);
  assert.equal(realfake(['nonsense'], cwd).code, 2);
  assert.equal(realfake(['train'], cwd).code, 2, 'train without --data');
  assert.equal(realfake(['train', '--data', 'x', '--epochs', 'many'], cwd).code, 2);
  assert.equal(realfake(['train', '--data', 'x', '--size', '16'], cwd).code, 2, 'config validation is a usage error');
  const missing = realfake(['evaluate', '--run', path.join(cwd, 'no-such-run')], cwd);
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr.trim().split('\n').length, 1);
  assert.match(missing.stderr, /no-such-run: run folder not found/);
  const noData = realfake(['train', '--data', path.join(cwd, 'nothing')], cwd);
  assert.equal(noData.code, 1);
  assert.match(noData.stderr, /nothing: no preprocessed dataset here/);
});

test('synth > preprocess > train > evaluate > predict > report', () => {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'rf-e2e-'));
  const synth = realfake(['synth', '--out', 'faces', '--count', '16', '--size', '64', '--seed', '3'], cwd);
  assert.equal(synth.code, 0, synth.stderr);
  assert.equal(fs.readdirSync(path.join(cwd, 'faces', 'real')).length, 16);
  // A broken file among the fakes is skipped with a reason, the rest go on.
  fs.writeFileSync(path.join(cwd, 'faces', 'fake', 'zz-broken.png'), 'not a png');
  const pre = realfake(
    ['preprocess', '--real', 'faces/real', '--fake', 'faces/fake', '--out', 'prepared', '--size', '64'],
    cwd,
  );
  assert.equal(pre.code, 0, pre.stderr);
  assert.match(pre.stderr, /zz-broken\.png/);
  const manifest = fs.readFileSync(path.join(cwd, 'prepared', 'manifest.csv'), 'utf8');
  assert.match(manifest, /zz-broken\.png,1,skipped,/);
  const train = realfake(
    [
      'train',
      '--data',
      'prepared',
      '--preset',
      'smoke',
      '--epochs',
      '2',
      '--batch-size',
      '8',
      '--out',
      'runs',
      '--workers',
      '1',
    ],
    cwd,
  );
  assert.equal(train.code, 0, train.stderr);
  assert.match(train.stdout, /epoch 1\/2 .*val_accuracy/);
  assert.match(train.stdout, /backend: wasm/);
  const [runId] = fs.readdirSync(path.join(cwd, 'runs'));
  const runDir = path.join(cwd, 'runs', runId);
  for (const f of [
    'config.json',
    'run.json',
    'split.json',
    'history.csv',
    'history.json',
    'checkpoint.json',
    'model/model.json',
  ]) {
    assert.ok(fs.existsSync(path.join(runDir, f)), `${f} written`);
  }
  assert.equal(JSON.parse(fs.readFileSync(path.join(runDir, 'config.json'), 'utf8')).epochs, 2);
  assert.equal(fs.readFileSync(path.join(runDir, 'history.csv'), 'utf8').trim().split('\n').length, 3);

  const evaluate = realfake(['evaluate', '--run', runDir], cwd);
  assert.equal(evaluate.code, 0, evaluate.stderr);
  const metrics = JSON.parse(fs.readFileSync(path.join(runDir, 'metrics.json'), 'utf8'));
  assert.equal(metrics.split, 'val');
  assert.equal(metrics.positiveClass, 'fake');
  // 32 usable images, 20 % validation (rounded up like scikit-learn): 7.
  assert.equal(metrics.n, 7);
  const c = metrics.confusion;
  assert.equal(c.tp + c.fp + c.fn + c.tn, 7);
  assert.equal(metrics.accuracy, (c.tp + c.tn) / 7);
  for (const fig of ['loss', 'accuracy', 'confusion_matrix', 'roc', 'precision_recall']) {
    assert.ok(fs.existsSync(path.join(runDir, 'figures', `${fig}.html`)), `${fig}.html`);
  }

  fs.writeFileSync(path.join(cwd, 'faces', 'notes.jpg'), 'not a jpeg');
  const predict = realfake(
    ['predict', '--run', runDir, '--csv', 'faces/real/' + fs.readdirSync(path.join(cwd, 'faces', 'real'))[0], 'faces'],
    cwd,
  );
  assert.equal(predict.code, 0, predict.stderr);
  const lines = predict.stdout.trim().split('\n');
  assert.equal(lines[0], 'file,verdict,confidence,pFake');
  assert.equal(lines.length, 1 + 1 + 32, 'one sample file + 32 readable images in the folder');
  // evaluate wrote the model card: its policy decides (pFake shown temperature-scaled, "Uncertain" in its band).
  const { policy } = JSON.parse(fs.readFileSync(path.join(runDir, 'model-card.json'), 'utf8'));
  for (const line of lines.slice(1)) {
    const [, verdict, confidence, pFake] = line.split(',');
    const p = Number(pFake);
    const expected = verdict === 'Real' ? 1 - p : verdict === 'Uncertain' ? Math.max(p, 1 - p) : p;
    assert.ok(Math.abs(Number(confidence) - expected) < 2e-6, line);
    const raw = sigmoid(policy.temperature * logit(p));
    // Lines whose raw score sits within rounding of a cut could go either way: skip those.
    const cuts = verdictCuts(policy);
    if (Math.min(Math.abs(raw - cuts.realBelow), Math.abs(raw - cuts.fakeFrom)) > 1e-5)
      assert.equal(verdict, verdictFor(raw, policy).verdict, line);
  }
  assert.match(predict.stderr, /skipped .*notes\.jpg/);
  assert.match(predict.stderr, /skipped .*zz-broken\.png/);

  const report = realfake(['report', '--run', runDir], cwd);
  assert.equal(report.code, 0, report.stderr);
  assert.ok(fs.existsSync(path.join(runDir, 'report.md')));
});

test('run (npm start): synthetic data on first use, then the summary table', () => {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'rf-run-'));
  const run = realfake(['run', '--limit', '10', '--epochs', '1', '--out', 'runs'], cwd);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /generating the synthetic smoke-test dataset \(10 \+ 10 images, 64px\)/);
  for (const row of [
    'backend',
    'evaluated on',
    'inference',
    'accuracy',
    'precision',
    'recall',
    'f1',
    'ROC AUC',
    'TP / FP / FN / TN',
    'model card',
    'run folder',
    'figures',
    'wall time',
  ]) {
    assert.match(run.stdout, new RegExp(`^${row}\\s{2,}\\S`, 'm'), `summary row ${row}`);
  }
  // 20 images, 20 % held back (rounded up): 4, and the two sample predictions come from them.
  assert.match(run.stdout, /val split, 4 held-back images/);
  assert.equal(
    (run.stdout.match(/^predict \S+\s+(Real|Fake \(AI-generated\)|Uncertain) \(\d+\.\d%\)$/gm) ?? []).length,
    2,
  );
  assert.ok(fs.existsSync(path.join(cwd, 'data', 'synth', 'synth.json')));
  assert.equal(fs.readdirSync(path.join(cwd, 'runs')).length, 1);
});

test('run --preset study (and its alias seed) without faces stops at once, naming how to get them; generates nothing', () => {
  for (const preset of ['study', 'seed']) {
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'rf-run-study-'));
    const run = realfake(['run', '--preset', preset, '--out', 'runs'], cwd, 60_000);
    assert.equal(run.code, 1, `${preset}: ${run.stderr}`);
    const lines = run.stderr.trim().split('\n');
    assert.equal(lines.length, 1, run.stderr);
    assert.match(lines[0], /^realfake: preset study needs the study's faces and found none in data: /);
    assert.match(lines[0], /`realfake data kaggle`/);
    assert.match(lines[0], /data\/real \+ data\/fake/);
    assert.match(lines[0], /--allow-synthetic/);
    assert.ok(!fs.existsSync(path.join(cwd, 'data', 'synth')), `${preset}: no synthetic set generated`);
    assert.ok(!fs.existsSync(path.join(cwd, 'runs')), `${preset}: no run folder`);
  }
});

test('paths in the dataset and run folders resolve from any working directory (the CLI in one, evaluate and predict in another)', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rf-paths-'));
  // `npm start` from the project root, with relative paths, as a new user runs it.
  const run = realfake(
    [
      'run',
      '--limit',
      '10',
      '--epochs',
      '1',
      '--size',
      '64',
      '--data-root',
      'data',
      '--out',
      'outputs/runs',
      '--workers',
      '1',
    ],
    root,
  );
  assert.equal(run.code, 0, run.stderr);
  const [runId] = fs.readdirSync(path.join(root, 'outputs', 'runs'));
  const runDir = path.join(root, 'outputs', 'runs', runId);
  const [cacheName] = fs.readdirSync(path.join(root, 'data', 'cache'));
  const dataDir = path.join(root, 'data', 'cache', cacheName);
  // Stored relative to the file that holds them, never to the working directory the CLI ran in.
  const meta = JSON.parse(fs.readFileSync(path.join(runDir, 'run.json'), 'utf8'));
  assert.equal(meta.dataDir, `../../../data/cache/${cacheName}`);
  assert.match(meta.datasetFingerprint, /^[0-9a-f]{64}$/);
  const info = JSON.parse(fs.readFileSync(path.join(dataDir, 'dataset.json'), 'utf8'));
  assert.deepEqual(info.sources, { real: '../../synth/real', fake: '../../synth/fake' });
  assert.equal(info.fingerprint, meta.datasetFingerprint);
  assert.match(
    fs.readFileSync(path.join(dataDir, 'manifest.csv'), 'utf8').split('\n')[1],
    /^\.\.\/\.\.\/synth\/real\/00000\.png,0,ok,,00000\.png(,|$)/, // then the audit columns (lib/data/image-facts.ts)
  );
  // From notebooks/ (a sibling folder, as Jupyter runs them): the same run evaluates and predicts from its dataset.
  const elsewhere = path.join(root, 'notebooks');
  fs.mkdirSync(elsewhere);
  const evaluate = realfake(['evaluate', '--run', path.relative(elsewhere, runDir), '--engine', 'tfjs'], elsewhere);
  assert.equal(evaluate.code, 0, evaluate.stderr);
  const script = `
    const { heldBackImages } = require(${JSON.stringify(path.join(__dirname, '..', 'lib', 'runs', 'runs.js'))});
    const held = heldBackImages(${JSON.stringify(path.relative(elsewhere, runDir))}, 1);
    process.stdout.write(JSON.stringify(held));`;
  const child = spawnSync(process.execPath, ['-e', script], { cwd: elsewhere, encoding: 'utf8' });
  assert.equal(child.status, 0, child.stderr);
  const held = JSON.parse(child.stdout) as Array<{ file: string; label: number }>;
  assert.equal(held.length, 2);
  for (const h of held) assert.ok(path.isAbsolute(h.file) && fs.existsSync(h.file), `${h.file} exists`);
  const predict = realfake(['predict', '--run', path.relative(elsewhere, runDir), '--json', held[0].file], elsewhere);
  assert.equal(predict.code, 0, predict.stderr);
  assert.equal(JSON.parse(predict.stdout).file, held[0].file);
  // The dataset cache is keyed by what changes its bytes: another resize method is another folder.
  const again = realfake(
    [
      'run',
      '--limit',
      '10',
      '--epochs',
      '1',
      '--size',
      '64',
      '--resize',
      'bilinear',
      '--out',
      'outputs/runs',
      '--workers',
      '1',
    ],
    root,
  );
  assert.equal(again.code, 0, again.stderr);
  assert.equal(fs.readdirSync(path.join(root, 'data', 'cache')).length, 2);
});

test('evaluate refuses a dataset that is not the one the run trained on', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rf-stale-'));
  assert.equal(realfake(['synth', '--out', 'faces', '--count', '8', '--size', '64'], root).code, 0);
  assert.equal(
    realfake(['preprocess', '--real', 'faces/real', '--fake', 'faces/fake', '--out', 'prepared', '--size', '64'], root)
      .code,
    0,
  );
  const train = realfake(
    ['train', '--data', 'prepared', '--preset', 'smoke', '--epochs', '1', '--out', 'runs', '--workers', '1'],
    root,
  );
  assert.equal(train.code, 0, train.stderr);
  const runDir = path.join(root, 'runs', fs.readdirSync(path.join(root, 'runs'))[0]);
  // The same folder preprocessed again from other images: the run's row numbers would now name other images.
  assert.equal(realfake(['synth', '--out', 'faces', '--count', '8', '--size', '64', '--seed', '9'], root).code, 0);
  assert.equal(
    realfake(['preprocess', '--real', 'faces/real', '--fake', 'faces/fake', '--out', 'prepared', '--size', '64'], root)
      .code,
    0,
  );
  const evaluate = realfake(['evaluate', '--run', runDir, '--engine', 'tfjs'], root);
  assert.equal(evaluate.code, 1);
  assert.match(
    evaluate.stderr,
    /prepared: not the dataset run \S+ trained on \(fingerprint [0-9a-f]{12}, the run's [0-9a-f]{12}\)/,
  );
});
