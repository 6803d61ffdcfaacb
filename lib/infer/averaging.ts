/**
 * Score averaging at inference: test-time flip averaging (each image and its mirror image), ensembles (the mean
 * pFake of several trained runs) and tiles (the mean pFake of an image's tiles, lib/infer/tiles.ts).
 * AveragingEngine wraps any engines, so evaluate and predict get flips and ensembles without knowing.
 * Everything averages probabilities (pFake), not logits: it is what ensembles of detectors usually report, and
 * realfake's pFake = p1 / (p0 + p1) comes from two sigmoids, so there is no single logit to average anyway.
 * Every tile gets the same flips and members, so the nested means are one plain mean over tiles x members x flips.
 */
import { openRun } from '../runs/runs';
import type { InferenceEngine } from './engine';

/** A batch of NHWC images (n x height x width x 3; square unless width is given), each mirrored left to right. */
export function flipBatch(batch: Float32Array, n: number, height: number, width = height): Float32Array {
  const out = new Float32Array(batch.length);
  for (let i = 0; i < n; i++) {
    for (let y = 0; y < height; y++) {
      const row = (i * height + y) * width;
      for (let x = 0; x < width; x++) {
        const src = (row + x) * 3;
        const dst = (row + width - 1 - x) * 3;
        out[dst] = batch[src];
        out[dst + 1] = batch[src + 1];
        out[dst + 2] = batch[src + 2];
      }
    }
  }
  return out;
}

/** Element-wise mean of equally long score arrays. */
export function averageScores(lists: Float32Array[]): Float32Array {
  if (lists.length === 0) throw new Error('averageScores: nothing to average');
  const out = new Float32Array(lists[0].length);
  for (const list of lists) {
    if (list.length !== out.length) throw new Error(`averageScores: lengths differ (${list.length} vs ${out.length})`);
    for (let i = 0; i < out.length; i++) out[i] += list[i] / lists.length;
  }
  return out;
}

/**
 * The mean of each image's consecutive run of scores: `counts[i]` tile scores belong to image i, in order
 * (e.g. scores [a, b, c] with counts [2, 1] give [(a + b) / 2, c]).
 */
export function averageTileScores(scores: Float32Array, counts: number[]): Float32Array {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total !== scores.length) throw new Error(`averageTileScores: counts add up to ${total}, not ${scores.length}`);
  const out = new Float32Array(counts.length);
  let at = 0;
  counts.forEach((count, i) => {
    if (!(Number.isInteger(count) && count > 0)) throw new Error(`averageTileScores: image ${i} has ${count} tiles`);
    let sum = 0;
    for (let k = 0; k < count; k++) sum += scores[at + k];
    out[i] = sum / count;
    at += count;
  });
  return out;
}

export class AveragingEngine implements InferenceEngine {
  readonly name: string;
  readonly anySize: boolean;
  readonly sideMultiple: number;

  constructor(
    private readonly engines: InferenceEngine[],
    private readonly ttaFlip: boolean,
  ) {
    this.name = `${engines.length > 1 ? `ensemble of ${engines.length} ` : ''}${engines[0].name}${ttaFlip ? ' + flip' : ''}`;
    this.anySize = engines.every((engine) => engine.anySize === true);
    this.sideMultiple = Math.max(...engines.map((engine) => engine.sideMultiple ?? 1));
  }

  async scores(batch: Float32Array, n: number, size: number, width = size): Promise<Float32Array> {
    const lists: Float32Array[] = [];
    const flipped = this.ttaFlip ? flipBatch(batch, n, size, width) : null;
    for (const engine of this.engines) {
      lists.push(await engine.scores(batch, n, size, width));
      if (flipped) lists.push(await engine.scores(flipped, n, size, width));
    }
    return averageScores(lists);
  }

  async dispose(): Promise<void> {
    for (const engine of this.engines) await engine.dispose();
  }
}

/** Checks that ensemble members take the same images as the main run (same size and resize). */
export function checkEnsembleMembers(runDir: string, members: string[]): void {
  const main = openRun(runDir).config;
  for (const dir of members) {
    const other = openRun(dir).config;
    if (other.imageSize !== main.imageSize || other.resize !== main.resize) {
      throw new Error(
        `${dir}: ensemble member takes ${other.imageSize}px ${other.resize} images, but ${runDir} takes ${main.imageSize}px ${main.resize}`,
      );
    }
  }
}
