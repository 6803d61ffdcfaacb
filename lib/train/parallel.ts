/**
 * Data-parallel training over worker threads, for the wasm and cpu backends (each runs on one core per thread).
 *
 * Each step, the batch's rows are cut into contiguous shards, one per worker. Every worker holds a replica of
 * the model and computes the gradient of its shard's mean loss; the main thread combines them weighted by
 * shard size, which is exactly the gradient of the full batch's mean loss, and applies it once with the
 * study's Adam to its own model (the one fit() validates and checkpoints).
 *
 * Nothing large travels by message: the dataset (copied once), the weights and one gradient slot per worker
 * live in SharedArrayBuffers. Per step the main thread writes the current weights (2.6 MB at 128px), each
 * worker copies them into its replica, computes, and writes its gradient into its slot; the messages carry
 * only the row numbers and the loss. SeededDropout draws its masks for the whole global batch and keeps the
 * shard's rows, so the result equals one-thread training up to float summation order (test/parallel.test.ts).
 */
import * as os from 'os';
import * as fs from 'fs';
import * as path from 'path';
import { Worker } from 'worker_threads';
import * as tf from '@tensorflow/tfjs';
import type { BackendName } from '../backend/backend';
import type { Config } from '../config';
import type { TrainRunOptions } from './experiment';
import { projectRoot } from '../files';
import { ensureCompiledLib } from './compiled';
import { familyOf } from '../model/families';
import { updateRunMeta } from '../runs/runs';
import { makeOptimizer, StepResult, TrainStepper } from './train';
import { ImageData } from '../data/pixels';

/** config.workers, with 0 meaning one per core. */
export function resolveWorkerCount(workers: number): number {
  if (workers > 0) return workers;
  return os.availableParallelism();
}

/** Contiguous, near-equal shards of `n` rows over `parts` workers (the first n % parts get one more). */
export function shardSizes(n: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, k) => Math.floor(n / parts) + (k < n % parts ? 1 : 0));
}

/** Where each trainable variable sits in the flat shared weight and gradient buffers. */
export interface VariableSlot {
  shape: number[];
  offset: number;
  size: number;
}

/** Messages between the main thread and parallel-worker.ts. */
export interface WorkerInit {
  type: 'init';
  backend: BackendName;
  modelTopology: object;
  slots: VariableSlot[];
  /** Dataset pixels and labels (shared, read-only for workers). */
  x: Uint8Array;
  y: Uint8Array;
  size: number;
  weights: Float32Array;
  /** This worker's gradient slot. */
  gradient: Float32Array;
  microBatch: number;
}

export interface WorkerStep {
  type: 'step';
  step: number;
  rows: number[];
  rowOffset: number;
  globalBatchSize: number;
}

export type WorkerReply =
  | { type: 'ready' }
  | { type: 'done'; loss: number; correct: number; timings: WorkerTimings }
  | { type: 'error'; message: string };

/** Milliseconds a worker spent per phase of one step. */
export interface WorkerTimings {
  loadWeights: number;
  makeBatch: number;
  gradients: number;
  writeGradient: number;
}

/** Cumulative milliseconds per phase (main thread), for profiling. */
export interface StepperProfile {
  steps: number;
  writeWeights: number;
  /** From posting the shards until the last worker answered. */
  workers: number;
  combine: number;
  apply: number;
  /** Summed over workers. */
  worker: WorkerTimings;
}

export function workerScriptPath(): string {
  return path.join(projectRoot(), 'dist', 'lib', 'train', 'parallel-worker.js');
}

/** Copies `source` into shared memory once (a no-op when it is already shared). */
function shared(source: Uint8Array): Uint8Array {
  if (source.buffer instanceof SharedArrayBuffer) return source;
  const copy = new Uint8Array(new SharedArrayBuffer(source.byteLength));
  copy.set(source);
  return copy;
}

interface Pending {
  resolve: (reply: WorkerReply) => void;
  reject: (err: Error) => void;
}

/** One worker thread with at most one request in flight. */
class WorkerHandle {
  private pending: Pending | null = null;
  private failure: Error | null = null;
  private closing = false;

  constructor(
    readonly index: number,
    readonly worker: Worker,
  ) {
    worker.on('message', (reply: WorkerReply) => {
      const pending = this.pending;
      this.pending = null;
      if (!pending) return;
      if (reply.type === 'error') pending.reject(new Error(`training worker ${index}: ${reply.message}`));
      else pending.resolve(reply);
    });
    worker.on('error', (err) => this.fail(new Error(`training worker ${index} crashed: ${err.message}`)));
    worker.on('exit', (code) => {
      if (!this.closing) this.fail(new Error(`training worker ${index} exited unexpectedly (code ${code})`));
    });
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.pending?.reject(err);
    this.pending = null;
  }

  request(message: WorkerInit | WorkerStep): Promise<WorkerReply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.worker.postMessage(message);
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    this.pending?.reject(new Error(`training worker ${this.index} was shut down`));
    this.pending = null;
    await this.worker.terminate();
  }
}

