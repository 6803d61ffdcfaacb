/**
 * A small modern CNN: input transform > 3x3 stem > `depth` stages of one residual block each (conv-BN-ReLU,
 * conv-BN, add, ReLU; a 1x1 conv + BN projection where the width changes), 2x average pooling between stages,
 * channels `width`, 2*width, 4*width ... (capped at 8*width) > global average pooling > dropout > two sigmoids.
 * Only stride-1 'same' convolutions and 'valid' 2x pooling, so the network takes any input size (the global
 * pooling makes it size-agnostic) and exports to ONNX exactly. Two sigmoid outputs like the study's model, so
 * the loss, fakeScores and every caller stay the same.
 */
import * as tf from '@tensorflow/tfjs';
import type { InputMode } from '../config';
import { SeededDropout } from './layers';
import { InputTransform } from './input-transform';

export interface ResNetOptions {
  imageSize: number | null;
  width: number;
  depth: number;
  input: InputMode;
  dropout: number;
  seed: number;
}

export function buildResNet({ imageSize, width, depth, input, dropout, seed }: ResNetOptions): tf.LayersModel {
  let layerSeed = seed * 100;
  const init = () => tf.initializers.heNormal({ seed: ++layerSeed });
  const conv = (filters: number, kernelSize: number, name: string) =>
    tf.layers.conv2d({ filters, kernelSize, padding: 'same', useBias: false, kernelInitializer: init(), name });
  const bn = (name: string) => tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5, name });
  const inputs = tf.input({ shape: [imageSize, imageSize, 3], name: 'image' });
  let x = new InputTransform({ mode: input, name: 'input_transform' }).apply(inputs) as tf.SymbolicTensor;
  x = conv(width, 3, 'stem_conv').apply(x) as tf.SymbolicTensor;
  x = bn('stem_bn').apply(x) as tf.SymbolicTensor;
  x = tf.layers.reLU({ name: 'stem_relu' }).apply(x) as tf.SymbolicTensor;
  let channels = width;
  for (let s = 1; s <= depth; s++) {
    const filters = Math.min(width * 2 ** (s - 1), width * 8);
    if (s > 1)
      x = tf.layers
        .averagePooling2d({ poolSize: 2, strides: 2, padding: 'valid', name: `pool${s}` })
        .apply(x) as tf.SymbolicTensor;
    let y = conv(filters, 3, `block${s}_conv1`).apply(x) as tf.SymbolicTensor;
    y = bn(`block${s}_bn1`).apply(y) as tf.SymbolicTensor;
    y = tf.layers.reLU({ name: `block${s}_relu1` }).apply(y) as tf.SymbolicTensor;
    y = conv(filters, 3, `block${s}_conv2`).apply(y) as tf.SymbolicTensor;
    y = bn(`block${s}_bn2`).apply(y) as tf.SymbolicTensor;
    let shortcut = x;
    if (filters !== channels) {
      shortcut = conv(filters, 1, `block${s}_proj`).apply(x) as tf.SymbolicTensor;
      shortcut = bn(`block${s}_proj_bn`).apply(shortcut) as tf.SymbolicTensor;
    }
    x = tf.layers.add({ name: `block${s}_add` }).apply([y, shortcut]) as tf.SymbolicTensor;
    x = tf.layers.reLU({ name: `block${s}_relu2` }).apply(x) as tf.SymbolicTensor;
    channels = filters;
  }
  x = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as tf.SymbolicTensor;
  if (dropout > 0)
    x = new SeededDropout({ rate: dropout, seed: seed * 10 + 1, name: 'dropout' }).apply(x) as tf.SymbolicTensor;
  const outputs = tf.layers
    .dense({
      units: 2,
      activation: 'sigmoid',
      kernelInitializer: tf.initializers.glorotUniform({ seed: ++layerSeed }),
      name: 'output',
    })
    .apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs, outputs, name: 'realfake_resnet' });
}
