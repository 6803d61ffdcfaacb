/**
 * InputTransform: the first layer of every non-study model, so the pipeline always feeds [0, 1] pixels and
 * the saved model (and its ONNX export) carries its own preprocessing.
 *   unit      identity: the study's /255 scaling, done by the pipeline.
 *   rgb       (x - 0.5) / 0.25: roughly zero-mean, unit-scale channels.
 *   npr       neighbouring-pixel residual (Tan et al., CVPR 2024): x minus its 2x nearest down-up-sampled copy,
 *             i.e. each pixel minus the top-left pixel of its 2x2 block; exposes up-sampling traces.
 *             Needs even height and width.
 *   highpass  a fixed 3x3 second-order high-pass per channel (the SRM "KV"-style residual, normalised by 4).
 */
import * as tf from '@tensorflow/tfjs';
import type { InputMode } from '../config';

/** The high-pass kernel, row-major 3x3. */
export const HIGHPASS_KERNEL: readonly number[] = [-1, 2, -1, 2, -4, 2, -1, 2, -1].map((v) => v / 4);

/** NPR on an NHWC batch: x - nearest_up(x[:, ::2, ::2]). */
export function nprResidual(x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, h, w, c] = x.shape;
    if (h % 2 || w % 2) throw new Error(`npr input needs even height and width (got ${h}x${w})`);
    const corners = tf.stridedSlice(x, [0, 0, 0, 0], [n, h, w, c], [1, 2, 2, 1]) as tf.Tensor4D;
    // Nearest 2x up-sampling as a broadcast: [n, h/2, 1, w/2, 1, c] tiled to [n, h/2, 2, w/2, 2, c].
    const up = corners
      .reshape([n, h / 2, 1, w / 2, 1, c])
      .tile([1, 1, 2, 1, 2, 1])
      .reshape([n, h, w, c]);
    return x.sub(up);
  });
}

export function highpass(x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const c = x.shape[3];
    const k = tf
      .tensor2d(HIGHPASS_KERNEL as number[], [3, 3])
      .reshape([3, 3, 1, 1])
      .tile([1, 1, c, 1]) as tf.Tensor4D;
    return tf.depthwiseConv2d(x, k, 1, 'same');
  });
}

export function applyInputMode(x: tf.Tensor4D, mode: InputMode): tf.Tensor4D {
  switch (mode) {
    case 'unit':
      return x;
    case 'rgb':
      return tf.tidy(() => x.sub(0.5).div(0.25));
    case 'npr':
      return nprResidual(x);
    case 'highpass':
      return highpass(x);
  }
}

export class InputTransform extends tf.layers.Layer {
  static className = 'InputTransform';
  readonly mode: InputMode;

  constructor(args: { mode: InputMode; name?: string; inputShape?: number[] }) {
    super(args as unknown as ConstructorParameters<typeof tf.layers.Layer>[0]);
    this.mode = args.mode;
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
    return applyInputMode(x, this.mode);
  }

  getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), mode: this.mode };
  }
}

tf.serialization.registerClass(InputTransform);
