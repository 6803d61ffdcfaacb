/**
 * The study's CNN, layer for layer (653,314 parameters at 128x128x3):
 *   3 x [Conv2D(64, 5x5, same, relu) > MaxPool 2]
 *   Conv2D(32, 3x3, same, dilation 2, relu) > MaxPool 2
 *   2 x [Conv2D(16, 3x3, same, dilation 2, relu) > MaxPool 2]
 *   GlobalAveragePooling
 *   Dense 400 > Dropout > ReLU > Dense 512 > Dropout > ReLU > Dense 400 > Dropout > ReLU > Dense 2 > sigmoid
 * Two sigmoid outputs trained with binary cross-entropy on one-hot labels, as in the study. Its verdict is the
 * argmax, so realfake's fake score is pFake = p1 / (p0 + p1): pFake >= 0.5 exactly when the study says "fake".
 */
import * as tf from '@tensorflow/tfjs';
import { Conv2D } from './fused-conv';
import { DilatedConv2D, SeededDropout } from './layers';

export interface ModelOptions {
  imageSize: number;
  dropout: number;
  seed: number;
}

export const STUDY_PARAMETER_COUNT = 653_314;

export function buildModel({ imageSize, dropout, seed }: ModelOptions): tf.LayersModel {
  // Each layer gets its own seed so initial weights are reproducible and not all alike.
  let layerSeed = seed * 100;
  const init = () => tf.initializers.glorotUniform({ seed: ++layerSeed });
  const model = tf.sequential({ name: 'realfake_cnn' });
  for (let i = 0; i < 3; i++) {
    model.add(
      new Conv2D({
        ...(i === 0 ? { inputShape: [imageSize, imageSize, 3] } : {}),
        filters: 64,
        kernelSize: 5,
        padding: 'same',
        activation: 'relu',
        kernelInitializer: init(),
        name: `conv${i + 1}`,
      }),
    );
    model.add(tf.layers.maxPooling2d({ poolSize: 2, name: `pool${i + 1}` }));
  }
  const dilated: Array<[number, string]> = [
    [32, 'conv4'],
    [16, 'conv5'],
    [16, 'conv6'],
  ];
  dilated.forEach(([filters, name], i) => {
    model.add(
      new DilatedConv2D({ filters, kernelSize: 3, dilationRate: 2, activation: 'relu', seed: ++layerSeed, name }),
    );
    model.add(tf.layers.maxPooling2d({ poolSize: 2, name: `pool${i + 4}` }));
  });
  model.add(tf.layers.globalAveragePooling2d({ name: 'gap' }));
  [400, 512, 400].forEach((units, i) => {
    model.add(tf.layers.dense({ units, kernelInitializer: init(), name: `dense${i + 1}` }));
    model.add(new SeededDropout({ rate: dropout, seed: seed * 10 + i + 1, name: `dropout${i + 1}` }));
    model.add(tf.layers.activation({ activation: 'relu', name: `relu${i + 1}` }));
  });
  model.add(tf.layers.dense({ units: 2, activation: 'sigmoid', kernelInitializer: init(), name: 'output' }));
  return model;
}

export interface LayerRow {
  name: string;
  type: string;
  outputShape: string;
  params: number;
}

/** The rows of a Keras-style model.summary(), as data (for tables and notebooks). */
export function modelSummaryRows(model: tf.LayersModel): LayerRow[] {
  return model.layers.map((layer) => ({
    name: layer.name,
    type: layer.getClassName(),
    outputShape: JSON.stringify(layer.outputShape).replace(/null/g, 'None'),
    params: layer.countParams(),
  }));
}

export function modelSummaryText(model: tf.LayersModel): string {
  const rows = modelSummaryRows(model);
  const widths = [22, 16, 22, 10];
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join(' ')
      .trimEnd();
  const total = rows.reduce((s, r) => s + r.params, 0);
  return [
    line(['Layer', 'Type', 'Output shape', 'Params']),
    '-'.repeat(72),
    ...rows.map((r) => line([r.name, r.type, r.outputShape, r.params.toLocaleString('en-US')])),
    '-'.repeat(72),
    `Total params: ${total.toLocaleString('en-US')}`,
  ].join('\n');
}

/** pFake per row from the model's two sigmoid outputs [p(real), p(fake)]. */
export function fakeScores(outputs: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const [pReal, pFake] = tf.split(outputs, 2, 1);
    return pFake.div(pReal.add(pFake).maximum(1e-12)).reshape([-1]) as tf.Tensor1D;
  });
}
