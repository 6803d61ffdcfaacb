/**
 * FaceResNetBackbone: the face-recognition ResNet of `@vladmandic/face-api` (dlib's ResNet-29 face descriptor
 * net, MIT-licensed package; weights ship inside it as model/face_recognition_model.bin), re-built here as one
 * frozen tfjs layer so it saves, reloads and exports with the rest of a realfake model.
 *
 * Architecture, as face-api's FaceRecognitionNet.forwardInput (dist/face-api.node-wasm.js):
 *   (x*255 - mean RGB [122.782, 117.001, 104.298]) / 255
 *   conv7x7/2 'valid' + per-channel scale + ReLU > maxpool 3/2 'valid'
 *   3 x res(32) > resDown(64) + 3 x res(64) > resDown(128) + 2 x res(128) > resDown(256) + 2 x res(256) > resDown(256)
 * res: conv3x3-scale-ReLU, conv3x3-scale, + x, ReLU. resDown: conv3x3/2 'valid' first; the shortcut is a 2x2
 * average pool, zero-padded to the new width. Each conv has a bias and a per-channel affine "scale".
 *
 * Output: the global average of every stage's activations, concatenated (32+64+128+256+256 = 736 features);
 * with pooling 'meanstd', then each channel's standard deviation over the image in the same order (1,472).
 * Face-recognition features are trained to ignore a face's rendering; the earlier stages keep texture,
 * which is where a generator's traces live, so all stages are pooled, and the spread of a channel (how
 * unevenly a texture fires across the face) separates the classes better than its mean alone (measured on
 * faces-dev, see README).
 * The weights are read from the npm package only when a model is first built; a saved model carries them.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import type { FacePooling } from '../config';

const MEAN_RGB = [122.782, 117.001, 104.298];

/** The residual units in order: [name, down-sampling]. */
export const FACE_RESNET_UNITS: ReadonlyArray<[string, boolean]> = [
  ['conv32_1', false],
  ['conv32_2', false],
  ['conv32_3', false],
  ['conv64_down', true],
  ['conv64_1', false],
  ['conv64_2', false],
  ['conv64_3', false],
  ['conv128_down', true],
  ['conv128_1', false],
  ['conv128_2', false],
  ['conv256_down', true],
  ['conv256_1', false],
  ['conv256_2', false],
  ['conv256_down_out', true],
];
/** Units after which a stage ends (its activations are pooled into the features). */
export const FACE_RESNET_STAGE_ENDS = ['conv32_3', 'conv64_3', 'conv128_2', 'conv256_2', 'conv256_down_out'];
/** Channels pooled per statistic (the five stages' widths). */
export const FACE_FEATURE_COUNT = 32 + 64 + 128 + 256 + 256;

/** Length of the backbone's feature vector for a pooling. */
export function faceFeatureCount(pooling: FacePooling): number {
  return pooling === 'meanstd' ? 2 * FACE_FEATURE_COUNT : FACE_FEATURE_COUNT;
}

/** Names of the conv+scale groups in weight order: conv32_down, then conv1 and conv2 of each unit. */
export function faceResnetConvNames(): string[] {
  return ['conv32_down', ...FACE_RESNET_UNITS.flatMap(([unit]) => [`${unit}/conv1`, `${unit}/conv2`])];
}

/** Where @vladmandic/face-api keeps its model files. */
export function faceApiModelDir(): string {
  let pkg: string;
  try {
    pkg = require.resolve('@vladmandic/face-api/package.json');
  } catch {
    throw new Error('model family facefeat needs the npm package @vladmandic/face-api (npm ci installs it)');
  }
  return path.join(path.dirname(pkg), 'model');
}

/** face-api's face-recognition weights, dequantised, by name (conv32_down/conv/filters, .../scale/weights ...). */
export function loadFaceApiWeights(dir = faceApiModelDir()): Record<string, tf.Tensor> {
  const manifestFile = path.join(dir, 'face_recognition_model-weights_manifest.json');
  const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as Array<{
    paths: string[];
    weights: tf.io.WeightsManifestEntry[];
  }>;
  const out: Record<string, tf.Tensor> = {};
  for (const group of manifest) {
    const buffers = group.paths.map((p) => fs.readFileSync(path.join(dir, p)));
    const all = Buffer.concat(buffers);
    Object.assign(
      out,
      tf.io.decodeWeights(
        all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer,
        group.weights,
      ),
    );
  }
  return out;
}

