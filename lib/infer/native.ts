/**
 * `scoring: 'native'`: the whole image through the model in one pass, at its own size. That is exact only for
 * a network that is fully convolutional up to a global pooling: its convolutions and poolings slide over any
 * height and width, and the global pooling turns any feature map into the same-length vector for the dense head.
 * Such a model's weights do not depend on the input size, so a copy whose input has free height and width,
 * with the same weights, scores any image.
 *
 * Which models qualify is read from the graph, not from a list of families: every layer that takes a spatial
 * (rank-4) input must be one that works at any size (SIZE_FREE_LAYERS) or a global pooling (GLOBAL_POOLINGS),
 * or a layer class a model family brings that says so itself (lib/model/families, FamilyLayer.sizing).
 * All three families qualify: the study's CNN and the resnet end in GlobalAveragePooling2D, and facefeat's
 * frozen face-recognition backbone pools each of its stages over the whole image (mean, or mean and spread).
 * A Flatten, a Reshape or a fixed Cropping2D before the pooling needs a fixed size: such a model is refused
 * (use 'tiles').
 */
import * as tf from '@tensorflow/tfjs';
import { familyLayer } from '../model/families';

/** Layers that work on a feature map of any height and width. */
export const SIZE_FREE_LAYERS: ReadonlySet<string> = new Set([
  'InputLayer',
  'InputTransform',
  'Conv2D',
  'DepthwiseConv2D',
  'SeparableConv2D',
  'DilatedConv2D',
  'BatchNormalization',
  'ReLU',
  'LeakyReLU',
  'Activation',
  'MaxPooling2D',
  'AveragePooling2D',
  'Add',
  'Multiply',
  'Concatenate',
  'Dropout',
  'SpatialDropout2D',
  'SeededDropout',
]);

/** Layers that reduce a feature map of any size to a fixed-length vector. */
export const GLOBAL_POOLINGS: ReadonlySet<string> = new Set(['GlobalAveragePooling2D', 'GlobalMaxPooling2D']);

/** Whether a layer class works at any input size: a stock or shared one listed above, or as its family says. */
function sizeFree(className: string): boolean {
  if (SIZE_FREE_LAYERS.has(className) || GLOBAL_POOLINGS.has(className)) return true;
  const sizing = familyLayer(className)?.sizing;
  return sizing === 'size-free' || sizing === 'global-pooling';
}

function inputRanks(layer: tf.layers.Layer): number[] {
  const node = (layer as unknown as { inboundNodes: Array<{ inputShapes: tf.Shape | tf.Shape[] }> }).inboundNodes[0];
  if (!node) return [];
  const shapes = node.inputShapes;
  return (Array.isArray(shapes[0]) ? (shapes as tf.Shape[]) : [shapes as tf.Shape]).map((s) => s.length);
}

/** The first layer that needs a fixed input size, or null when the model can score any size. */
export function fixedSizeLayer(model: tf.LayersModel): tf.layers.Layer | null {
  for (const layer of model.layers) {
    const cls = layer.getClassName();
    if (cls === 'InputLayer') continue;
    if (inputRanks(layer).includes(4) && !sizeFree(cls)) return layer;
  }
  return null;
}

/**
 * Throws the one-line refusal when `model` cannot score at native size; `family` and `where` (the run folder)
 * name it in the message.
 */
export function checkNativeScoring(model: tf.LayersModel, family: string, where: string): void {
  const layer = fixedSizeLayer(model);
  if (layer) {
    throw new Error(
      `${where}: --scoring native needs a model that is fully convolutional up to a global pooling, but model family ${family} has layer ${layer.name} (${layer.getClassName()}), which needs a fixed input size; use --scoring tiles`,
    );
  }
}

/** The smallest side multiple the model needs: 2 when its input transform is NPR (2x2 blocks), else 1. */
export function nativeSideMultiple(model: tf.LayersModel): number {
  const npr = model.layers.some(
    (layer) => layer.getClassName() === 'InputTransform' && (layer as unknown as { mode: string }).mode === 'npr',
  );
  return npr ? 2 : 1;
}

type Topology = {
  class_name: string;
  config: { layers: Array<{ class_name: string; config: Record<string, unknown> }> };
};

/**
 * A copy of `model` whose input is [batch, any, any, channels], with the same weights (copied, so the original
 * can be disposed). Call checkNativeScoring first.
 */
export async function freeSizeCopy(model: tf.LayersModel): Promise<tf.LayersModel> {
  const topology = JSON.parse(JSON.stringify(model.toJSON(null, false))) as Topology;
  const layers = topology.config.layers;
  // Functional models keep their input shape on the InputLayer; Sequential ones on their first layer.
  const holders =
    topology.class_name === 'Sequential' ? [layers[0]] : layers.filter((l) => l.class_name === 'InputLayer');
  for (const holder of holders) {
    const shape = holder.config.batch_input_shape as Array<number | null> | undefined;
    if (!shape || shape.length !== 4) throw new Error(`freeSizeCopy: ${holder.class_name} has no NHWC input shape`);
    holder.config.batch_input_shape = [null, null, null, shape[3]];
  }
  const copy = (await tf.models.modelFromJSON({
    modelTopology: topology as unknown as tf.io.ModelJSON['modelTopology'],
  })) as tf.LayersModel;
  copy.setWeights(model.getWeights());
  return copy;
}