export interface WorkerStepperOptions {
  model: tf.LayersModel;
  data: ImageData;
  optimizer: tf.Optimizer;
  workers: number;
  /** The workers' backend: the main thread's, which must be wasm or cpu. */
  backend: BackendName;
  /** Rows per forward/backward pass inside a worker (default: defaultMicroBatch, see below). */
  microBatch?: number;
  /** Notes (e.g. that lib/ is being compiled for the workers). */
  log?: (line: string) => void;
}

/**
 * Training memory grows with the rows in one forward/backward pass: on wasm at 128px about 45 MB per row
 * (the first convolution's activations and their gradients take 4 MB per row each, and a wasm heap never
 * shrinks). Workers therefore take their shard a few rows at a time and sum the gradients weighted by rows:
 * the same gradient in less memory. Measured, 6,000 images at 128px, 2 workers, peak RSS of the process:
 * 16 rows per pass 2.6 GB, 8 rows 1.8 GB, 4 rows 1.4 GB; CPU time per image equal within the noise (+-5%).
 * The default keeps 4 rows' worth of 128px pixels per pass, whatever the image size.
 */
export function defaultMicroBatch(imageSize: number): number {
  return Math.max(1, Math.floor((4 * 128 * 128) / (imageSize * imageSize)));
}

/** One worker's part of a step: worker k takes `size` rows starting at `rowOffset` of the batch. */
interface ShardJob {
  k: number;
  size: number;
  rowOffset: number;
}

export class WorkerStepper implements TrainStepper {
  readonly profile: StepperProfile = {
    steps: 0,
    writeWeights: 0,
    workers: 0,
    combine: 0,
    apply: 0,
    worker: { loadWeights: 0, makeBatch: 0, gradients: 0, writeGradient: 0 },
  };
  private readonly variables: tf.Variable[];
  private readonly combined: Float32Array;

  private constructor(
    model: tf.LayersModel,
    private readonly optimizer: tf.Optimizer,
    private readonly handles: WorkerHandle[],
    private readonly slots: VariableSlot[],
    private readonly weights: Float32Array,
    private readonly gradients: Float32Array[],
  ) {
    this.variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
    this.combined = new Float32Array(weights.length);
  }

  /**
   * Starts the workers and hands them the model and the data. `data.x` is rebound to the shared copy so the
   * process keeps one copy of the pixels (295 MB for 6,000 images at 128px), not two.
   */
  static async create(options: WorkerStepperOptions): Promise<WorkerStepper> {
    const { model, data, optimizer, backend, microBatch = defaultMicroBatch(data.size) } = options;
    if (backend !== 'wasm' && backend !== 'cpu')
      throw new Error(`data-parallel training needs the wasm or cpu backend (got ${backend})`);
    if (!(options.workers >= 1)) throw new Error(`workers must be >= 1 (got ${options.workers})`);
    if (!(Number.isInteger(microBatch) && microBatch >= 1))
      throw new Error(`microBatch must be a positive integer (got ${microBatch})`);
    ensureCompiledLib(projectRoot(), options.log);
    const script = workerScriptPath();
    if (!fs.existsSync(script))
      throw new Error(`${script}: worker script missing (build realfake with \`npm run build\`)`);
    if (model.nonTrainableWeights.length > 0)
      throw new Error('data-parallel training does not sync non-trainable weights (the model has some)');

    let offset = 0;
    const slots = model.trainableWeights.map((w): VariableSlot => {
      const shape = w.shape as number[];
      const size = shape.reduce((a, b) => a * b, 1);
      const slot = { shape, offset, size };
      offset += size;
      return slot;
    });
    const weights = new Float32Array(new SharedArrayBuffer(offset * 4));
    const gradients = Array.from(
      { length: options.workers },
      () => new Float32Array(new SharedArrayBuffer(offset * 4)),
    );
    data.x = shared(data.x);
    const y = shared(data.y);
    const modelTopology = model.toJSON(null, false) as object;

    const handles = Array.from({ length: options.workers }, (_, k) => new WorkerHandle(k, new Worker(script)));
    const stepper = new WorkerStepper(model, optimizer, handles, slots, weights, gradients);
    try {
      await Promise.all(
        handles.map((h, k) =>
          h.request({
            type: 'init',
            backend,
            modelTopology,
            slots,
            x: data.x,
            y,
            size: data.size,
            weights,
            gradient: gradients[k],
            microBatch,
          }),
        ),
      );
    } catch (err) {
      await stepper.dispose();
      throw err;
    }
    return stepper;
  }

  get workerCount(): number {
    return this.handles.length;
  }

  async step(indices: number[], stepNumber: number): Promise<StepResult> {
    const t0 = performance.now();
    this.publishWeights();
    const t1 = performance.now();
    const { jobs, replies } = await this.computeShards(indices, stepNumber);
    const t2 = performance.now();
    const result = this.combineShards(jobs, replies, indices.length);
    const t3 = performance.now();
    this.applyCombined();
    const t4 = performance.now();
    Object.assign(this.profile, {
      steps: this.profile.steps + 1,
      writeWeights: this.profile.writeWeights + (t1 - t0),
      workers: this.profile.workers + (t2 - t1),
      combine: this.profile.combine + (t3 - t2),
      apply: this.profile.apply + (t4 - t3),
    });
    return result;
  }