interface ConvWeights {
  filters: tf.LayerVariable;
  bias: tf.LayerVariable;
  scale: tf.LayerVariable;
  shift: tf.LayerVariable;
}

export class FaceResNetBackbone extends tf.layers.Layer {
  static className = 'FaceResNetBackbone';
  private convs: Record<string, ConvWeights> = {};
  readonly pooling: FacePooling;

  constructor(args: { name?: string; trainable?: boolean; pooling?: FacePooling } = {}) {
    const { pooling = 'mean', ...rest } = args;
    super({ ...rest, trainable: rest.trainable ?? false } as unknown as ConstructorParameters<
      typeof tf.layers.Layer
    >[0]);
    // Models saved before pooling existed have no such field: they pooled means.
    this.pooling = pooling;
  }

  getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), pooling: this.pooling };
  }

  build(): void {
    // Shapes come from the weights themselves; a reloaded model's saved values overwrite these.
    const pretrained = loadFaceApiWeights();
    for (const name of faceResnetConvNames()) {
      const get = (suffix: string) => {
        const t = pretrained[`${name}/${suffix}`];
        if (!t) throw new Error(`face-api weights: ${name}/${suffix} missing`);
        return t;
      };
      const make = (suffix: string, label: string) => {
        const value = get(suffix);
        return this.addWeight(
          `${name.replace('/', '_')}_${label}`,
          value.shape,
          'float32',
          tf.initializers.zeros(),
          undefined,
          false,
        );
      };
      const w: ConvWeights = {
        filters: make('conv/filters', 'filters'),
        bias: make('conv/bias', 'bias'),
        scale: make('scale/weights', 'scale'),
        shift: make('scale/biases', 'shift'),
      };
      w.filters.write(get('conv/filters'));
      w.bias.write(get('conv/bias'));
      w.scale.write(get('scale/weights'));
      w.shift.write(get('scale/biases'));
      this.convs[name] = w;
    }
    tf.dispose(Object.values(pretrained));
    this.built = true;
  }

  computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return [(inputShape as tf.Shape)[0], faceFeatureCount(this.pooling)];
  }

  private convScale(x: tf.Tensor4D, name: string, stride: number, relu: boolean, pad: 'same' | 'valid'): tf.Tensor4D {
    const w = this.convs[name];
    const y = tf
      .conv2d(x, w.filters.read() as tf.Tensor4D, stride, pad)
      .add(w.bias.read())
      .mul(w.scale.read())
      .add(w.shift.read()) as tf.Tensor4D;
    return relu ? tf.relu(y) : y;
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      let a = x.sub(tf.tensor1d(MEAN_RGB.map((m) => m / 255))) as tf.Tensor4D;
      a = this.convScale(a, 'conv32_down', 2, true, 'valid');
      a = tf.maxPool(a, 3, 2, 'valid');
      const means: tf.Tensor[] = [];
      const stds: tf.Tensor[] = [];
      for (const [unit, down] of FACE_RESNET_UNITS) {
        let y = this.convScale(a, `${unit}/conv1`, down ? 2 : 1, true, down ? 'valid' : 'same');
        y = this.convScale(y, `${unit}/conv2`, 1, false, 'same');
        let shortcut = a;
        if (down) {
          shortcut = tf.avgPool(a, 2, 2, 'valid');
          // face-api pads the residual branch with a zero row and column when the pooled shortcut is larger.
          const padH = shortcut.shape[1] - y.shape[1];
          const padW = shortcut.shape[2] - y.shape[2];
          if (padH || padW)
            y = tf.pad(y, [
              [0, 0],
              [0, padH],
              [0, padW],
              [0, 0],
            ]) as tf.Tensor4D;
          const extra = y.shape[3] - shortcut.shape[3];
          if (extra)
            shortcut = tf.pad(shortcut, [
              [0, 0],
              [0, 0],
              [0, 0],
              [0, extra],
            ]) as tf.Tensor4D;
        }
        a = tf.relu(y.add(shortcut)) as tf.Tensor4D;
        if (FACE_RESNET_STAGE_ENDS.includes(unit)) {
          const mean = a.mean([1, 2], true);
          means.push(mean.squeeze([1, 2]));
          // Population standard deviation from the squared deviations (not E[x^2] - E[x]^2, which cancels badly);
          // the ONNX export computes it the same way.
          if (this.pooling === 'meanstd') stds.push(a.sub(mean).square().mean([1, 2]).sqrt());
        }
      }
      return tf.concat([...means, ...stds], 1);
    });
  }
}

tf.serialization.registerClass(FaceResNetBackbone);
