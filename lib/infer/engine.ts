/**
 * What every engine is: the InferenceEngine interface, and the tfjs engine that the others fall back to.
 * Engines (lib/infer/onnx-engine.ts, lib/infer/averaging.ts), the scoring layer (lib/infer/scoring.ts,
 * scoring-engine.ts) and the Predictor (lib/infer/predict.ts) import this module, and it imports none of them,
 * so adding an engine means one new module that implements this interface.
 */
import * as tf from '@tensorflow/tfjs';
import { fakeScores } from '../model/model';
import { loadModel } from '../model/model-io';

/**
 * Scores batches of preprocessed images (N x size x size x 3 in [0,1]) as pFake. Engines with `anySize` also
 * take N x size x width x 3 (`scoring: 'native'`, lib/infer/scoring.ts); the others take their model's size only.
 */
export interface InferenceEngine {
  readonly name: string;
  readonly anySize?: boolean;
  /** With anySize: image sides must be multiples of this (2 for an NPR input transform); default 1. */
  readonly sideMultiple?: number;
  scores(batch: Float32Array, n: number, size: number, width?: number): Promise<Float32Array>;
  dispose(): Promise<void> | void;
}

/** Loads the engine a run folder is scored with. */
export type EngineLoader = (runDir: string) => Promise<InferenceEngine>;

export class TfjsEngine implements InferenceEngine {
  readonly name = 'tfjs';
  /** `anySize`: the model's input has free height and width (lib/infer/native.ts freeSizeCopy). */
  constructor(
    readonly model: tf.LayersModel,
    readonly anySize = false,
    readonly sideMultiple = 1,
  ) {}

  static async load(modelDir: string): Promise<TfjsEngine> {
    return new TfjsEngine(await loadModel(modelDir));
  }

  async scores(batch: Float32Array, n: number, size: number, width = size): Promise<Float32Array> {
    const result = tf.tidy(() =>
      fakeScores(this.model.predict(tf.tensor4d(batch, [n, size, width, 3])) as tf.Tensor2D),
    );
    const values = (await result.data()) as Float32Array;
    result.dispose();
    return values;
  }

  dispose(): void {
    this.model.dispose();
  }
}
