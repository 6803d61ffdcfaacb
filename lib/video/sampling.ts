/**
 * Which moments of a video are looked at. Frames are taken at a steady rate on the video's timestamps (ffmpeg's
 * fps filter: for each tick k / rate it takes the frame shown at that moment), so a variable-frame-rate clip is
 * sampled evenly in time, not in frame numbers. When rate x duration would pass `maxFrames`, the rate is lowered
 * so the samples spread evenly over the whole video, and `note` says so.
 */
import type { VideoInfo } from './probe';

export interface SamplingOptions {
  /** Frames a second to look at (default 2). */
  fps?: number;
  /** Most frames to look at (default 600 on the CLI). */
  maxFrames?: number;
}

export interface SamplingPlan {
  /** The rate used, frames a second (lower than asked when maxFrames applies). */
  fps: number;
  /** Frames that will be looked at (at most). */
  frames: number;
  /** Seconds between samples. */
  interval: number;
  /** Set when the rate was lowered to stay within maxFrames. */
  note?: string;
}

export const DEFAULT_SAMPLING = { fps: 2, maxFrames: 600 };

export function planSampling(info: Pick<VideoInfo, 'duration'>, options: SamplingOptions = {}): SamplingPlan {
  const fps = options.fps ?? DEFAULT_SAMPLING.fps;
  const maxFrames = options.maxFrames ?? DEFAULT_SAMPLING.maxFrames;
  if (!(fps > 0)) throw new Error(`fps must be above 0 (got ${fps})`);
  if (!(Number.isInteger(maxFrames) && maxFrames >= 1))
    throw new Error(`maxFrames must be a whole number >= 1 (got ${maxFrames})`);
  const wanted = Math.max(1, Math.ceil(info.duration * fps));
  if (wanted <= maxFrames) return { fps, frames: wanted, interval: 1 / fps };
  const spread = maxFrames / info.duration;
  return {
    fps: spread,
    frames: maxFrames,
    interval: 1 / spread,
    note: `${wanted} frames at ${fps}/s would pass the limit of ${maxFrames}: ${maxFrames} frames spread evenly, one every ${(1 / spread).toFixed(1)} s`,
  };
}
