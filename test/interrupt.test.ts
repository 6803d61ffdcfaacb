/**
 * Ctrl-C, delivered as a real SIGINT to a real `realfake` child process: once = finish the epoch, save, say where
 * the best checkpoint is, exit 130; twice = stop now, exit 130. Either way the checkpoint on disk loads and no
 * temporary file is left behind. The same for 1 worker (training on the main thread) and 2 (worker threads).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { initBackend } from '../lib/backend/backend';
import sharp from 'sharp';
import { extractClassImages, extractionIsComplete } from '../lib/data/unzip';
import { loadModel } from '../lib/model/model-io';
import { findImageData } from '../lib/data/sources';
import { writeZip } from './helpers/zip';
import { makeOwnTempDir } from '../lib/files';

const BIN = path.join(__dirname, '..', '..', 'bin', 'realfake.js');
const ENV = { ...process.env, REALFAKE_BACKEND: 'wasm' };

/** Every file under `dir` whose name ends in .tmp. */
function tmpFiles(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith('.tmp'));
}

interface Child {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves when stdout matches `pattern`. */
  waitFor: (pattern: RegExp) => Promise<void>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children: ChildProcess[] = [];
// A failed or timed-out case must not leave a training process behind.
after(() => children.forEach((c) => c.exitCode === null && c.signalCode === null && c.kill('SIGKILL')));

function start(args: string[], cwd: string): Child {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  const waiters: Array<{ pattern: RegExp; resolve: () => void }> = [];
  child.stdout!.on('data', (chunk) => {
    out += chunk;
    for (const w of waiters.splice(0)) {
      if (w.pattern.test(out)) w.resolve();
      else waiters.push(w);
    }
  });
  child.stderr!.on('data', (chunk) => (err += chunk));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const waitFor = (pattern: RegExp) =>
    new Promise<void>((resolve, reject) => {
      if (pattern.test(out)) return resolve();
      waiters.push({ pattern, resolve });
      exit.then(() => setTimeout(() => reject(new Error(`exited before ${pattern}: ${out}\n${err}`)), 50));
    });
  return { child, stdout: () => out, stderr: () => err, waitFor, exit };
}

let prepared: string | null = null;

/** A small preprocessed dataset, made once for all cases. */
function dataset(): string {
  if (prepared) return prepared;
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'rf-sigint-data-'));
  const run = (args: string[]) => {
    const r = spawnSync(process.execPath, [BIN, ...args], { cwd, env: ENV, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  };
  run(['synth', '--out', 'faces', '--count', '24', '--size', '64', '--seed', '2']);
  run(['preprocess', '--real', 'faces/real', '--fake', 'faces/fake', '--out', 'prepared', '--size', '64']);
  return (prepared = path.join(cwd, 'prepared'));
}

function trainArgs(workers: number): string[] {
  return [
    'train',
    '--data',
    dataset(),
    '--preset',
    'smoke',
    '--epochs',
    '200',
    '--batch-size',
    '8',
    '--out',
    'runs',
    '--workers',
    String(workers),
  ];
}

async function checkpointLoads(runDir: string): Promise<void> {
  await initBackend('cpu');
  const model = await loadModel(path.join(runDir, 'model'));
  assert.equal(model.countParams() > 0, true);
  model.dispose();
}

for (const workers of [1, 2]) {
  test(
    `train --workers ${workers}: one Ctrl-C finishes the epoch, saves, names the checkpoint, exits 130`,
    { timeout: 240_000 },
    async () => {
      const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'rf-sigint-'));
      const c = start(trainArgs(workers), cwd);
      await c.waitFor(/epoch +1\/200/);
      c.child.kill('SIGINT');
      const { code, signal } = await c.exit;
      assert.equal(signal, null, c.stderr());
      assert.equal(code, 130, `exit code; stderr: ${c.stderr()}`);
      const epochs = (c.stdout().match(/^epoch +\d+\/200/gm) ?? []).length;
      assert.ok(epochs >= 1 && epochs <= 3, `stopped after the epoch in progress (saw ${epochs} epochs)`);
      const [runId] = fs.readdirSync(path.join(cwd, 'runs'));
      const runDir = path.join(cwd, 'runs', runId);
      assert.match(
        c.stdout() + c.stderr(),
        new RegExp(`best checkpoint: ${path.join('runs', runId, 'model').replace(/[.\\]/g, '\\$&')}`),
      );
      assert.equal(
        JSON.parse(fs.readFileSync(path.join(runDir, 'run.json'), 'utf8')).stopReason?.includes('interrupted'),
        true,
      );
      assert.deepEqual(tmpFiles(cwd), []);
      await checkpointLoads(runDir);
    },
  );

  test(
    `train --workers ${workers}: a second Ctrl-C stops at once with 130 and leaves no .tmp`,
    { timeout: 240_000 },
    async () => {
      const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'rf-sigint2-'));
      const c = start(trainArgs(workers), cwd);
      await c.waitFor(/epoch +1\/200/);
      c.child.kill('SIGINT');
      await new Promise((r) => setTimeout(r, 100));
      c.child.kill('SIGINT');
      const { code, signal } = await c.exit;
      assert.equal(signal, null, c.stderr());
      assert.equal(code, 130, `exit code; stderr: ${c.stderr()}`);
      assert.match(c.stderr(), /interrupted/);
      const [runId] = fs.readdirSync(path.join(cwd, 'runs'));
      assert.deepEqual(tmpFiles(cwd), []);
      await checkpointLoads(path.join(cwd, 'runs', runId));
    },
  );
}

