/**
 * `npm run bench:queue`: scoring throughput of `realfake predict` locally and through `predict --queue` with one
 * and two `realfake worker`s on this machine (their own redis-server on a free loopback port), and what a million
 * images would take on N machines at the measured per-worker rate. Each figure is the wall time of the whole
 * predict command (process start, model load for local predict; the workers are started and warmed up before).
 * Images: BENCH_QUEUE_IMAGES (default 300) of ../shared/faces-dev (256 px JPEG), else synthetic 64 px PNGs.
 * Model: the newest trained run under outputs/runs, else an untrained 128 px model of the study's architecture.
 * Writes the bench:queue block of BENCHMARKS.md.
 */
import { spawn, spawnSync, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { initBackend } from '../lib/backend/backend';
import { generateSynthDataset } from '../lib/data/synth';
import { projectRoot } from '../lib/files';
import { latestRun } from '../lib/runs/runs';
import { FACES_DEV, facesDevSkip } from '../test/fixtures/faces';
import { createRandomRun } from '../test/fixtures/runs';
import { startRedis } from '../test/helpers/redis';
import { writeSection } from './sections';

const BIN = path.join(projectRoot(), 'bin', 'realfake.js');
const COUNT = Number(process.env.BENCH_QUEUE_IMAGES ?? 300);

function startWorker(url: string, runDir: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [BIN, 'worker', '--queue', url, '--run', runDir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d) => String(d).includes('taking jobs') && resolve(child));
    child.on('exit', (code) => reject(new Error(`worker exited with ${code}`)));
  });
}

/** SIGTERM, then SIGKILL if the worker has not exited within 20 s; resolves when it has exited. */
function stopWorker(worker: ChildProcess): Promise<void> {
  if (worker.exitCode !== null || worker.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => worker.kill('SIGKILL'), 20_000);
    worker.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    worker.kill('SIGTERM');
  });
}

/** Seconds the predict command took; throws unless it wrote one row per image. */
function timedPredict(runDir: string, input: string, expected: number, extra: string[] = []): number {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, [BIN, 'predict', '--run', runDir, input, '--csv', ...extra], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const rows = result.stdout.trim().split('\n').length - 1;
  if (result.status !== 0 || rows !== expected)
    throw new Error(`predict ${extra.join(' ')}: exit ${result.status}, ${rows} rows: ${result.stderr}`);
  return seconds;
}

/** A folder of COUNT images (links to faces-dev, or synthetic ones); returns it and what they are. */
async function benchImages(tmp: string): Promise<{ dir: string; what: string }> {
  const dir = path.join(tmp, 'images');
  fs.mkdirSync(dir);
  if (!facesDevSkip()) {
    const files = ['real', 'fake'].flatMap((label) =>
      fs
        .readdirSync(path.join(FACES_DEV, label))
        .sort()
        .map((name) => path.join(FACES_DEV, label, name)),
    );
    files
      .slice(0, COUNT)
      .forEach((file, i) => fs.symlinkSync(file, path.join(dir, `${String(i).padStart(5, '0')}.jpg`)));
    return { dir, what: `${Math.min(COUNT, files.length)} faces-dev JPEGs (256 px)` };
  }
  await generateSynthDataset({ out: dir, count: Math.ceil(COUNT / 2), size: 64, seed: 11 });
  return { dir, what: `${2 * Math.ceil(COUNT / 2)} synthetic 64 px PNGs` };
}

async function main(): Promise<void> {
  const backend = await initBackend();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'realfake-bench-queue-'));
  let runDir = latestRun();
  const model = runDir
    ? `trained run ${path.basename(runDir)}`
    : "an untrained 128 px model of the study's architecture";
  runDir ??= await createRandomRun(tmp, 128);
  const { dir, what } = await benchImages(tmp);
  const count = (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) =>
    /\.(jpg|png)$/.test(String(f)),
  ).length;
  const redis = await startRedis();
  const url = redis.url;
  const loadBefore = os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
  const workers: ChildProcess[] = [];
  try {
    timedPredict(runDir, dir, count); // exports the ONNX model once, so no timed run pays for it
    const local = timedPredict(runDir, dir, count);
    workers.push(await startWorker(url, runDir));
    timedPredict(runDir, dir, count, ['--queue', url]); // warm-up: the worker loads the model
    const one = timedPredict(runDir, dir, count, ['--queue', url]);
    workers.push(await startWorker(url, runDir));
    timedPredict(runDir, dir, count, ['--queue', url]);
    const two = timedPredict(runDir, dir, count, ['--queue', url]);
    const loadAfter = os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ');
    const rate = (s: number) => count / s;
    const perWorker = rate(one);
    const million = (machines: number) => {
      const hours = 1e6 / (perWorker * machines) / 3600;
      return hours >= 1 ? `${hours.toFixed(1)} h` : `${(hours * 60).toFixed(0)} min`;
    };
    const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
    const md = `## Batch scoring on a queue (\`npm run bench:queue\`)

Measured ${new Date().toISOString().slice(0, 16)}Z on ${os.cpus().length} x ${cpu}, Node ${process.version}, tfjs backend ${backend.name}; model: ${model}; ${what}, whole-image scoring (no --faces), --csv. Each time is the whole \`realfake predict\` command (process start and, locally, model load); the workers (\`--run\`, one job at a time, 8 images a job, bytes in the jobs) were started and warmed up first, all on this machine with its own redis-server.
Load average before/after: ${loadBefore} / ${loadAfter}${Math.max(...os.loadavg()) > os.cpus().length / 2 ? ' (other work shared the cores)' : ''}.

| how | seconds | images/s |
|---|---|---|
| local \`realfake predict\` | ${local.toFixed(1)} | ${rate(local).toFixed(1)} |
| \`predict --queue\`, 1 worker | ${one.toFixed(1)} | ${perWorker.toFixed(1)} |
| \`predict --queue\`, 2 workers | ${two.toFixed(1)} | ${rate(two).toFixed(1)} |

Two workers on this machine gave ${(rate(two) / perWorker).toFixed(2)} x the rate of one: they share its ${os.cpus().length} cores with each other (one inference already uses every core) and with whatever else runs, whereas on separate machines each worker has its own cores; the paper figures below assume that. On paper, from the measured one-worker rate (${perWorker.toFixed(1)} images/s end to end, one worker per machine like this one, assuming Redis and the client keep up): one million images take ${million(1)} on 1 machine, ${million(10)} on 10, ${million(100)} on 100. With \`--faces\` a photo costs far more (face detection; see the HTTP-server section's in-process rates).
`;
    process.stdout.write(md);
    process.stderr.write(`written to ${writeSection('queue', md)}\n`);
  } finally {
    // Workers first: one whose Redis is gone while it closes waits for it, so the bench would never end.
    await Promise.all(workers.map(stopWorker));
    redis.process.kill('SIGKILL');
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`bench:queue: ${(err as Error).message}\n`);
  process.exit(1);
});
