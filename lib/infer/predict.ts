/**
 * One image (or a folder) > the same decode and resize as training > [0,1] > model > verdict.
 * "Fake (AI-generated)" when pFake >= the run's threshold; confidence is the probability of the verdict given.
 *
 * Scoring goes through an InferenceEngine so the same code runs on tfjs or, when installed, onnxruntime.
 */
import * as tf from '@tensorflow/tfjs';
import type { Config } from '../config';
import { inspectPath } from '../file-access';
import { ListingProblem, scanImageFolder } from '../data/image-files';
import { loadImageRgb } from '../data/images';
import { fakeScores } from '../model/model';
import { loadModel } from '../model/model-io';
import { openRun } from '../train/runs';
import { scaleToUnit } from '../train/train';

export type Verdict = 'Real' | 'Fake (AI-generated)';

export interface Prediction {
  file: string;
  verdict: Verdict;
  /** Probability of the verdict given: pFake for "Fake", 1 - pFake for "Real". */
  confidence: number;
  pFake: number;
}

export interface PredictionFailure {
  file: string;
  reason: string;
}

/** Scores batches of preprocessed images (N x size x size x 3 in [0,1]) as pFake. */
export interface InferenceEngine {
  readonly name: string;
  scores(batch: Float32Array, n: number, size: number): Promise<Float32Array>;
  dispose(): Promise<void> | void;
}

export class TfjsEngine implements InferenceEngine {
  readonly name = 'tfjs';
  constructor(readonly model: tf.LayersModel) {}

  static async load(modelDir: string): Promise<TfjsEngine> {
    return new TfjsEngine(await loadModel(modelDir));
  }

  async scores(batch: Float32Array, n: number, size: number): Promise<Float32Array> {
    const result = tf.tidy(() => fakeScores(this.model.predict(tf.tensor4d(batch, [n, size, size, 3])) as tf.Tensor2D));
    const values = (await result.data()) as Float32Array;
    result.dispose();
    return values;
  }

  dispose(): void {
    this.model.dispose();
  }
}

export function verdictFor(pFake: number, threshold: number): { verdict: Verdict; confidence: number } {
  return pFake >= threshold
    ? { verdict: 'Fake (AI-generated)', confidence: pFake }
    : { verdict: 'Real', confidence: 1 - pFake };
}

/**
 * Expands folders (with their subfolders, sorted; lib/data/image-files.ts) and keeps files as given. A path
 * that cannot be looked at throws its true reason ("not found", "permission denied" ...); entries inside a
 * folder that cannot be looked into come back as `problems`, for the caller to report as skipped.
 */
export function collectImageInputs(paths: string[]): { files: string[]; problems: ListingProblem[] } {
  const files: string[] = [];
  const problems: ListingProblem[] = [];
  for (const p of paths) {
    if (inspectPath(p).kind === 'folder') {
      const listing = scanImageFolder(p);
      files.push(...listing.files);
      problems.push(...listing.problems);
    } else {
      files.push(p);
    }
  }
  return { files, problems };
}

/** The files of collectImageInputs. */
export function collectImagePaths(paths: string[]): string[] {
  return collectImageInputs(paths).files;
}

export type EngineLoader = (runDir: string) => Promise<InferenceEngine>;

/** 'auto' through lib/infer/onnx-engine.ts (required lazily: that module imports this one). */
function loadDefaultEngine(runDir: string): Promise<InferenceEngine> {
  const { loadEngine, DEFAULT_ENGINE } = require('./onnx-engine') as typeof import('./onnx-engine');
  return loadEngine(runDir, DEFAULT_ENGINE);
}

export class Predictor {
  constructor(
    readonly engine: InferenceEngine,
    readonly config: Pick<Config, 'imageSize' | 'resize' | 'threshold'> & Partial<Pick<Config, 'decode'>>,
  ) {}

  /**
   * A predictor for a trained run; `loadEngine` picks the engine. The default is evaluate's default, 'auto'
   * (onnx when onnxruntime-node loads, else tfjs), so a prediction and an evaluation score an image alike.
   */
  static async fromRun(runDir: string, loadEngine: EngineLoader = (dir) => loadDefaultEngine(dir)): Promise<Predictor> {
    const { config } = openRun(runDir);
    return new Predictor(await loadEngine(runDir), config);
  }

  /** Decodes and resizes exactly as preprocessing did for training. */
  loadPixels(file: string): Promise<Uint8Array> {
    return loadImageRgb(file, this.config.imageSize, this.config.resize, this.config.decode ?? 'full');
  }

  async predictPixels(images: Uint8Array[]): Promise<number[]> {
    const size = this.config.imageSize;
    const pixels = size * size * 3;
    const batch = new Float32Array(images.length * pixels);
    images.forEach((img, i) => scaleToUnit(img, batch, i * pixels));
    return Array.from(await this.engine.scores(batch, images.length, size));
  }

  toPrediction(file: string, pFake: number): Prediction {
    return { file, pFake, ...verdictFor(pFake, this.config.threshold) };
  }

  async predictFile(file: string): Promise<Prediction> {
    const [pFake] = await this.predictPixels([await this.loadPixels(file)]);
    return this.toPrediction(file, pFake);
  }

  /**
   * Predicts many files in batches. An unreadable file is reported through `onFailure` and skipped;
   * the others go on.
   */
  async predictFiles(
    files: string[],
    options: {
      batchSize?: number;
      onPrediction?: (p: Prediction) => void;
      onFailure?: (f: PredictionFailure) => void;
    } = {},
  ): Promise<{ predictions: Prediction[]; failures: PredictionFailure[] }> {
    const batchSize = options.batchSize ?? 32;
    const predictions: Prediction[] = [];
    const failures: PredictionFailure[] = [];
    for (let start = 0; start < files.length; start += batchSize) {
      const chunk = files.slice(start, start + batchSize);
      const loaded = await Promise.all(
        chunk.map(async (file) => {
          try {
            return { file, pixels: await this.loadPixels(file) };
          } catch (err) {
            const failure = { file, reason: (err as Error).message.replace(`${file}: `, '') };
            failures.push(failure);
            options.onFailure?.(failure);
            return null;
          }
        }),
      );
      const ok = loaded.filter((l): l is { file: string; pixels: Uint8Array } => l !== null);
      if (ok.length === 0) continue;
      const scores = await this.predictPixels(ok.map((l) => l.pixels));
      ok.forEach((l, i) => {
        const prediction = this.toPrediction(l.file, scores[i]);
        predictions.push(prediction);
        options.onPrediction?.(prediction);
      });
    }
    return { predictions, failures };
  }

  async dispose(): Promise<void> {
    await this.engine.dispose();
  }
}
