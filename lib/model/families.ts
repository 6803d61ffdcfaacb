/**
 * The model families a config can choose (config.model), all tfjs layers models taking [N, H, W, 3] pixels in
 * [0, 1] and giving two sigmoids [p(real), p(fake)]:
 *   study     the study's CNN, exact (lib/model/model.ts); with input != 'unit', an InputTransform goes first.
 *   resnet    a small BatchNorm ResNet (lib/model/resnet.ts), config.width / config.depth / config.input.
 *   facefeat  face-api's face-recognition ResNet, frozen (lib/model/face-backbone.ts), with a trained head:
 *             BatchNorm over its 736 pooled features > dropout > two sigmoids (a logistic regression).
 */
import * as tf from '@tensorflow/tfjs';
import type { Config } from '../config';
import { FaceResNetBackbone, faceFeatureCount } from './face-backbone';
import { InputTransform } from './input-transform';
import { SeededDropout } from './layers';
import { buildModel } from './model';
import { buildResNet } from './resnet';

export type FamilyOptions = Pick<
  Config,
  'model' | 'imageSize' | 'dropout' | 'seed' | 'input' | 'width' | 'depth' | 'facePooling'
>;

/** The classifier head of the facefeat family, on its own (trained on cached backbone features). */
export function buildFaceHead(options: Pick<Config, 'dropout' | 'seed' | 'facePooling'>): tf.Sequential {
  const head = tf.sequential({ name: 'facefeat_head' });
  head.add(
    tf.layers.batchNormalization({
      inputShape: [faceFeatureCount(options.facePooling)],
      momentum: 0.9,
      epsilon: 1e-3,
      name: 'head_bn',
    }),
  );
  if (options.dropout > 0)
    head.add(new SeededDropout({ rate: options.dropout, seed: options.seed * 10 + 1, name: 'head_dropout' }));
  head.add(
    tf.layers.dense({
      units: 2,
      activation: 'sigmoid',
      kernelInitializer: tf.initializers.glorotUniform({ seed: options.seed * 100 + 1 }),
      name: 'output',
    }),
  );
  return head;
}

/** The backbone + head as one model whose layers are the head's own (trained head weights are shared). */
export function assembleFaceModel(
  imageSize: number | null,
  head: tf.LayersModel,
  pooling: Config['facePooling'] = 'mean',
): tf.LayersModel {
  const inputs = tf.input({ shape: [imageSize, imageSize, 3], name: 'image' });
  let x = new FaceResNetBackbone({ name: 'face_backbone', pooling }).apply(inputs) as tf.SymbolicTensor;
  for (const layer of head.layers) x = layer.apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs, outputs: x, name: 'realfake_facefeat' });
}

export function buildFamilyModel(config: FamilyOptions): tf.LayersModel {
  switch (config.model) {
    case 'study': {
      const model = buildModel(config);
      if (config.input === 'unit') return model;
      // The study's layers after an input transform (the exact study model is the input === 'unit' case).
      const inputs = tf.input({ shape: [config.imageSize, config.imageSize, 3], name: 'image' });
      let x = new InputTransform({ mode: config.input, name: 'input_transform' }).apply(inputs) as tf.SymbolicTensor;
      for (const layer of model.layers)
        if (layer.getClassName() !== 'InputLayer') x = layer.apply(x) as tf.SymbolicTensor;
      return tf.model({ inputs, outputs: x, name: `realfake_cnn_${config.input}` });
    }
    case 'resnet':
      return buildResNet({ ...config, imageSize: config.imageSize });
    case 'facefeat':
      return assembleFaceModel(config.imageSize, buildFaceHead(config), config.facePooling);
  }
}