  /** The main model is the source of truth (fit() validates and checkpoints it): publish it every step. */
  private publishWeights(): void {
    this.variables.forEach((v, i) => this.weights.set(v.dataSync() as Float32Array, this.slots[i].offset));
  }

  /** Cuts the batch into contiguous shards, one per worker, and waits until every worker wrote its gradient. */
  private async computeShards(
    indices: number[],
    stepNumber: number,
  ): Promise<{ jobs: ShardJob[]; replies: WorkerReply[] }> {
    const total = indices.length;
    let rowOffset = 0;
    const jobs = shardSizes(total, this.handles.length)
      .map((size, k) => {
        const job = { k, size, rowOffset };
        rowOffset += size;
        return job;
      })
      .filter((job) => job.size > 0);
    const replies = await Promise.all(
      jobs.map(({ k, size, rowOffset: start }) =>
        this.handles[k].request({
          type: 'step',
          step: stepNumber,
          rows: indices.slice(start, start + size),
          rowOffset: start,
          globalBatchSize: total,
        }),
      ),
    );
    return { jobs, replies };
  }

  /** The full batch's mean loss is the shard means weighted by shard size; so is its gradient (into `combined`). */
  private combineShards(jobs: ShardJob[], replies: WorkerReply[], total: number): StepResult {
    let loss = 0;
    let correct = 0;
    this.combined.fill(0);
    jobs.forEach(({ k, size }, j) => {
      const reply = replies[j] as Extract<WorkerReply, { type: 'done' }>;
      const weight = size / total;
      loss += weight * reply.loss;
      correct += reply.correct;
      const gradient = this.gradients[k];
      for (let i = 0; i < gradient.length; i++) this.combined[i] += weight * gradient[i];
      for (const phase of Object.keys(reply.timings) as Array<keyof WorkerTimings>)
        this.profile.worker[phase] += reply.timings[phase];
    });
    return { loss, correct };
  }

  /** One Adam update of the main model with the combined gradient. */
  private applyCombined(): void {
    tf.tidy(() => {
      const named: tf.NamedTensorMap = {};
      this.variables.forEach((v, i) => {
        const { offset, size, shape } = this.slots[i];
        named[v.name] = tf.tensor(this.combined.subarray(offset, offset + size), shape);
      });
      this.optimizer.applyGradients(named);
    });
  }

  setLearningRate(lr: number): void {
    (this.optimizer as unknown as { learningRate: number }).learningRate = lr;
  }

  async dispose(): Promise<void> {
    await Promise.all(this.handles.map((h) => h.close()));
    this.optimizer.dispose();
  }
}

/**
 * Options the worker replicas cannot reproduce (null: none): BatchNorm statistics would update on the replicas
 * only; augmentation, label smoothing and weight decay are applied by the one-thread stepper. Learning-rate
 * schedules do work (the main thread owns the optimizer).
 */
export function parallelUnsupported(config: Config): string | null {
  const found: string[] = [];
  if (!familyOf(config).dataParallel) found.push(`model ${config.model}`);
  if (config.input !== 'unit') found.push(`input ${config.input}`);
  if (config.augment) found.push('augment');
  if (config.labelSmoothing > 0) found.push('labelSmoothing');
  if (config.weightDecay > 0) found.push('weightDecay');
  return found.length ? found.join(', ') : null;
}

/**
 * A makeStepper for trainRun: a WorkerStepper when config.workers resolves to more than one (0 = one per
 * core) and the backend runs one core per thread (wasm, cpu); otherwise undefined, i.e. fit()'s one-thread
 * LocalStepper (tfjs-node and the native backend already use every core). The count actually used goes into run.json.
 */
export function parallelStepperFactory(
  config: Config,
  log: (line: string) => void = () => undefined,
): NonNullable<TrainRunOptions['makeStepper']> {
  return async ({ run, dataset, model, backend }) => {
    const workers = Math.min(resolveWorkerCount(config.workers), config.batchSize);
    const unsupported = parallelUnsupported(config);
    if (unsupported && workers > 1)
      log(`workers: 1 (data-parallel training does not support ${unsupported}; training on one thread)`);
    if (workers <= 1 || unsupported || (backend.name !== 'wasm' && backend.name !== 'cpu')) {
      updateRunMeta(run, { workers: 1 });
      // The native backend already runs every kernel on all cores (oneDNN's threads): one process, no workers.
      if (backend.name === 'native') log('workers: none (the native backend uses every core in one process)');
      return undefined;
    }
    const stepper = await WorkerStepper.create({
      model,
      data: dataset,
      optimizer: makeOptimizer(config),
      workers,
      backend: backend.name,
      log,
    });
    updateRunMeta(run, { workers });
    log(`workers: ${workers} threads (data-parallel, ${backend.name} each)`);
    return stepper;
  };
}
