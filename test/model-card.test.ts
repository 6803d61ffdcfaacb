/**
 * The model card of a tiny trained synthetic run with four sources: its contents recomputed from the run's files,
 * `predict` saying "Uncertain" for an image inside a forced band (and "Fake" above it), and `serve` giving the
 * card at /api/v1/model and the same verdicts, with bad requests still 4xx.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { initBackend } from '../lib/backend/backend';
import { loadDataset } from '../lib/data/dataset';
import { evaluateRun, scoreRows } from '../lib/eval/evaluate';
import type { ModelCard } from '../lib/eval/model-card';
import { perSourceMetrics } from '../lib/eval/per-source';
import { loadScoringEngine } from '../lib/infer/scoring-engine';
import { pickUncertainBand } from '../lib/infer/uncertain-band';
import type { VerdictPolicy } from '../lib/infer/verdict';
import { createServer } from '../lib/serve/server';
import { openRun } from '../lib/runs/runs';
import { realfake } from './helpers/cli';

let cwd: string;
let runDir: string;
const SOURCES = { real: ['ffhq', 'celeba'], fake: ['stylegan2', 'sd14_portraits'] };

before(async () => {
  await initBackend('wasm');
  cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'rf-card-'));
  assert.equal(realfake(['synth', '--out', 'faces', '--count', '16', '--size', '64', '--seed', '4'], cwd).code, 0);
  // Half of each class into each of its two sources.
  for (const [cls, names] of Object.entries(SOURCES)) {
    const dir = path.join(cwd, 'faces', cls);
    const files = fs.readdirSync(dir).sort();
    files.forEach((f, i) => {
      const to = path.join(dir, names[i % 2]);
      fs.mkdirSync(to, { recursive: true });
      fs.renameSync(path.join(dir, f), path.join(to, f));
    });
  }
  const pre = realfake(
    ['preprocess', '--real', 'faces/real', '--fake', 'faces/fake', '--out', 'prepared', '--size', '64'],
    cwd,
  );
  assert.equal(pre.code, 0, pre.stderr);
  const train = realfake(
    [
      ...['train', '--data', 'prepared', '--preset', 'smoke', '--epochs', '1', '--batch-size', '8'],
      ...['--test-fraction', '0.25', '--out', 'runs', '--workers', '1'],
    ],
    cwd,
  );
  assert.equal(train.code, 0, train.stderr);
  runDir = path.join(cwd, 'runs', fs.readdirSync(path.join(cwd, 'runs'))[0]);
});

after(() => fs.rmSync(cwd, { recursive: true, force: true }));

const readCard = (): ModelCard => JSON.parse(fs.readFileSync(path.join(runDir, 'model-card.json'), 'utf8'));

test('every evaluation writes a model card whose numbers are recomputed from the run', async () => {
  const evaluation = await evaluateRun(runDir, { engine: 'tfjs', resamples: 200 });
  const card = readCard();
  const run = openRun(runDir);
  const dataset = loadDataset(run.meta.dataDir);
  assert.equal(card.run, run.meta.id);
  assert.equal(card.data.datasetFingerprint, run.meta.datasetFingerprint);
  // Sources and counts: each source's three splits add up to its images, and the sources to the splits.
  assert.deepEqual(card.data.sources.map((s) => `${s.label} ${s.source}`).sort(), [
    '0 celeba',
    '0 ffhq',
    '1 sd14_portraits',
    '1 stylegan2',
  ]);
  for (const s of card.data.sources)
    assert.equal(s.train + s.val + s.test, dataset.sources.filter((x) => x === s.source).length, s.source);
  for (const part of ['train', 'val', 'test'] as const)
    assert.equal(
      card.data.sources.reduce((k, s) => k + s[part], 0),
      run.split[part].length,
      part,
    );
  // Test per source: perSourceMetrics of the stored predictions; validation: of the validation split rescored.
  const p = evaluation.predictions;
  const bootstrap = { resamples: 200, seed: run.config.seed };
  const roundTrip = (x: unknown) => JSON.parse(JSON.stringify(x, (_k, v) => (Number.isNaN(v) ? 'NaN' : v)));
  assert.deepEqual(
    card.test.perSource,
    roundTrip(
      perSourceMetrics(
        p.map((r) => r.label),
        p.map((r) => r.pFake),
        p.map((r) => r.source),
        run.config.threshold,
        bootstrap,
      ),
    ),
  );
  const engine = await loadScoringEngine(runDir, { engine: 'tfjs', scoring: 'resize' });
  const valScores = await scoreRows(engine, dataset, run.split.val, 64);
  await engine.dispose();
  const valLabels = run.split.val.map((r) => dataset.y[r]);
  const valSources = run.split.val.map((r) => dataset.sources[r]);
  assert.deepEqual(
    card.validation.perSource,
    roundTrip(perSourceMetrics(valLabels, valScores, valSources, run.config.threshold, bootstrap)),
  );
  assert.equal(card.policy.threshold, run.config.threshold);
  assert.deepEqual(card.policy.band, roundTrip(pickUncertainBand(valLabels, valScores, card.policy.temperature).band));
  // Not validated on: the seen families are left out, the rest are named.
  assert.ok(!card.notValidatedOn.includes('StyleGAN2') && !card.notValidatedOn.includes('Stable Diffusion 1.x'));
  for (const unseen of ['StyleGAN (v1)', 'StyleGAN3', 'Midjourney', 'DALL-E 3', 'face swaps'])
    assert.ok(card.notValidatedOn.includes(unseen), unseen);
  assert.equal(card.test.n, p.length);
  const md = fs.readFileSync(path.join(runDir, 'model-card.md'), 'utf8');
  assert.match(md, /## Not validated on\n\nStyleGAN \(v1\), StyleGAN3, ProGAN/);
  assert.match(md, /\| stylegan2 \| fake \| \d+ \| \d+ \| \d+ \|/);
});

/** Rewrites the card's policy: a band around the raw pFake `p` (or just below it). */
function forceBand(p: number, around: boolean): void {
  const card = readCard();
  const edge = (raw: number) => ({ calibrated: raw, raw, precision: 1, count: 1, correct: 1 });
  const policy: VerdictPolicy = around
    ? { threshold: p, temperature: 1, band: { target: 0.95, real: edge(p - 1e-3), fake: edge(p + 1e-3) } }
    : { threshold: p - 2e-3, temperature: 1, band: { target: 0.95, real: edge(p - 2e-3), fake: edge(p - 1e-3) } };
  fs.writeFileSync(path.join(runDir, 'model-card.json'), JSON.stringify({ ...card, policy }));
}

