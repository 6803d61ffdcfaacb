/**
 * `realfake worker`: a BullMQ worker that takes scoring jobs (lib/queue/jobs.ts) from Redis and scores them
 * (lib/queue/score-batch.ts). Each run's predictor is loaded once and kept (a few, least recently used dropped);
 * a worker started with a run scores every job with it. A worker that dies mid-job loses its lock, and another
 * worker's stalled-job check hands the job on (at least once; the client counts each image once).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Worker, type Job } from 'bullmq';
import { configureDecoding } from '../data/images';
import { makeOwnTempDir } from '../files';
import type { Predictor } from '../infer/predict';
import { loadRunPredictor } from '../infer/run-predictor';
import { redisOptions, safeUrl } from './connection';
import { DEFAULT_LOCK, QUEUE_NAME, type ScoreJob, type ScoreJobResult, type ScoreSettings } from './jobs';
import { scoreBatch } from './score-batch';

export interface WorkerOptions {
  url: string;
  /** Score every job with this run (its folder name must match the job's run's). */
  run?: string;
  /** Jobs at once (BullMQ concurrency). */
  concurrency?: number;
  lockMs?: number;
  stalledIntervalMs?: number;
  onNote?: (line: string) => void;
}

/** Predictors kept at once: each holds a model (and maybe ensemble members) in memory. */
const CACHED_PREDICTORS = 4;

export class ScoringWorker {
  readonly name = `${os.hostname()}-${process.pid}`;
  private readonly worker: Worker<ScoreJob, ScoreJobResult>;
  private readonly predictors = new Map<string, Promise<Predictor>>();
  private readonly tmpDir = makeOwnTempDir('realfake-worker-');
  private lastError = '';

  constructor(readonly options: WorkerOptions) {
    const note = options.onNote ?? (() => {});
    const lock = { ...DEFAULT_LOCK, ...definedOnly(options) };
    this.worker = new Worker<ScoreJob, ScoreJobResult>(QUEUE_NAME, (job) => this.process(job), {
      connection: redisOptions(options.url),
      name: this.name,
      concurrency: options.concurrency ?? 1,
      lockDuration: lock.lockMs,
      stalledInterval: lock.stalledIntervalMs,
      // A job taken over from a dead worker may be taken over once more before it is called failed.
      maxStalledCount: 2,
    });
    // Redis going away is reported once, not at every reconnection attempt; BullMQ keeps reconnecting.
    this.worker.on('error', (err) => {
      if (err.message !== this.lastError) note(`queue error: ${err.message}`);
      this.lastError = err.message;
    });
    this.worker.on('ready', () => {
      if (this.lastError) note(`connected to ${safeUrl(options.url)} again`);
      this.lastError = '';
    });
    this.worker.on('failed', (job, err) => note(`job ${job?.id} failed: ${err.message}`));
  }

  /** Resolves once connected to Redis. */
  waitUntilReady(): Promise<unknown> {
    return this.worker.waitUntilReady();
  }

  private async process(job: Job<ScoreJob, ScoreJobResult>): Promise<ScoreJobResult> {
    const { settings, images } = job.data;
    const predictor = await this.predictor(settings);
    configureDecoding({ maxPixels: settings.maxPixels });
    const results = await scoreBatch(predictor, images, { faces: settings.faces, tmpDir: this.tmpDir, tag: job.id! });
    return { worker: this.name, results };
  }

  /** The job's predictor, loaded on first use; a fixed run replaces the job's run when their folder names agree. */
  private predictor(settings: ScoreSettings): Promise<Predictor> {
    let run = settings.run;
    if (this.options.run) {
      if (path.basename(path.resolve(this.options.run)) !== path.basename(run))
        throw new Error(`this worker scores run ${path.basename(this.options.run)} only; the job asks for ${run}`);
      run = this.options.run;
    }
    const { engine, scoring, ttaFlip, ensemble, overrides } = settings;
    const key = JSON.stringify([run, engine, scoring, ttaFlip, ensemble, overrides]);
    let predictor = this.predictors.get(key);
    if (predictor) {
      this.predictors.delete(key); // re-inserted below: the Map's order is the least recently used first
    } else {
      const started = Date.now();
      predictor = loadRunPredictor(run, { engine, scoring, ttaFlip, ensemble, overrides, onNote: this.options.onNote });
      predictor.then(
        () => this.options.onNote?.(`loaded ${run} in ${((Date.now() - started) / 1000).toFixed(1)} s`),
        () => this.predictors.delete(key), // a failed load is retried by the next job
      );
    }
    this.predictors.set(key, predictor);
    if (this.predictors.size > CACHED_PREDICTORS) {
      const [oldest, dropped] = this.predictors.entries().next().value!;
      this.predictors.delete(oldest);
      dropped.then((p: Predictor) => p.dispose()).catch(() => {});
    }
    return predictor;
  }

  /**
   * Stops taking jobs and lets the ones in flight finish; after `graceMs` it lets go of them instead (their lock
   * runs out and another worker takes them over). Then releases the models.
   */
  async close(graceMs = DEFAULT_LOCK.lockMs): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), graceMs)));
    const closed = await Promise.race([this.worker.close().then(() => 'closed' as const), late]);
    clearTimeout(timer);
    if (closed === 'late') await Promise.race([this.worker.close(true), new Promise((r) => setTimeout(r, 1000))]);
    for (const predictor of this.predictors.values()) await predictor.then((p) => p.dispose()).catch(() => {});
    this.predictors.clear();
    fs.rmSync(this.tmpDir, { recursive: true, force: true });
  }
}

function definedOnly(options: WorkerOptions): Partial<typeof DEFAULT_LOCK> {
  const out: Partial<typeof DEFAULT_LOCK> = {};
  if (options.lockMs !== undefined) out.lockMs = options.lockMs;
  if (options.stalledIntervalMs !== undefined) out.stalledIntervalMs = options.stalledIntervalMs;
  return out;
}
