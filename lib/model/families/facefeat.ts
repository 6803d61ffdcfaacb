/**
 * facefeat: face-api's face-recognition ResNet, frozen (lib/model/face-backbone.ts), with a trained head:
 * BatchNorm over its pooled features (736, or 1,472 with facePooling 'meanstd') > dropout > two sigmoids (a
 * logistic regression). The backbone is fixed, so the head trains on each image's cached backbone features
 * (the frozen-backbone plan). Its backbone pools every stage over the whole image, so it scores any input size;
 * its ONNX ops are below, for the input size the model was built at.
 */
import * as tf from '@tensorflow/tfjs';
import type { Config } from '../../config';
import { FACE_RESNET_STAGE_ENDS, FACE_RESNET_UNITS, FaceResNetBackbone, faceFeatureCount } from '../face-backbone';
import { SeededDropout } from '../layers';
import { channelVector, convNode, GraphBuilder, int, ints, layerInput, type OnnxLayerConverter } from '../onnx-graph';
import type { ModelFamily } from './family';

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

/** FaceResNetBackbone (lib/model/face-backbone.ts) as ONNX ops, for a fixed input size. */
function faceBackboneOps(graph: GraphBuilder, x: string, layer: tf.layers.Layer, size: number, where: string): string {
  const pooling = (layer.getConfig() as { pooling?: string }).pooling ?? 'mean';
  const w = new Map(layer.weights.map((v, i) => [v.originalName.split('/').pop()!, layer.getWeights()[i]]));
  let spatial = size;
  const convScale = (input: string, name: string, stride: number, relu: boolean, padding: string) => {
    const key = name.replace('/', '_');
    const y = convNode(graph, input, `${where}.${key}`, w.get(`${key}_filters`)!, w.get(`${key}_bias`), {
      stride,
      padding,
    });
    const scaled = graph.node('Add', [
      graph.node('Mul', [y, channelVector(graph, `${where}.${key}.scale`, w.get(`${key}_scale`)!, 'NCHW')]),
      channelVector(graph, `${where}.${key}.shift`, w.get(`${key}_shift`)!, 'NCHW'),
    ]);
    return relu ? graph.node('Relu', [scaled]) : scaled;
  };
  let a = graph.node('Sub', [
    x,
    channelVector(graph, `${where}.mean`, Float32Array.of(122.782 / 255, 117.001 / 255, 104.298 / 255), 'NCHW'),
  ]);
  a = convScale(a, 'conv32_down', 2, true, 'valid');
  spatial = Math.floor((spatial - 7) / 2) + 1;
  a = graph.node('MaxPool', [a], [ints('kernel_shape', [3, 3]), ints('strides', [2, 2])]);
  spatial = Math.floor((spatial - 3) / 2) + 1;
  let channels = 32;
  const means: string[] = [];
  const stds: string[] = [];
  for (const [unit, down] of FACE_RESNET_UNITS) {
    let y = convScale(a, `${unit}/conv1`, down ? 2 : 1, true, down ? 'valid' : 'same');
    y = convScale(y, `${unit}/conv2`, 1, false, 'same');
    let shortcut = a;
    if (down) {
      const outChannels = w.get(`${unit}_conv2_filters`)!.shape[3] as number;
      const conv = Math.floor((spatial - 3) / 2) + 1;
      const pool = Math.floor((spatial - 2) / 2) + 1;
      shortcut = graph.node('AveragePool', [a], [ints('kernel_shape', [2, 2]), ints('strides', [2, 2])]);
      if (pool > conv)
        y = graph.node('Pad', [y, graph.int64s(`${where}.${unit}.pad`, [0, 0, 0, 0, 0, 0, pool - conv, pool - conv])]);
      if (outChannels > channels)
        shortcut = graph.node('Pad', [
          shortcut,
          graph.int64s(`${where}.${unit}.cpad`, [0, 0, 0, 0, 0, outChannels - channels, 0, 0]),
        ]);
      spatial = pool;
      channels = outChannels;
    }
    a = graph.node('Relu', [graph.node('Add', [y, shortcut])]);
    if (FACE_RESNET_STAGE_ENDS.includes(unit)) {
      means.push(graph.node('ReduceMean', [a], [ints('axes', [2, 3]), int('keepdims', 0)]));
      if (pooling === 'meanstd') {
        // As the tfjs layer: sqrt(mean((a - mean(a))^2)) over the image, per channel.
        const centred = graph.node('Sub', [
          a,
          graph.node('ReduceMean', [a], [ints('axes', [2, 3]), int('keepdims', 1)]),
        ]);
        const variance = graph.node(
          'ReduceMean',
          [graph.node('Mul', [centred, centred])],
          [ints('axes', [2, 3]), int('keepdims', 0)],
        );
        stds.push(graph.node('Sqrt', [variance]));
      }
    }
  }
  return graph.node('Concat', [...means, ...stds], [int('axis', 1)]);
}

const faceBackboneOnnx: OnnxLayerConverter = (graph, layer, inputs) => {
  const { where, x, image } = layerInput(layer, inputs);
  image();
  const shapes = layer.inboundNodes[0].inputShapes as unknown as Array<number | null> | Array<Array<number | null>>;
  const size = (Array.isArray(shapes[0]) ? shapes[0] : shapes)[1];
  if (typeof size !== 'number') throw new Error(`ONNX export: ${where} needs a fixed input size`);
  return { name: faceBackboneOps(graph, x, layer, size, layer.name), layout: 'flat' };
};

export const facefeat: ModelFamily = {
  name: 'facefeat',
  build: (config) => assembleFaceModel(config.imageSize, buildFaceHead(config), config.facePooling),
  training: {
    kind: 'frozen-backbone',
    backbone: 'face_backbone',
    // The backbone's weights are fixed: its input size and pooling decide its output.
    featureTag: (config) => `${config.imageSize}px-${config.facePooling}`,
  },
  dataParallel: false,
  layers: { FaceResNetBackbone: { sizing: 'global-pooling', onnx: faceBackboneOnnx } },
};
