/**
 * The model families a config can choose (config.model): the registry, and the built-in families, each one
 * descriptor file in lib/model/families/ (family.ts there says what a descriptor holds). All are tfjs layers
 * models taking [N, H, W, 3] pixels in [0, 1] and giving two sigmoids [p(real), p(fake)]:
 *   study     the study's CNN, exact (study.ts)
 *   resnet    a small BatchNorm ResNet (resnet.ts)
 *   facefeat  a frozen face-recognition ResNet with a trained head (facefeat.ts)
 * Import the registry from here (not families/family.ts), so that the built-in families are registered. A new
 * family is one file that calls registerFamily.
 */
import type * as tf from '@tensorflow/tfjs';
import { facefeat } from './families/facefeat';
import { familyOf, registerFamily, type FamilyOptions } from './families/family';
import { resnet } from './families/resnet';
import { study } from './families/study';

for (const family of [study, resnet, facefeat]) registerFamily(family);

export { familyLayer, familyOf, registerFamily } from './families/family';
export type { FamilyLayer, FamilyOptions, ModelFamily, TrainingPlan } from './families/family';
export { assembleFaceModel, buildFaceHead } from './families/facefeat';

/** The untrained model of the family a config names. */
export function buildFamilyModel(config: FamilyOptions): tf.LayersModel {
  return familyOf(config).build(config);
}
