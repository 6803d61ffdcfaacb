/**
 * Building an ONNX graph from tfjs layers, the pieces every layer converter shares: the graph builder, attribute
 * helpers, convolutions with TF's padding written out, per-channel vectors, and what a converter is. Here, below
 * lib/infer, so that a model family can bring the converter of its own layer class (lib/model/families/family.ts);
 * lib/infer/onnx-export.ts converts the stock layers and writes the model.
 */
import * as tf from '@tensorflow/tfjs';
import { onnx } from 'onnx-proto';

export const FLOAT = onnx.TensorProto.DataType.FLOAT;
export const INT64 = onnx.TensorProto.DataType.INT64;
export const Attr = onnx.AttributeProto.AttributeType;

/** Where a value's axes are: image (NHWC as fed, NCHW inside the graph) or a flat [N, C] vector. */
export type Layout = 'NHWC' | 'NCHW' | 'flat';

/** Accumulates nodes and initializers; names every value uniquely. */
export class GraphBuilder {
  readonly nodes: onnx.INodeProto[] = [];
  readonly initializers: onnx.ITensorProto[] = [];
  private counter = 0;

  node(opType: string, inputs: string[], attributes: onnx.IAttributeProto[] = [], output?: string): string {
    const out = output ?? `${opType.toLowerCase()}_${++this.counter}`;
    this.nodes.push({ opType, input: inputs, output: [out], name: `${opType}_${this.counter}`, attribute: attributes });
    return out;
  }

  floats(name: string, values: Float32Array, dims: number[]): string {
    this.initializers.push({
      name,
      dataType: FLOAT,
      dims,
      rawData: new Uint8Array(values.buffer, values.byteOffset, values.byteLength),
    });
    return name;
  }

  int64s(name: string, values: number[]): string {
    this.initializers.push({ name, dataType: INT64, dims: [values.length], int64Data: values });
    return name;
  }
}

export const ints = (name: string, values: number[]): onnx.IAttributeProto => ({ name, type: Attr.INTS, ints: values });
export const int = (name: string, value: number): onnx.IAttributeProto => ({ name, type: Attr.INT, i: value });
export const pair = (v: number | number[]): [number, number] => (Array.isArray(v) ? [v[0], v[1] ?? v[0]] : [v, v]);

/** Kernel [kh, kw, in, out] (tfjs) as [out, in, kh, kw] (ONNX). */
function convKernel(kernel: tf.Tensor): Float32Array {
  return tf.tidy(() => kernel.transpose([3, 2, 0, 1]).dataSync() as Float32Array).slice();
}

/** TF 'same' padding for a stride-1 convolution: d*(k-1) in total, the smaller half first. */
function samePads(kernel: [number, number], dilation: [number, number]): number[] {
  const total = kernel.map((k, i) => dilation[i] * (k - 1));
  const before = total.map((t) => Math.floor(t / 2));
  return [before[0], before[1], total[0] - before[0], total[1] - before[1]];
}

export interface OnnxValue {
  name: string;
  layout: Layout;
}

/** Conv (+bias) in NCHW from a tfjs kernel [kh, kw, in, out]; TF padding written out for stride 1 'same'. */
export function convNode(
  graph: GraphBuilder,
  x: string,
  prefix: string,
  kernel: tf.Tensor,
  bias: tf.Tensor | undefined,
  opts: { stride?: number; dilation?: [number, number]; padding?: string; group?: number } = {},
): string {
  const kernelSize = [kernel.shape[0], kernel.shape[1]] as [number, number];
  const dilations = opts.dilation ?? [1, 1];
  const stride = opts.stride ?? 1;
  const padding = opts.padding ?? 'same';
  if (padding === 'same' && stride !== 1)
    throw new Error(`ONNX export: ${prefix}: 'same' padding with stride ${stride} is not supported`);
  const pads = padding === 'same' ? samePads(kernelSize, dilations) : [0, 0, 0, 0];
  const inputs = [
    x,
    graph.floats(`${prefix}.weight`, convKernel(kernel), [
      kernel.shape[3] as number,
      kernel.shape[2] as number,
      ...kernelSize,
    ]),
  ];
  if (bias) inputs.push(graph.floats(`${prefix}.bias`, bias.dataSync() as Float32Array, bias.shape));
  return graph.node('Conv', inputs, [
    ints('kernel_shape', kernelSize),
    ints('dilations', dilations),
    ints('strides', [stride, stride]),
    ints('pads', pads),
    int('group', opts.group ?? 1),
  ]);
}

/** A per-channel vector broadcast over NCHW ([C, 1, 1]) or flat ([C]) values. */
export function channelVector(graph: GraphBuilder, name: string, v: tf.Tensor | Float32Array, layout: Layout): string {
  const data = v instanceof Float32Array ? v : (v.dataSync() as Float32Array);
  return graph.floats(name, data, layout === 'NCHW' ? [data.length, 1, 1] : [data.length]);
}

/** Adds the ONNX ops of one tfjs layer, given the values of its inputs; returns its output value. */
export type OnnxLayerConverter = (graph: GraphBuilder, layer: tf.layers.Layer, inputs: OnnxValue[]) => OnnxValue;

/** A layer's name and class for messages, its first input, and a check that the input is an image. */
export function layerInput(layer: tf.layers.Layer, inputs: OnnxValue[]) {
  const where = `${layer.name} (${layer.getClassName()})`;
  const [{ name: x, layout }] = inputs;
  const image = () => {
    if (layout !== 'NCHW') throw new Error(`ONNX export: ${where} needs image input`);
  };
  return { where, x, layout, image };
}
