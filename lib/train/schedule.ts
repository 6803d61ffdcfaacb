/**
 * Learning rate at each optimizer step, per config.lrSchedule, after an optional linear warm-up:
 *   constant  the configured rate.
 *   cosine    half a cosine from the rate down to 0 over the steps after warm-up (Loshchilov & Hutter 2017).
 *   onecycle  up from rate/25 to the rate over the first 30 % of steps (or the warm-up, if set), then half a
 *             cosine down to rate/1e4 (Smith & Topin 2019; PyTorch OneCycleLR's defaults).
 */
import type { Config } from '../config';

export type ScheduleConfig = Pick<Config, 'learningRate' | 'lrSchedule' | 'warmupEpochs'>;

/** `step` is 0-based; totalSteps = epochs x steps per epoch. */
export function learningRateAt(
  step: number,
  totalSteps: number,
  stepsPerEpoch: number,
  config: ScheduleConfig,
): number {
  const lr = config.learningRate;
  const warmup = Math.round(config.warmupEpochs * stepsPerEpoch);
  const cosine = (t: number, from: number, to: number) =>
    to + (from - to) * 0.5 * (1 + Math.cos(Math.PI * Math.min(1, Math.max(0, t))));
  if (config.lrSchedule === 'onecycle') {
    const up = warmup > 0 ? warmup : Math.max(1, Math.round(0.3 * totalSteps));
    if (step < up) return cosine(1 - step / up, lr, lr / 25);
    return cosine((step - up) / Math.max(1, totalSteps - up), lr, lr / 1e4);
  }
  if (step < warmup) return (lr * (step + 1)) / warmup;
  if (config.lrSchedule === 'cosine') return cosine((step - warmup) / Math.max(1, totalSteps - warmup), lr, 0);
  return lr;
}
