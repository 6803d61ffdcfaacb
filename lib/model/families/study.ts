/**
 * study: the study's CNN, exact (lib/model/model.ts); with input != 'unit', an InputTransform goes first. Its
 * layers are all lib/model's shared ones, so it brings no layer class of its own. No BatchNorm, so data-parallel
 * worker replicas train it exactly.
 */
import * as tf from '@tensorflow/tfjs';
import { InputTransform } from '../input-transform';
import { buildModel } from '../model';
import type { ModelFamily } from './family';

export const study: ModelFamily = {
  name: 'study',
  build(config) {
    const model = buildModel(config);
    if (config.input === 'unit') return model;
    // The study's layers after an input transform (the exact study model is the input === 'unit' case).
    const inputs = tf.input({ shape: [config.imageSize, config.imageSize, 3], name: 'image' });
    let x = new InputTransform({ mode: config.input, name: 'input_transform' }).apply(inputs) as tf.SymbolicTensor;
    for (const layer of model.layers)
      if (layer.getClassName() !== 'InputLayer') x = layer.apply(x) as tf.SymbolicTensor;
    return tf.model({ inputs, outputs: x, name: `realfake_cnn_${config.input}` });
  },
  training: { kind: 'end-to-end' },
  dataParallel: true,
};
