/**
 * Keras's Conv2D, trained as one fused kernel. While recording gradients, tfjs splits a Conv2D layer's
 * convolution, bias and ReLU into three ops and keeps all three outputs for the backward pass: at 128 px, batch
 * 32, the first layer alone holds 3 x 134 MB and makes two extra passes over them. tfjs's own fused kernel
 * (FusedConv2D, native on the native backend) computes the same values in one pass, and the gradient needs only
 * its output: ReLU's derivative is step(y), as tfjs's own fused-conv gradient uses. This layer is tfjs's Conv2D
 * (same class name, config, weights and saved form) with that training path for 2-D, undilated, NHWC
 * convolutions with a bias and a linear or ReLU activation; anything else, and inference, is tfjs's code.
 */
import * as tf from '@tensorflow/tfjs';

type LayerArgs = Parameters<typeof tf.layers.conv2d>[0];
/** tfjs does not export the Conv2D class itself, only its factory. */
const TfjsConv2D = tf.layers.conv2d({ filters: 1, kernelSize: 1 }).constructor as new (
  args: LayerArgs,
) => tf.layers.Layer;

/** The protected parts of tfjs's Conv2D this layer reads. */
interface ConvInternals {
  rank: number;
  kernel: tf.LayerVariable;
  bias: tf.LayerVariable | null;
  strides: number[];
  padding: 'valid' | 'same' | 'causal';
  dataFormat: 'channelsFirst' | 'channelsLast';
  dilationRate: number[];
  activation: { getClassName(): string };
}

export class Conv2D extends TfjsConv2D {
  static className = 'Conv2D';

  call(inputs: tf.Tensor | tf.Tensor[], kwargs: tf.serialization.ConfigDict): tf.Tensor | tf.Tensor[] {
    const self = this as unknown as ConvInternals;
    const activation = self.activation.getClassName();
    const fusable =
      tf.engine().state.gradientDepth > 0 &&
      self.rank === 2 &&
      self.dataFormat === 'channelsLast' &&
      self.dilationRate.every((d) => d === 1) &&
      self.bias !== null &&
      (self.padding === 'same' || self.padding === 'valid') &&
      (activation === 'relu' || activation === 'linear');
    if (!fusable) return super.call(inputs, kwargs);
    const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
    return convBiasActivation(
      x,
      self.kernel.read() as tf.Tensor4D,
      self.bias!.read() as tf.Tensor1D,
      [self.strides[0], self.strides[1]],
      self.padding as 'same' | 'valid',
      activation as 'relu' | 'linear',
    );
  }
}

/**
 * activation(conv2d(x, filter) + bias) as one FusedConv2D kernel. The gradient registered below is tfjs's
 * fused-conv2d gradient, keeping only x, filter and y for the backward pass.
 */
export function convBiasActivation(
  x: tf.Tensor4D,
  filter: tf.Tensor4D,
  bias: tf.Tensor1D,
  strides: [number, number],
  pad: 'same' | 'valid',
  activation: 'relu' | 'linear',
): tf.Tensor4D {
  const attrs = { strides, pad, dataFormat: 'NHWC', dilations: [1, 1], activation };
  return tf.engine().runKernel('FusedConv2D', { x, filter, bias }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

// tfjs gives the FusedConv2D kernel no gradient (its fused op wraps it in customGrad, which computes every
// input's gradient, the image's too). Registered per input, only what the training step needs is computed.
tf.registerGradient({
  kernelName: 'FusedConv2D',
  inputsToSave: ['x', 'filter'],
  outputsToSave: [true],
  gradFunc: (dy, saved, attrs) => {
    const [x, filter, y] = saved;
    const { strides, pad, activation } = attrs as unknown as {
      strides: [number, number];
      pad: 'same' | 'valid';
      activation: string;
    };
    if (activation !== 'relu' && activation !== 'linear') throw new Error(`FusedConv2D gradient: ${activation}`);
    const conv = { strides, pad, dataFormat: 'NHWC' };
    // One pass for dy * step(y), shared by the three gradients (it lives until the backward pass ends).
    const dya = activation === 'relu' ? tf.tidy(() => tf.mul(dy as tf.Tensor, tf.step(y))) : (dy as tf.Tensor);
    const run = (name: string, inputs: tf.NamedTensorMap, extra: Record<string, unknown>) =>
      tf.engine().runKernel(name, inputs, { ...conv, ...extra } as unknown as tf.NamedAttrMap) as tf.Tensor;
    return {
      x: () => run('Conv2DBackpropInput', { dy: dya, filter }, { inputShape: x.shape }),
      filter: () => run('Conv2DBackpropFilter', { x, dy: dya }, { filterShape: filter.shape }),
      bias: () => tf.sum(dya, [0, 1, 2]),
    };
  },
});

// Saved models name the class 'Conv2D' (as tfjs's does); loading them builds this one, so resumed runs train fused too.
tf.serialization.registerClass(Conv2D as unknown as tf.serialization.SerializableConstructor<tf.layers.Layer>);
