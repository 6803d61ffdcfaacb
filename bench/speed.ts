/**
 * Speed benchmarks: training images/s with 1..n workers, inference images/s and one-image latency
 * per engine, and peak memory of training on 6,000 images. Each function returns a plain object; the
 * BENCHMARKS.md writer (bench/bench.ts) formats them. Inputs are random pixels and a randomly initialised
 * study model: speed does not depend on what the images show. Run alone: `node dist/bench/speed.js`.
 */
import { spawnSync } from 'child_process';
import * as os from 'os';
import * as tf from '@tensorflow/tfjs';
import { BackendName, initBackend } from '../lib/backend/backend';
import { kernelProfile, setKernelProfiling } from '../lib/backend/native-backend';
import { buildModel } from '../lib/model/model';
import { OnnxEngine } from '../lib/infer/onnx-engine';
import { modelToOnnx } from '../lib/infer/onnx-export';
import { StepperProfile, WorkerStepper } from '../lib/train/parallel';
import { InferenceEngine, TfjsEngine } from '../lib/infer/engine';
import { peakRssBytes } from '../test/helpers/peak-rss';
import { fit, LocalStepper, makeOptimizer, TrainStepper } from '../lib/train/train';
import { ImageData } from '../lib/data/pixels';

const STUDY = { dropout: 0.5, seed: 1, learningRate: 1e-5, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };

/** Random uint8 images with alternating labels (filled in chunks: crypto-free and fast). */
function randomImages(n: number, size: number): ImageData {
  const x = new Uint8Array(n * size * size * 3);
  let state = 2463534242;
  for (let i = 0; i < x.length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    x[i] = state & 255;
  }
  return { x, y: Uint8Array.from({ length: n }, (_, i) => i % 2), size };
}

/** The machine's state when a number was taken (other processes skew results on 2 cores). */
export function machineState(): { cores: number; loadAverage1m: number; node: string } {
  return { cores: os.availableParallelism(), loadAverage1m: Number(os.loadavg()[0].toFixed(2)), node: process.version };
}

async function makeStepper(
  model: tf.LayersModel,
  data: ImageData,
  workers: number,
  backend: string,
): Promise<TrainStepper> {
  if (workers === 1 || backend === 'native') return new LocalStepper(model, data, makeOptimizer(STUDY));
  if (backend !== 'wasm' && backend !== 'cpu')
    throw new Error(`worker benchmarks need the wasm or cpu backend (got ${backend})`);
  return WorkerStepper.create({ model, data, optimizer: makeOptimizer(STUDY), workers, backend });
}

export interface TrainingSpeed {
  imageSize: number;
  workers: number;
  batchSize: number;
  backend: string;
  steps: number;
  imagesPerSecond: number;
  secondsPerStep: number;
  /**
   * CPU seconds (all threads of the process) per image. Unlike wall time it hardly depends on other load:
   * equal values for 1 and n workers mean the workers add no work, only the serial phases limit scaling.
   */
  cpuSecondsPerImage: number;
  /** Milliseconds per step and phase (workers > 1): main-thread phases and the mean worker's phases. */
  phasesMs?: Record<string, number>;
  load: ReturnType<typeof machineState>;
}

/** Training throughput: `warmup` untimed steps, then `steps` timed ones, study batch 32. */
export async function measureTrainingSpeed(options: {
  imageSize: number;
  workers: number;
  steps?: number;
  warmup?: number;
  batchSize?: number;
  backend?: BackendName;
}): Promise<TrainingSpeed> {
  const { imageSize, workers, steps = 3, warmup = 1, batchSize = 32 } = options;
  const backend = (await initBackend(options.backend)).name;
  const data = randomImages(batchSize * (steps + warmup), imageSize);
  const model = buildModel({ imageSize, ...STUDY });
  const stepper = await makeStepper(model, data, workers, backend);
  const rows = (s: number) => Array.from({ length: batchSize }, (_, i) => s * batchSize + i);
  try {
    for (let s = 0; s < warmup; s++) await stepper.step(rows(s), s);
    const before = stepper instanceof WorkerStepper ? structuredClone(stepper.profile) : null;
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    for (let s = warmup; s < warmup + steps; s++) await stepper.step(rows(s), s);
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const result: TrainingSpeed = {
      imageSize,
      workers,
      batchSize,
      backend,
      steps,
      imagesPerSecond: (steps * batchSize) / seconds,
      secondsPerStep: seconds / steps,
      cpuSecondsPerImage: (cpu.user + cpu.system) / 1e6 / (steps * batchSize),
      load: machineState(),
    };
    if (stepper instanceof WorkerStepper && before) result.phasesMs = phaseDelta(before, stepper.profile, workers);
    return result;
  } finally {
    await stepper.dispose?.();
    model.dispose();
  }
}

