/**
 * `realfake worker` and `predict --queue` on their own redis-server (a free loopback port, nothing saved): the rows
 * equal local predict's (same order, pFake within 1e-5, the bad files' "skipped" lines too) with --json, --csv and
 * --faces; with two workers, one killed with SIGKILL mid-run, every row is still written once (its jobs are taken
 * over: BullMQ reports them stalled); a Redis that goes away ends predict within seconds with a one-line reason;
 * SIGTERM stops a worker with exit code 0.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { QueueEvents } from 'bullmq';
import { initBackend } from '../lib/backend/backend';
import { generateSynthDataset } from '../lib/data/synth';
import { batchOf, jobId, QUEUE_NAME } from '../lib/queue/jobs';
import { redisOptions, safeUrl } from '../lib/queue/connection';
import { BIN, realfake } from './helpers/cli';
import { toolSkip } from './helpers/tools';
import { startRedis, type OwnRedis } from './helpers/redis';
import { facesDevFile, facesDevSkip } from './fixtures/faces';
import { createRandomRun } from './fixtures/runs';

const redisMissing = spawnSync('redis-server', ['--version']).status === 0 ? false : 'redis-server not installed';
const skip = toolSkip(redisMissing);
const ENV = { ...process.env, REALFAKE_BACKEND: 'wasm' };
const QUICK_TAKEOVER = ['--lock-ms', '2000', '--stalled-interval-ms', '1000'];

let tmp: string;
let run: string;
let images: string;
let redis: OwnRedis;

/**
 * A `realfake worker` process, resolved once it says it is taking jobs; `stderr` collects its notes. QUICK_TAKEOVER
 * makes a dead worker's jobs go to another within seconds (the default lock allows for slow --faces jobs).
 */
async function startWorker(url: string, extra: string[] = []): Promise<{ child: ChildProcess; stderr: () => string }> {
  const child = spawn(process.execPath, [BIN, 'worker', '--queue', url, ...extra], {
    env: ENV,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('taking jobs from')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`worker exited with ${code}: ${err}`)));
  });
  return { child, stderr: () => err };
}

/** predict as a child process; `onStdout` sees the output so far. */
function predict(
  args: string[],
  onStdout?: (out: string) => void,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, 'predict', '--run', run, ...args], { env: ENV, cwd: tmp });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
    onStdout?.(stdout);
  });
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) =>
    child.exitCode !== null ? resolve(child.exitCode) : child.on('exit', resolve),
  );

/** Local predict's and the queue's JSON rows agree: same files and verdicts in the same order, pFake within 1e-5. */
function assertSameRows(local: string, queued: string): void {
  const a = local
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
  const b = queued
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
  assert.equal(b.length, a.length, 'row count');
  a.forEach((row, i) => {
    assert.equal(b[i].file, row.file, `row ${i}`);
    assert.equal(b[i].verdict, row.verdict, `row ${i} verdict`);
    assert.ok(Math.abs(b[i].pFake - row.pFake) <= 1e-5, `row ${i}: pFake ${b[i].pFake} vs ${row.pFake}`);
  });
}

before(async () => {
  if (skip) return;
  await initBackend('wasm');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'realfake-queue-'));
  run = await createRandomRun(path.join(tmp, 'runs'));
  images = path.join(tmp, 'images');
  await generateSynthDataset({ out: images, count: 60, size: 64, seed: 7 });
  fs.writeFileSync(path.join(images, 'real', 'broken.png'), 'not a png');
  fs.writeFileSync(path.join(images, 'fake', 'empty.jpg'), '');
  redis = await startRedis();
});

