/**
 * `predict --queue`: the files are spread over the workers as BullMQ jobs of a few images each (lib/queue/jobs.ts),
 * and each image's result is handed back in the files' order, once, whatever order the jobs finish in and however
 * often one is scored (a job taken over from a killed worker). A window bounds the jobs and image bytes waiting in
 * Redis. Redis unreachable for `timeoutMs` ends it with that reason (lib/queue/connection.ts RedisWatch), never
 * a hang; a job a worker could not score (after its retries) ends it with the worker's reason.
 */
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { Job, Queue, QueueEvents } from 'bullmq';
import IORedis from 'ioredis';
import { accessReason } from '../file-access';
import { InterruptedError, onInterrupt } from '../interrupt';
import { RedisWatch, safeUrl } from './connection';
import {
  batchOf,
  DEFAULT_JOB_IMAGES,
  DEFAULT_MAX_JOB_IMAGE_MB,
  jobId,
  QUEUE_NAME,
  type ImageResult,
  type JobImage,
  type ScoreJob,
  type ScoreJobResult,
  type ScoreSettings,
  type SendMode,
} from './jobs';

export interface QueueScoreOptions {
  url: string;
  settings: ScoreSettings;
  send?: SendMode;
  /** Images per job. */
  jobImages?: number;
  /** 'bytes': larger files are not sent (a result row says why). */
  maxImageBytes?: number;
  /** Give up after Redis has been unreachable this long. */
  timeoutMs?: number;
  /** Jobs, and image bytes, waiting in Redis at once. */
  maxJobsInFlight?: number;
  maxBytesInFlight?: number;
  onNote?: (line: string) => void;
  onProgress?: (done: number, total: number) => void;
}

interface Pending {
  id: string;
  data: ScoreJob;
  bytes: number;
  addedAt: number;
  /** Sweeps that found no such job in Redis (see sweep()). */
  missing: number;
}

const JOB_OPTIONS = {
  attempts: 3,
  backoff: { type: 'fixed', delay: 1000 },
  removeOnComplete: true,
  removeOnFail: { age: 24 * 3600 },
};
const SWEEP_MS = 5000;

/** Scores `files` on the queue's workers; `onResult` hears each file's result, in order. */
export async function scoreOnQueue(
  files: string[],
  options: QueueScoreOptions,
  onResult: (file: string, result: ImageResult) => void,
): Promise<void> {
  const session = new QueueSession(files, options, onResult);
  try {
    await session.run();
  } catch (err) {
    throw session.explain(err);
  } finally {
    await session.close();
  }
}

class QueueSession {
  private readonly id = randomBytes(6).toString('hex');
  private readonly watch: RedisWatch;
  private readonly commands: IORedis;
  private readonly queue: Queue<ScoreJob, ScoreJobResult>;
  private readonly events: QueueEvents;
  private readonly results: Array<ImageResult | undefined>;
  private readonly pending = new Map<number, Pending>();
  private bytesInFlight = 0;
  private next = 0;
  private failure: Error | null = null;
  private wake: () => void = () => {};
  private readonly timers: NodeJS.Timeout[] = [];
  private unregister: () => void = () => {};
  private noWorkerNoted = false;

  constructor(
    private readonly files: string[],
    private readonly options: QueueScoreOptions,
    private readonly onResult: (file: string, result: ImageResult) => void,
  ) {
    this.results = new Array(files.length);
    this.watch = new RedisWatch(options.url, options.timeoutMs ?? 10_000);
    this.commands = new IORedis(this.watch.options({ maxRetriesPerRequest: 1, lazyConnect: false }));
    this.commands.on('error', (err) => this.watch.down(err.message));
    this.commands.on('ready', () => this.watch.up());
    this.queue = new Queue(QUEUE_NAME, { connection: this.commands });
    this.queue.on('error', (err) => this.watch.down(err.message));
    this.events = new QueueEvents(QUEUE_NAME, { connection: this.watch.options() });
    this.events.on('error', (err) => this.watch.down(err.message));
    this.events.on('completed', ({ jobId: id, returnvalue }) => this.completed(id, returnvalue));
    this.events.on('failed', ({ jobId: id, failedReason }) => this.failed(id, failedReason));
  }