test('stale .tmp files from a killed run are removed on the next start', { timeout: 240_000 }, async () => {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'rf-stale-'));
  const old = path.join(cwd, 'runs', '2020-01-01T00-00-00_smoke', 'model');
  fs.mkdirSync(old, { recursive: true });
  // The name writeFileAtomic gives (target.pid.time.tmp), from a process that no longer exists.
  const stale = path.join(old, 'model.json.999999999.1700000000000.tmp');
  fs.writeFileSync(stale, '{');
  const c = start([...trainArgs(1).map((a) => (a === '200' ? '1' : a))], cwd);
  const { code } = await c.exit;
  assert.equal(code, 0, c.stderr());
  assert.equal(fs.existsSync(stale), false, 'stale temporary file removed');
});

test("a killed worker's private temp folder is removed by the next one; a live process's is kept", async () => {
  const prefix = `rf-own-test-${Date.now()}-`;
  const dead = spawnSync(process.execPath, ['-e', '']).pid;
  const live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
  try {
    const deadDir = path.join(os.tmpdir(), `${prefix}${dead}-abc`);
    const liveDir = path.join(os.tmpdir(), `${prefix}${live.pid}-abc`);
    for (const dir of [deadDir, liveDir]) {
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, 'image.jpg'), 'x');
    }
    const own = makeOwnTempDir(prefix);
    assert.equal(fs.existsSync(deadDir), false, "the dead process's folder is gone");
    assert.equal(fs.existsSync(liveDir), true, "the live process's folder is kept");
    assert.match(path.basename(own), new RegExp(`^${prefix}${process.pid}-`));
    for (const dir of [liveDir, own]) fs.rmSync(dir, { recursive: true });
  } finally {
    live.kill();
  }
});

test('preprocess: Ctrl-C stops with 130 and writes no dataset (nor any .tmp)', { timeout: 240_000 }, async () => {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'rf-sigint-pre-'));
  // Enough decoding to interrupt: 40 noisy 1500 px PNGs; the broken first file announces that work has begun.
  const big = await sharp(Buffer.alloc(1500 * 1500 * 3, 7), { raw: { width: 1500, height: 1500, channels: 3 } })
    .png({ compressionLevel: 1 })
    .toBuffer();
  for (const cls of ['real', 'fake']) {
    fs.mkdirSync(path.join(cwd, cls));
    fs.writeFileSync(path.join(cwd, cls, '0-broken.png'), 'not a png');
    for (let i = 1; i <= 40; i++) fs.writeFileSync(path.join(cwd, cls, `${i}.png`), big);
  }
  const c = start(['preprocess', '--real', 'real', '--fake', 'fake', '--out', 'out', '--concurrency', '1'], cwd);
  await new Promise<void>((resolve) =>
    c.child.stderr!.on('data', () => /skipped .*0-broken/.test(c.stderr()) && resolve()),
  );
  c.child.kill('SIGINT');
  const { code } = await c.exit;
  assert.equal(code, 130, c.stderr());
  assert.match(c.stderr(), /preprocessing interrupted \(Ctrl-C\) after \d+ files; nothing written to out/);
  assert.equal(fs.existsSync(path.join(cwd, 'out', 'dataset.json')), false);
  assert.deepEqual(tmpFiles(cwd), []);
});

test('an interrupted Kaggle extraction is marked incomplete and never used as a dataset', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rf-extract-'));
  const png = await sharp({ create: { width: 16, height: 16, channels: 3, background: 'gray' } })
    .png()
    .toBuffer();
  const zipPath = path.join(root, 'faces.zip');
  fs.writeFileSync(zipPath, writeZip(['a', 'b', 'c'].map((n) => ({ name: `faces/${n}.png`, data: png }))));
  for (const cls of ['real', 'fake']) {
    const destDir = path.join(root, 'data', 'kaggle', cls);
    let calls = 0;
    const partial = await extractClassImages(zipPath, { classFolder: 'faces', destDir, stopped: () => ++calls > 2 });
    assert.deepEqual([partial.complete, partial.extracted, extractionIsComplete(destDir)], [false, 2, false]);
  }
  assert.throws(
    () => findImageData(path.join(root, 'data')),
    /real: extraction did not finish \(interrupted\?\); re-run `realfake data kaggle`/,
  );
  for (const cls of ['real', 'fake']) {
    const done = await extractClassImages(zipPath, {
      classFolder: 'faces',
      destDir: path.join(root, 'data', 'kaggle', cls),
    });
    assert.deepEqual([done.complete, done.extracted, done.skipped], [true, 1, 2]);
  }
  assert.equal(findImageData(path.join(root, 'data'))?.kind, 'kaggle');
});