function phaseDelta(before: StepperProfile, after: StepperProfile, workers: number): Record<string, number> {
  const steps = after.steps - before.steps;
  const per = (a: number, b: number, share = 1) => Number(((a - b) / steps / share).toFixed(1));
  return {
    writeWeights: per(after.writeWeights, before.writeWeights),
    waitForWorkers: per(after.workers, before.workers),
    combineGradients: per(after.combine, before.combine),
    applyAdam: per(after.apply, before.apply),
    workerLoadWeights: per(after.worker.loadWeights, before.worker.loadWeights, workers),
    workerMakeBatch: per(after.worker.makeBatch, before.worker.makeBatch, workers),
    workerForwardBackward: per(after.worker.gradients, before.worker.gradients, workers),
    workerWriteGradient: per(after.worker.writeGradient, before.worker.writeGradient, workers),
  };
}

export interface InferenceSpeed {
  engine: string;
  imageSize: number;
  batchSize: number;
  /** Throughput at batchSize, preprocessed float input (no decoding). */
  imagesPerSecond: number;
  /** Median latency of one image through the engine. */
  oneImageMs: number;
  load: ReturnType<typeof machineState>;
}

/** Inference speed of the study model on one engine ('tfjs' = the active tfjs backend, 'onnx' = onnxruntime-node). */
export async function measureInferenceSpeed(options: {
  engine: 'tfjs' | 'onnx';
  imageSize?: number;
  batchSize?: number;
  batches?: number;
  singles?: number;
  backend?: BackendName;
}): Promise<InferenceSpeed> {
  const { engine: which, imageSize = 128, batchSize = 32, batches = 4, singles = 20 } = options;
  const backend = (await initBackend(options.backend)).name;
  const model = buildModel({ imageSize, ...STUDY });
  const engine: InferenceEngine =
    which === 'onnx' ? await OnnxEngine.create(modelToOnnx(model)) : new TfjsEngine(model);
  const pixels = imageSize * imageSize * 3;
  const batch = Float32Array.from(randomImages(batchSize, imageSize).x, (v) => v / 255);
  const one = batch.subarray(0, pixels);
  try {
    await engine.scores(batch, batchSize, imageSize);
    await engine.scores(one, 1, imageSize);
    const started = performance.now();
    for (let b = 0; b < batches; b++) await engine.scores(batch, batchSize, imageSize);
    const imagesPerSecond = (batches * batchSize) / ((performance.now() - started) / 1000);
    const latencies: number[] = [];
    for (let i = 0; i < singles; i++) {
      const t = performance.now();
      await engine.scores(one, 1, imageSize);
      latencies.push(performance.now() - t);
    }
    latencies.sort((a, b) => a - b);
    return {
      engine: which === 'onnx' ? (engine as OnnxEngine).description : `tfjs (${backend})`,
      imageSize,
      batchSize,
      imagesPerSecond,
      oneImageMs: latencies[Math.floor(latencies.length / 2)],
      load: machineState(),
    };
  } finally {
    await engine.dispose();
    if (which === 'onnx') model.dispose();
  }
}

export interface TrainingMemory {
  backend: string;
  images: number;
  imageSize: number;
  workers: number;
  /** Peak resident set size of the whole training process (main thread + workers), MB. */
  peakRssMB: number;
  load: ReturnType<typeof machineState>;
}

/**
 * Peak memory of fit() on `images` images: a fresh child process holds the whole uint8 dataset, trains six
 * study-batch steps on `workers` workers and validates 128 rows at fit()'s validation batch (the training
 * batch), then reports its peak RSS. Measured on the native backend, the peak settles by the fifth step (two
 * steps, as this used to run, read ~300 MB low), so a full run peaks no higher.
 */
