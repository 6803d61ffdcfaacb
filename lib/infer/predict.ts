/**
 * One image (or a folder) > the same decode and resize as training > [0,1] > model > verdict.
 * The verdict ("Real", "Fake (AI-generated)" or "Uncertain") comes from the run's verdict policy
 * (lib/infer/verdict.ts: threshold, temperature, uncertain band; lib/infer/run-policy.ts reads it from the run);
 * confidence is the probability of the verdict given.
 * With config `scoring` 'tiles' or 'native', images are decoded at their own size and scored by
 * lib/infer/scoring.ts instead of resized.
 *
 * Scoring goes through an InferenceEngine so the same code runs on tfjs or, when installed, onnxruntime.
 */
import type { Config, ScoringMode } from '../config';
import { inspectPath } from '../file-access';
import { ListingProblem, scanImageFolder } from '../data/image-files';
import { decodeImageRgb, loadImageRgb, RgbImage } from '../data/images';
import { alignedFace } from '../data/align-faces';
import { openRun } from '../runs/runs';
import { scaleToUnit } from '../data/pixels';
import type { EngineLoader, InferenceEngine } from './engine';
import { runVerdictPolicy } from './run-policy';
import { loadScoringEngine } from './scoring-engine';
import { checkNativeSize, ScoredImage, scoreImages } from './scoring';
import { thresholdPolicy, verdictFor, type Verdict, type VerdictPolicy } from './verdict';

export type { Verdict } from './verdict';

export interface Prediction {
  file: string;
  verdict: Verdict;
  /** Probability of the verdict given: pFake for "Fake", 1 - pFake for "Real", the larger for "Uncertain". */
  confidence: number;
  /** Probability of fake: the model's, scaled by the policy's temperature when it has one. */
  pFake: number;
  /** Scoring 'tiles' or 'native' only: what was done to this image ('resize' if too small), tiles averaged. */
  scoring?: ScoringMode;
  tiles?: number;
}

export interface PredictionFailure {
  file: string;
  reason: string;
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

/** 'auto' for the run's scoring (lib/infer/scoring-engine.ts). */
function loadDefaultEngine(runDir: string): Promise<InferenceEngine> {
  return loadScoringEngine(runDir, { scoring: openRun(runDir).config.scoring });
}

export class Predictor {
  /** `policy` decides the verdicts (default: the config's threshold alone). */
  constructor(
    readonly engine: InferenceEngine,
    readonly config: Pick<Config, 'imageSize' | 'resize' | 'threshold'> &
      Partial<Pick<Config, 'decode' | 'scoring' | 'alignFaces'>>,
    readonly policy: VerdictPolicy = thresholdPolicy(config.threshold),
  ) {
    if (this.scoring === 'native' && !engine.anySize)
      throw new Error(
        `scoring native needs an engine on a free-size model (lib/infer/scoring-engine.ts loadScoringEngine); ${engine.name} takes ${config.imageSize} px only`,
      );
  }

  /**
   * A predictor for a trained run; `loadEngine` picks the engine. The default is evaluate's default, 'auto'
   * (onnx when onnxruntime-node loads, else tfjs), so a prediction and an evaluation score an image alike;
   * for a run whose config says `scoring: 'native'`, it is tfjs on a free-size copy of the model. Verdicts follow
   * the run's policy (its model card's, else its threshold).
   */
  static async fromRun(runDir: string, loadEngine: EngineLoader = (dir) => loadDefaultEngine(dir)): Promise<Predictor> {
    const { config } = openRun(runDir);
    return new Predictor(await loadEngine(runDir), config, runVerdictPolicy(runDir, config.threshold));
  }

  /** How images are scored (config `scoring`; runs saved before it existed: 'resize'). */
  get scoring(): ScoringMode {
    return this.config.scoring ?? 'resize';
  }

  /**
   * Decodes and resizes exactly as preprocessing did for training: for a run trained on aligned faces
   * (alignFaces), the image framed on its largest face, or the whole image when no face is found.
   */
  async loadPixels(file: string): Promise<Uint8Array> {
    const { imageSize, resize } = this.config;
    const face = this.config.alignFaces ? await alignedFace(file, imageSize, resize) : null;
    return face?.pixels ?? loadImageRgb(file, imageSize, resize, this.config.decode ?? 'full');
  }

  async predictPixels(images: Uint8Array[]): Promise<number[]> {
    const size = this.config.imageSize;
    const pixels = size * size * 3;
    const batch = new Float32Array(images.length * pixels);
    images.forEach((img, i) => scaleToUnit(img, batch, i * pixels));
    return Array.from(await this.engine.scores(batch, images.length, size));
  }

  /** Decoded images scored by the config's `scoring` (lib/infer/scoring.ts). */
  scoreImages(images: RgbImage[]): Promise<ScoredImage[]> {
    return scoreImages(this.engine, images, { ...this.config, scoring: this.scoring });
  }

  /** `rawPFake`: the engine's score; the policy gives the verdict and the probability shown. */
  toPrediction(file: string, rawPFake: number, scored?: ScoredImage): Prediction {
    const how = scored && this.scoring !== 'resize' ? { scoring: scored.scoring, tiles: scored.tiles } : {};
    return { file, ...verdictFor(rawPFake, this.policy), ...how };
  }

  async predictFile(file: string): Promise<Prediction> {
    return (await this.predictLoaded([{ file, pixels: await this.loadInput(file) }]))[0];
  }

  /** What scoring needs of a file: the resized pixels ('resize'), or the image decoded at its own size. */
  private async loadInput(file: string): Promise<Uint8Array | RgbImage> {
    if (this.scoring === 'resize') return this.loadPixels(file);
    const image = await decodeImageRgb(file);
    if (this.scoring === 'native') checkNativeSize(image, file);
    return image;
  }

  private async predictLoaded(loaded: Array<{ file: string; pixels: Uint8Array | RgbImage }>): Promise<Prediction[]> {
    if (this.scoring === 'resize') {
      const scores = await this.predictPixels(loaded.map((l) => l.pixels as Uint8Array));
      return loaded.map((l, i) => this.toPrediction(l.file, scores[i]));
    }
    const scored = await this.scoreImages(loaded.map((l) => l.pixels as RgbImage));
    return loaded.map((l, i) => this.toPrediction(l.file, scored[i].pFake, scored[i]));
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
    // Decoded full-size images are larger than resized ones: fewer at a time.
    const batchSize = options.batchSize ?? (this.scoring === 'resize' ? 32 : 8);
    const predictions: Prediction[] = [];
    const failures: PredictionFailure[] = [];
    for (let start = 0; start < files.length; start += batchSize) {
      const chunk = files.slice(start, start + batchSize);
      const loaded = await Promise.all(
        chunk.map(async (file) => {
          try {
            return { file, pixels: await this.loadInput(file) };
          } catch (err) {
            const failure = { file, reason: (err as Error).message.replace(`${file}: `, '') };
            failures.push(failure);
            options.onFailure?.(failure);
            return null;
          }
        }),
      );
      const ok = loaded.filter((l): l is { file: string; pixels: Uint8Array | RgbImage } => l !== null);
      if (ok.length === 0) continue;
      for (const prediction of await this.predictLoaded(ok)) {
        predictions.push(prediction);
        options.onPrediction?.(prediction);
      }
    }
    return { predictions, failures };
  }

  async dispose(): Promise<void> {
    await this.engine.dispose();
  }
}
