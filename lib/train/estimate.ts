/**
 * How long a training run will take on this machine, measured rather than guessed: a few real training steps
 * and one validation batch of the configured model at the configured batch size, on the active backend, then
 * scaled to the run's epochs and split sizes.
 */
import type { Config } from '../config';
import { buildModel } from '../model/model';
import { evaluateRows, LocalStepper, makeOptimizer } from './train';
import { type ImageData } from '../data/pixels';

export interface TrainingEstimate {
  /** Whole run: epochs x (training steps + validation). */
  seconds: number;
  perEpoch: number;
  /** Measured seconds per training step (one batch) and per validation image. */
  perStep: number;
  perValImage: number;
}

/**
 * Times `steps` training steps (after one warm-up step) and one validation batch on random images. It runs on
 * the main thread, so with data-parallel workers the run is usually faster than this estimate.
 */
export async function estimateTrainingTime(
  config: Config,
  sizes: { train: number; val: number },
  steps = 3,
): Promise<TrainingEstimate> {
  const batch = Math.min(config.batchSize, Math.max(sizes.train, 1));
  const valBatch = config.batchSize; // fit() validates at the training batch
  const rows = Math.max(batch, Math.min(valBatch, Math.max(sizes.val, 1)));
  const pixels = config.imageSize * config.imageSize * 3;
  const x = new Uint8Array(rows * pixels);
  for (let i = 0; i < x.length; i++) x[i] = (i * 2654435761) >>> 24; // cheap deterministic noise
  const data: ImageData = { x, y: Uint8Array.from({ length: rows }, (_, i) => i % 2), size: config.imageSize };
  const model = buildModel(config);
  const stepper = new LocalStepper(model, data, makeOptimizer(config));
  try {
    const indices = Array.from({ length: batch }, (_, i) => i);
    await stepper.step(indices, 0); // warm-up: kernels compile and memory is allocated on the first call
    let started = performance.now();
    for (let s = 1; s <= steps; s++) await stepper.step(indices, s);
    const perStep = (performance.now() - started) / 1000 / steps;
    const valRows = Array.from({ length: rows }, (_, i) => i);
    started = performance.now();
    await evaluateRows(model, data, valRows, valBatch);
    const perValImage = (performance.now() - started) / 1000 / rows;
    const perEpoch = Math.ceil(sizes.train / config.batchSize) * perStep + sizes.val * perValImage;
    return { seconds: perEpoch * config.epochs, perEpoch, perStep, perValImage };
  } finally {
    stepper.dispose();
    model.dispose();
  }
}

/** "42 s", "7 min", "3.2 h". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '…';
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}
