/**
 * Two custom Keras-style layers, registered for (de)serialisation so saved models load with tf.loadLayersModel
 * once this module is imported.
 *
 * DilatedConv2D: tfjs 4.22 has no gradient for dilated convolutions on any backend, so Conv2D(dilationRate: 2)
 * cannot train. A dilated convolution equals space-to-batch > ordinary convolution > batch-to-space, all of
 * which have gradients. Same weights, same outputs as Keras's Conv2D(..., dilation_rate=d, padding='same').
 *
 * SeededDropout: tfjs's Dropout either draws masks from an unseeded generator (runs are not reproducible)
 * or, given a seed, draws the *same* mask at every step. This one draws a fresh mask per training step from
 * (seed, step), for the whole global batch, and keeps the rows of the current shard: the same seed gives
 * the same training run, whether the batch is computed in one piece or split across workers.
 */
import * as tf from '@tensorflow/tfjs';

export interface DilatedConv2DArgs {
  filters: number;
  kernelSize: number;
  dilationRate: number;
  activation?: 'relu' | 'linear';
  seed?: number;
  name?: string;
  inputShape?: number[];
  trainable?: boolean;
}

export class DilatedConv2D extends tf.layers.Layer {
  static className = 'DilatedConv2D';
  private readonly args: Required<Pick<DilatedConv2DArgs, 'filters' | 'kernelSize' | 'dilationRate' | 'activation'>> & {
    seed?: number;
  };
  private kernel!: tf.LayerVariable;
  private bias!: tf.LayerVariable;

  constructor(args: DilatedConv2DArgs) {
    super(args as unknown as ConstructorParameters<typeof tf.layers.Layer>[0]);
    this.args = {
      filters: args.filters,
      kernelSize: args.kernelSize,
      dilationRate: args.dilationRate,
      activation: args.activation ?? 'linear',
      seed: args.seed,
    };
  }

  build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = inputShape as tf.Shape;
    const channels = shape[shape.length - 1] as number;
    const { kernelSize: k, filters } = this.args;
    this.kernel = this.addWeight(
      'kernel',
      [k, k, channels, filters],
      'float32',
      tf.initializers.glorotUniform({ seed: this.args.seed }),
    );
    this.bias = this.addWeight('bias', [filters], 'float32', tf.initializers.zeros());
    this.built = true;
  }

  computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = inputShape as tf.Shape;
    return [shape[0], shape[1], shape[2], this.args.filters];
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      const y = dilatedConv2dSame(x, this.kernel.read() as tf.Tensor4D, this.args.dilationRate).add(this.bias.read());
      return this.args.activation === 'relu' ? tf.relu(y) : y;
    });
  }

  getConfig(): tf.serialization.ConfigDict {
    const { filters, kernelSize, dilationRate, activation, seed } = this.args;
    return {
      ...super.getConfig(),
      filters,
      kernelSize,
      dilationRate,
      activation,
      ...(seed === undefined ? {} : { seed }),
    };
  }
}

/**
 * 'same'-padded stride-1 convolution with dilation d, as space-to-batch > valid conv > batch-to-space.
 * Padding follows TensorFlow's 'same': total d*(k-1), the smaller half on top/left.
 */
export function dilatedConv2dSame(x: tf.Tensor4D, kernel: tf.Tensor4D, d: number): tf.Tensor4D {
  if (d === 1) return tf.conv2d(x, kernel, 1, 'same');
  const [, h, w] = x.shape;
  const k = kernel.shape[0];
  const total = d * (k - 1);
  const before = Math.floor(total / 2);
  const after = total - before;
  // Pad up to a multiple of d so the input splits evenly into d*d phases; the surplus is cropped after.
  const extraH = (d - ((h + total) % d)) % d;
  const extraW = (d - ((w + total) % d)) % d;
  const phases = tf.spaceToBatchND(
    x,
    [d, d],
    [
      [before, after + extraH],
      [before, after + extraW],
    ],
  );
  const convolved = tf.conv2d(phases as tf.Tensor4D, kernel, 1, 'valid');
  return tf.batchToSpaceND(
    convolved,
    [d, d],
    [
      [0, extraH],
      [0, extraW],
    ],
  ) as tf.Tensor4D;
}

/** Where a training step is: SeededDropout reads it to draw its masks. */
export interface DropoutStep {
  /** Global training step (one per optimizer update). */
  step: number;
  /** The batch's full size across all shards, and the first row of this shard within it. */
  globalBatchSize: number;
  rowOffset: number;
}

let currentStep: DropoutStep | null = null;

/** The training loop sets this before each step; null between steps. */
export function setDropoutStep(step: DropoutStep | null): void {
  currentStep = step;
}

export interface SeededDropoutArgs {
  rate: number;
  seed: number;
  name?: string;
}

export class SeededDropout extends tf.layers.Layer {
  static className = 'SeededDropout';
  readonly rate: number;
  readonly seed: number;
  /** Used when no training loop sets the step (e.g. someone calls model.fit directly). */
  private fallbackStep = 0;

  constructor(args: SeededDropoutArgs) {
    super(args as unknown as ConstructorParameters<typeof tf.layers.Layer>[0]);
    this.rate = args.rate;
    this.seed = args.seed;
  }

  call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (!kwargs.training || this.rate === 0) return x;
    return tf.tidy(() => {
      const batch = x.shape[0] as number;
      const step = currentStep ?? { step: this.fallbackStep++, globalBatchSize: batch, rowOffset: 0 };
      const maskShape = [step.globalBatchSize, ...x.shape.slice(1)];
      // Distinct per (layer seed, step); stays well inside the integers seedrandom handles exactly.
      const stepSeed = (this.seed * 1_000_003 + step.step) % 2_147_483_647;
      const keep = tf.randomUniform(maskShape, 0, 1, 'float32', stepSeed).greaterEqual(this.rate);
      const rows = keep.slice(step.rowOffset, batch);
      return x.mul(rows.cast('float32')).div(1 - this.rate);
    });
  }

  getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate, seed: this.seed };
  }
}

tf.serialization.registerClass(DilatedConv2D);
tf.serialization.registerClass(SeededDropout);