export function measureTrainingMemory(
  options: { images?: number; imageSize?: number; workers?: number; backend?: BackendName } = {},
): TrainingMemory {
  const args = { images: 6000, imageSize: 128, workers: 2, backend: 'wasm' as BackendName, ...options };
  const child = spawnSync(process.execPath, [__filename, '--memory-child', JSON.stringify(args)], { encoding: 'utf8' });
  if (child.status !== 0)
    throw new Error(`memory benchmark failed: ${(child.stderr || child.stdout).trim().split('\n').pop()}`);
  return { ...args, peakRssMB: Number(child.stdout.trim().split('\n').pop()), load: machineState() };
}

async function memoryChild(args: {
  images: number;
  imageSize: number;
  workers: number;
  backend: BackendName;
}): Promise<void> {
  const backend = (await initBackend(args.backend)).name;
  const data = randomImages(args.images, args.imageSize);
  const model = buildModel({ imageSize: args.imageSize, ...STUDY });
  const stepper = await makeStepper(model, data, args.workers, backend);
  const train = Array.from({ length: 192 }, (_, i) => i);
  const val = Array.from({ length: 128 }, (_, i) => args.images - 1 - i);
  await fit({
    model,
    data,
    trainIndices: train,
    valIndices: val,
    config: { ...STUDY, epochs: 1, batchSize: 32 },
    stepper,
  });
  process.stdout.write(`${(peakRssBytes() / 2 ** 20).toFixed(0)}\n`);
}

export interface KernelTime {
  kernel: string;
  msPerStep: number;
  callsPerStep: number;
  share: number;
}

/**
 * Where a native training step's time goes: wall milliseconds per step in each tfjs kernel (the native backend
 * times every kernel, native or CPU, while profiling is on), study model, batch 32.
 */
export async function measureKernelProfile(options: {
  imageSize: number;
  steps?: number;
  batchSize?: number;
}): Promise<{ stepMs: number; kernels: KernelTime[] }> {
  const { imageSize, steps = 2, batchSize = 32 } = options;
  await initBackend('native');
  const data = randomImages(batchSize * (steps + 1), imageSize);
  const model = buildModel({ imageSize, ...STUDY });
  const stepper = new LocalStepper(model, data, makeOptimizer(STUDY));
  const rows = (s: number) => Array.from({ length: batchSize }, (_, i) => s * batchSize + i);
  try {
    await stepper.step(rows(0), 0);
    for (const key of Object.keys(kernelProfile)) delete kernelProfile[key];
    setKernelProfiling(true);
    const started = performance.now();
    for (let s = 1; s <= steps; s++) await stepper.step(rows(s), s);
    const stepMs = (performance.now() - started) / steps;
    setKernelProfiling(false);
    const kernels = Object.entries(kernelProfile)
      .map(([kernel, { ms, calls }]) => ({
        kernel,
        msPerStep: ms / steps,
        callsPerStep: calls / steps,
        share: ms / steps / stepMs,
      }))
      .sort((a, b) => b.msPerStep - a.msPerStep);
    return { stepMs, kernels };
  } finally {
    setKernelProfiling(false);
    stepper.dispose();
    model.dispose();
  }
}

/** Everything, with the defaults the issue asks for. */
export async function runSpeedBenchmarks(log: (line: string) => void = () => undefined) {
  const training: TrainingSpeed[] = [];
  for (const imageSize of [64, 128]) {
    for (const workers of [1, 2]) {
      training.push(await measureTrainingSpeed({ imageSize, workers }));
      log(JSON.stringify(training[training.length - 1]));
    }
  }
  const inference: InferenceSpeed[] = [];
  for (const engine of ['tfjs', 'onnx'] as const) {
    inference.push(await measureInferenceSpeed({ engine }));
    log(JSON.stringify(inference[inference.length - 1]));
  }
  const memory = measureTrainingMemory();
  log(JSON.stringify(memory));
  return { training, inference, memory };
}

if (require.main === module) {
  const flag = process.argv.indexOf('--memory-child');
  const job =
    flag >= 0
      ? memoryChild(JSON.parse(process.argv[flag + 1]))
      : runSpeedBenchmarks((line) => process.stdout.write(line + '\n')).then(() => undefined);
  job.catch((err) => {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exitCode = 1;
  });
}
