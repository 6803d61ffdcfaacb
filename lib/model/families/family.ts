/**
 * What a model family is, in one descriptor: how to build it, how the train layer trains it, which layer
 * classes of its own it brings (how they treat the input size, how they export to ONNX), and whether data-
 * parallel workers can train it. The registry (lib/model/families.ts registers the built-in ones) is what
 * every other layer asks; none of them names a family. Saving and loading need nothing from the descriptor: every
 * family is a tfjs layers model saved in one format (lib/model/model-io.ts), and a family file that defines a
 * layer class registers it with tfjs's serialization when it is imported, so saved models deserialise.
 */
import type * as tf from '@tensorflow/tfjs';
import { familyNames, registerFamilyName, type Config } from '../../config';
import type { OnnxLayerConverter } from '../onnx-graph';

/** The config fields a family's builder may read. */
export type FamilyOptions = Pick<
  Config,
  'model' | 'imageSize' | 'dropout' | 'seed' | 'input' | 'width' | 'depth' | 'facePooling'
>;

/**
 * How a family trains, as data: the train layer carries each kind out (lib/train/training-plans.ts), so the
 * model layer needs nothing from it and the training loop names no family.
 *   end-to-end       every layer learns from image batches (augmented per config), the study's way.
 *   frozen-backbone  the layer named `backbone` is fixed: each image's features go through it once and are
 *                    cached (in the process, and beside the dataset as features-<fingerprint>-<tag>.npy), and
 *                    only the layers after it learn, from the cached rows.
 */
export type TrainingPlan =
  | { kind: 'end-to-end' }
  | {
      kind: 'frozen-backbone';
      backbone: string;
      /** What, beside the dataset, decides the backbone's output (it names the cache file). */
      featureTag: (config: Config) => string;
    };

/** A layer class a family brings (beyond lib/model's shared layers), as lib/infer must treat it. */
export interface FamilyLayer {
  /**
   * On other input sizes (lib/infer/native.ts): 'size-free' works on feature maps of any height and width,
   * 'global-pooling' turns any of them into a fixed-length vector, 'fixed' needs the size it was built for.
   */
  sizing: 'size-free' | 'global-pooling' | 'fixed';
  /** Its ONNX ops (lib/infer/onnx-export.ts calls it); without one, ONNX export refuses the model. */
  onnx?: OnnxLayerConverter;
}

export interface ModelFamily {
  /** The config's `model` value. */
  name: string;
  /** A tfjs layers model from [N, H, W, 3] pixels in [0, 1] to two sigmoids [p(real), p(fake)]. */
  build(config: FamilyOptions): tf.LayersModel;
  training: TrainingPlan;
  /** Whether worker-thread replicas train it exactly (lib/train/parallel.ts): not with BatchNorm statistics. */
  dataParallel: boolean;
  /** Its own layer classes, by class name. */
  layers?: Readonly<Record<string, FamilyLayer>>;
}

const families = new Map<string, ModelFamily>();

/** Adds a family (and makes its name a valid config `model`); registering the same name twice is refused. */
export function registerFamily(family: ModelFamily): ModelFamily {
  const known = families.get(family.name);
  if (known && known !== family) throw new Error(`model family ${family.name} is registered already`);
  families.set(family.name, family);
  registerFamilyName(family.name);
  return family;
}

/** The family a config names; one line naming the choices for an unknown one. */
export function familyOf(config: Pick<Config, 'model'>): ModelFamily {
  const family = families.get(config.model);
  if (!family) throw new Error(`config: model must be one of ${familyNames().join(', ')} (got ${config.model})`);
  return family;
}

/** How a registered family's layer class is treated, or null for a class no family brings. */
export function familyLayer(className: string): FamilyLayer | null {
  for (const family of families.values()) {
    const layer = family.layers?.[className];
    if (layer) return layer;
  }
  return null;
}