  async run(): Promise<void> {
    this.unregister = onInterrupt(() => this.stop(new InterruptedError(`stopped: ${this.progressText()}`)));
    this.timers.push(
      setInterval(() => this.ping(), 1000),
      setInterval(() => this.sweep(), SWEEP_MS),
    );
    await this.guard(Promise.all([this.events.waitUntilReady(), this.queue.waitUntilReady()]));
    const perJob = this.options.jobImages ?? DEFAULT_JOB_IMAGES;
    let batch: JobImage[] = [];
    let batches = 0;
    for (let index = 0; index < this.files.length; index++) {
      const image = await this.jobImage(index);
      if (image) batch.push(image);
      if (batch.length === perJob || (index === this.files.length - 1 && batch.length > 0)) {
        await this.add(batches++, batch);
        batch = [];
      }
    }
    while (this.next < this.files.length) await this.waitForChange();
  }

  /** The image as a job carries it, or null when its result is already known (unreadable, too large to send). */
  private async jobImage(index: number): Promise<JobImage | null> {
    const file = this.files[index];
    const ext = path.extname(file);
    if (this.options.send === 'paths') return { index, ext, path: path.resolve(file) };
    const limit = this.options.maxImageBytes ?? DEFAULT_MAX_JOB_IMAGE_MB * 1024 * 1024;
    try {
      const size = (await fs.promises.stat(file)).size;
      if (size > limit)
        return this.settle({
          index,
          reason: `${(size / 1024 / 1024).toFixed(1)} MB, more than a job carries (--queue-max-mb ${(limit / 1024 / 1024).toFixed(0)}; or --queue-send paths on shared storage)`,
        });
      return { index, ext, bytes: (await fs.promises.readFile(file)).toString('base64') };
    } catch (err) {
      return this.settle({ index, reason: accessReason(err) });
    }
  }

  private settle(result: ImageResult): null {
    this.results[result.index] ??= result;
    this.flush();
    return null;
  }

  /** Adds one job once the window has room for it. */
  private async add(batch: number, images: JobImage[]): Promise<void> {
    const bytes = images.reduce((sum, image) => sum + (image.bytes?.length ?? 0), 0);
    const maxJobs = this.options.maxJobsInFlight ?? 64;
    const maxBytes = this.options.maxBytesInFlight ?? 256 * 1024 * 1024;
    while (this.pending.size >= maxJobs || (this.pending.size > 0 && this.bytesInFlight + bytes > maxBytes))
      await this.waitForChange();
    const entry: Pending = {
      id: jobId(this.id, batch),
      data: { settings: this.options.settings, images },
      bytes,
      addedAt: Date.now(),
      missing: 0,
    };
    this.pending.set(batch, entry);
    this.bytesInFlight += bytes;
    // Adding is idempotent (the job id is fixed), so a failed add is tried again until the watch gives up.
    for (;;) {
      try {
        await this.guard(this.queue.add('score', entry.data, { ...JOB_OPTIONS, jobId: entry.id }));
        return;
      } catch (err) {
        this.check();
        this.watch.down((err as Error).message);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }

  private completed(id: string, returnvalue: unknown): void {
    const entry = this.pending.get(batchOf(this.id, id));
    if (!entry) return; // another session's job, or one already counted
    const value = (typeof returnvalue === 'string' ? JSON.parse(returnvalue) : returnvalue) as ScoreJobResult;
    this.pending.delete(batchOf(this.id, id));
    this.bytesInFlight -= entry.bytes;
    for (const result of value.results) this.results[result.index] ??= result;
    this.flush();
  }

  private failed(id: string, reason: string): void {
    if (this.pending.has(batchOf(this.id, id))) this.stop(new Error(`a worker could not score job ${id}: ${reason}`));
  }

  /** Hands on every result whose predecessors are all handed on. */
  private flush(): void {
    while (this.next < this.files.length && this.results[this.next]) {
      this.onResult(this.files[this.next], this.results[this.next]!);
      this.results[this.next] = { index: this.next }; // handed on: a later duplicate finds it taken
      this.next++;
    }
    this.options.onProgress?.(this.next, this.files.length);
    this.wake();
  }

  private stop(err: Error): void {
    this.failure ??= err;
    this.wake();
  }

  private waitForChange(): Promise<void> {
    this.check();
    return new Promise<void>((resolve) => (this.wake = resolve)).then(() => this.check());
  }

  private check(): void {
    if (this.watch.lost) this.failure ??= this.lostError();
    if (this.failure) throw this.failure;
  }

  private lostError(): Error {
    return new Error(`${this.watch.lost}; ${this.progressText()}`);
  }

  /** Any other error, said as a Redis problem with the progress so far (a one-line reason for the CLI). */
  explain(err: unknown): Error {
    if (this.failure) return this.failure;
    if (this.watch.lost) return this.lostError();
    return new Error(`Redis at ${safeUrl(this.options.url)}: ${(err as Error).message}; ${this.progressText()}`);
  }

  /** `promise`, unless the session fails first (Redis gone, a job failed, Ctrl-C). */
  private guard<T>(promise: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setInterval(() => {
        try {
          this.check();
        } catch (err) {
          clearInterval(timer);
          reject(err);
        }
      }, 100);
      promise.then(
        (value) => (clearInterval(timer), resolve(value)),
        (err) => {
          clearInterval(timer);
          this.watch.down((err as Error).message);
          reject(this.failure ?? (this.watch.lost ? this.lostError() : err));
        },
      );
    });
  }