after(() => {
  redis?.process.kill('SIGKILL');
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

test('redis:// URLs become connection options; job ids map back to their batch', () => {
  assert.deepEqual(redisOptions('redis://127.0.0.1:6390'), { host: '127.0.0.1', port: 6390 });
  assert.deepEqual(redisOptions('rediss://u:p%40ss@cache.example:6380/2'), {
    host: 'cache.example',
    port: 6380,
    username: 'u',
    password: 'p@ss',
    db: 2,
    tls: {},
  });
  assert.throws(() => redisOptions('http://x:1'), /expected redis:\/\/HOST:PORT/);
  assert.throws(() => redisOptions('redis://x:1/queue'), /database number/);
  assert.equal(safeUrl('redis://u:secret@h:1'), 'redis://u:***@h:1');
  assert.equal(batchOf('abc', jobId('abc', 12)), 12);
  assert.equal(batchOf('abc', jobId('abd', 12)), -1);
});

test(
  'two workers, one killed with SIGKILL mid-run: every row written once, equal to local predict',
  { skip, timeout: 240_000 },
  async () => {
    const local = realfake(['predict', '--run', run, images, '--json'], tmp);
    assert.equal(local.code, 0, local.stderr);
    const stalled: string[] = [];
    const events = new QueueEvents(QUEUE_NAME, { connection: redisOptions(redis.url) });
    events.on('stalled', ({ jobId: id }) => stalled.push(id));
    await events.waitUntilReady();
    const [a, b] = await Promise.all([
      startWorker(redis.url, ['--concurrency', '2', ...QUICK_TAKEOVER]),
      startWorker(redis.url, QUICK_TAKEOVER),
    ]);
    try {
      const total = local.stdout.trim().split('\n').length;
      let killedAt = -1;
      const queued = await predict([images, '--json', '--queue', redis.url, '--queue-batch', '3'], (out) => {
        const rows = out.split('\n').length - 1;
        if (killedAt < 0 && rows >= total / 5) {
          killedAt = rows;
          a.child.kill('SIGKILL');
        }
      });
      assert.equal(queued.code, 0, queued.stderr);
      assert.ok(killedAt > 0 && killedAt < total, `killed after ${killedAt} of ${total} rows`);
      assertSameRows(local.stdout, queued.stdout);
      // The bad files: the same "skipped" lines and summary as locally.
      const skippedLines = (text: string) => text.split('\n').filter((line) => /^skipped |predicted, /.test(line));
      assert.deepEqual(skippedLines(queued.stderr), skippedLines(local.stderr));
      assert.equal(skippedLines(local.stderr).length, 3);
      assert.ok(stalled.length >= 1, 'the killed worker left jobs that another took over');
      // SIGTERM: the other worker finishes and exits 0.
      b.child.kill('SIGTERM');
      assert.equal(await exited(b.child), 0, b.stderr());
    } finally {
      a.child.kill('SIGKILL');
      b.child.kill('SIGKILL');
      await events.close();
    }
  },
);

test(
  '--faces --csv through the queue (paths on shared storage) equals local predict',
  { skip: skip || toolSkip(facesDevSkip()), timeout: 240_000 },
  async () => {
    const faces = path.join(tmp, 'faces');
    fs.mkdirSync(faces, { recursive: true });
    for (const [i, file] of [facesDevFile('real', 0), facesDevFile('fake', 0), facesDevFile('fake', 1)].entries())
      fs.copyFileSync(file, path.join(faces, `${i}${path.extname(file)}`));
    fs.copyFileSync(path.join(images, 'real', 'broken.png'), path.join(faces, '3-broken.png'));
    const worker = await startWorker(redis.url);
    try {
      // Each photo's faces are scored in one engine call here and there: the CSV (pFake to 6 decimals) is equal text.
      const local = realfake(['predict', '--run', run, faces, '--faces', '--csv'], tmp);
      assert.equal(local.code, 0, local.stderr);
      assert.match(local.stdout, /,1,-?\d+,-?\d+,\d+,\d+,/, 'faces found');
      const queued = await predict([faces, '--faces', '--csv', '--queue', redis.url, '--queue-send', 'paths']);
      assert.equal(queued.code, 0, queued.stderr);
      assert.equal(queued.stdout, local.stdout);
      assert.match(queued.stderr, /skipped .*3-broken\.png: /);
    } finally {
      worker.child.kill('SIGTERM');
      await exited(worker.child);
    }
  },
);

test(
  'a Redis that goes away ends predict --queue with a one-line reason within seconds',
  { skip, timeout: 60_000 },
  async () => {
    const doomed = await startRedis();
    const started = Date.now();
    // No worker: predict waits on its jobs until Redis dies under it.
    const pending = predict([images, '--queue', doomed.url, '--queue-timeout', '2'], undefined);
    const port = new URL(doomed.url).port;
    for (let i = 0; i < 300; i++) {
      const keys = spawnSync('redis-cli', ['-p', port, '--scan', '--pattern', `bull:${QUEUE_NAME}:*`], {
        encoding: 'utf8',
      });
      if (keys.stdout.trim()) break; // its jobs are in
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    doomed.process.kill('SIGKILL');
    const killedAt = Date.now();
    const result = await pending;
    const seconds = (Date.now() - killedAt) / 1000;
    assert.equal(result.code, 1, result.stderr);
    assert.match(
      result.stderr,
      /^realfake: no answer from Redis at redis:\/\/127\.0\.0\.1:\d+ for \d+ s \(.+\); 0 of \d+ images written\n$/m,
    );
    assert.ok(
      seconds < 20,
      `ended ${seconds.toFixed(1)} s after Redis died (${((Date.now() - started) / 1000).toFixed(1)} s in all)`,
    );
  },
);