test('predict says "Uncertain" for an image in the band, and "Fake" above it (text, CSV, JSON)', () => {
  const image = path.join(
    cwd,
    'faces',
    'fake',
    'stylegan2',
    fs.readdirSync(path.join(cwd, 'faces', 'fake', 'stylegan2'))[0],
  );
  forceBand(0.5, false);
  // With temperature 1, pFake is the raw score.
  const raw = JSON.parse(realfake(['predict', '--run', runDir, '--json', image], cwd).stdout).pFake;
  forceBand(raw, true);
  const text = realfake(['predict', '--run', runDir, image], cwd);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /\tUncertain\t/);
  assert.match(realfake(['predict', '--run', runDir, '--csv', image], cwd).stdout, /,Uncertain,/);
  assert.equal(JSON.parse(realfake(['predict', '--run', runDir, '--json', image], cwd).stdout).verdict, 'Uncertain');
  forceBand(raw, false);
  assert.match(realfake(['predict', '--run', runDir, image], cwd).stdout, /\tFake \(AI-generated\)\t/);
});

test('serve: /api/v1/model returns the card and policy; the API says "Uncertain" in the band; 4xx stays 4xx', async () => {
  const image = path.join(cwd, 'faces', 'real', 'ffhq', fs.readdirSync(path.join(cwd, 'faces', 'real', 'ffhq'))[0]);
  forceBand(0.5, false);
  const raw = JSON.parse(realfake(['predict', '--run', runDir, '--json', image], cwd).stdout).pFake;
  forceBand(raw, true);
  const server = await createServer({ runDir, engine: 'tfjs' });
  try {
    const base = await server.app.listen({ host: '127.0.0.1', port: 0 });
    const model = await (await fetch(`${base}/api/v1/model`)).json();
    assert.equal(model.card.run, path.basename(runDir));
    assert.deepEqual(model.policy, readCard().policy);
    assert.ok(model.card.notValidatedOn.includes('Midjourney'));
    const body = new FormData();
    body.append('image', new Blob([fs.readFileSync(image)]), 'face.png');
    const answer = await fetch(`${base}/api/v1/predict?faces=whole`, { method: 'POST', body });
    assert.equal(answer.status, 200);
    const result = await answer.json();
    assert.equal(result.faces[0].verdict, 'Uncertain');
    assert.ok(Math.abs(result.faces[0].pFake - raw) < 1e-4, 'the same score as predict');
    const bad = await fetch(`${base}/api/v1/predict?faces=sideways`, { method: 'POST', body: 'x' });
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).error.code, 'bad_faces');
    const html = await (await fetch(`${base}/`)).text();
    assert.match(html, /verdict\.js/);
    assert.equal((await fetch(`${base}/verdict.js`)).status, 200);
  } finally {
    await server.close();
  }
});

test('serve takes the threshold override predict takes: the policy and the verdicts follow it, the band stays', async () => {
  const image = path.join(cwd, 'faces', 'real', 'ffhq', fs.readdirSync(path.join(cwd, 'faces', 'real', 'ffhq'))[0]);
  forceBand(0.5, false);
  const raw = JSON.parse(realfake(['predict', '--run', runDir, '--json', image], cwd).stdout).pFake;
  forceBand(raw, false); // a band just below raw: with the card's threshold the image is "Fake"
  const low = Math.max(0, raw - 0.0001);
  const high = Math.min(1, raw + 0.0001);
  const viaPredict = (threshold: number) =>
    JSON.parse(realfake(['predict', '--run', runDir, '--json', '--threshold', String(threshold), image], cwd).stdout);
  for (const threshold of [low, high]) {
    const server = await createServer({ runDir, engine: 'tfjs', policy: { threshold } });
    try {
      const base = await server.app.listen({ host: '127.0.0.1', port: 0 });
      const model = await (await fetch(`${base}/api/v1/model`)).json();
      assert.equal(model.policy.threshold, threshold);
      assert.deepEqual(model.policy.band, readCard().policy.band);
      const body = new FormData();
      body.append('image', new Blob([fs.readFileSync(image)]), 'face.png');
      const result = await (await fetch(`${base}/api/v1/predict?faces=whole`, { method: 'POST', body })).json();
      assert.equal(result.faces[0].verdict, viaPredict(threshold).verdict, `threshold ${threshold}`);
    } finally {
      await server.close();
    }
  }
  assert.notEqual(viaPredict(low).verdict, viaPredict(high).verdict, 'the two thresholds decide differently');
});