  private progressText(): string {
    return `${this.next} of ${this.files.length} images written`;
  }

  private ping(): void {
    const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('ping timed out')), 2000).unref());
    Promise.race([this.commands.ping(), timeout]).then(
      () => this.watch.up(),
      (err: Error) => this.watch.down(err.message),
    );
    this.wake(); // lets a waiting loop see a lost Redis
  }

  /**
   * Every few seconds, jobs waiting long are looked up: a finished one whose event was missed is settled, and one
   * Redis no longer has (lost with a restarted Redis) is added again. Also says when no worker is listening.
   */
  private async sweep(): Promise<void> {
    try {
      if (!this.noWorkerNoted && this.next === 0 && (await this.queue.getWorkersCount()) === 0) {
        this.noWorkerNoted = true;
        this.options.onNote?.(
          `no worker is connected to ${safeUrl(this.options.url)} yet; start one with: realfake worker --queue ${safeUrl(this.options.url)}`,
        );
      }
      for (const entry of [...this.pending.values()]) {
        if (Date.now() - entry.addedAt < SWEEP_MS) continue;
        const state = await this.queue.getJobState(entry.id);
        if (state === 'completed' || state === 'failed') {
          const job = await Job.fromId<ScoreJob, ScoreJobResult>(this.queue, entry.id);
          if (job && state === 'completed') this.completed(entry.id, job.returnvalue);
          else if (job) this.failed(entry.id, job.failedReason);
        } else if (state === 'unknown' && ++entry.missing >= 2) {
          entry.missing = 0;
          await this.queue.add('score', entry.data, { ...JOB_OPTIONS, jobId: entry.id });
        }
      }
    } catch {
      // Redis trouble: the ping and the watch report it.
    }
  }

  /** Removes this session's jobs still waiting (an early end), then closes every connection, waiting briefly. */
  async close(): Promise<void> {
    this.unregister();
    for (const timer of this.timers) clearInterval(timer);
    const briefly = <T>(promise: Promise<T>) =>
      Promise.race([promise.catch(() => {}), new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
    if (this.pending.size && !this.watch.lost)
      await briefly(Promise.all([...this.pending.values()].map((entry) => this.queue.remove(entry.id))));
    this.watch.stop();
    await briefly(Promise.all([this.events.close(), this.queue.close()]));
    this.events.disconnect().catch(() => {});
    this.commands.disconnect();
  }
}
