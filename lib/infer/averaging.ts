/**
 * Score averaging at inference: test-time flip averaging (each image and its mirror image) and ensembles
 * (the mean pFake of several trained runs). AveragingEngine wraps any engines, so evaluate and predict get
 * both without knowing. Averaging probabilities (not logits) is what ensembles of detectors usually report.
 */
import { openRun } from '../train/runs';
import type { InferenceEngine } from './predict';

/** A batch of NHWC images (n x size x size x 3), each mirrored left to right. */
export function flipBatch(batch: Float32Array, n: number, size: number): Float32Array {
  const out = new Float32Array(batch.length);
  for (let i = 0; i < n; i++) {
    for (let y = 0; y < size; y++) {
      const row = (i * size + y) * size;
      for (let x = 0; x < size; x++) {
        const src = (row + x) * 3;
        const dst = (row + size - 1 - x) * 3;
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

export class AveragingEngine implements InferenceEngine {
  readonly name: string;

  constructor(
    private readonly engines: InferenceEngine[],
    private readonly ttaFlip: boolean,
  ) {
    this.name = `${engines.length > 1 ? `ensemble of ${engines.length} ` : ''}${engines[0].name}${ttaFlip ? ' + flip' : ''}`;
  }

  async scores(batch: Float32Array, n: number, size: number): Promise<Float32Array> {
    const lists: Float32Array[] = [];
    const flipped = this.ttaFlip ? flipBatch(batch, n, size) : null;
    for (const engine of this.engines) {
      lists.push(await engine.scores(batch, n, size));
      if (flipped) lists.push(await engine.scores(flipped, n, size));
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
