/**
 * Writes a trained realfake model as ONNX, so onnxruntime can run inference on all cores (lib/infer/onnx-engine.ts).
 *
 * The graph is built layer by layer from the tfjs model (sequential models of the layers realfake uses):
 *   input "input" NHWC [N, H, W, 3] float32 in [0, 1] > one Transpose to NCHW (ONNX's convolution layout)
 *   Conv2D, DilatedConv2D > Conv (with dilations; TF 'same' padding written out explicitly) [> Relu]
 *   MaxPooling2D > MaxPool; GlobalAveragePooling2D > GlobalAveragePool + Flatten; Dense > Gemm [> activation]
 *   Dropout, SeededDropout > nothing (identity at inference)
 * Outputs: "probabilities" [N, 2] (the two sigmoids) and "pFake" [N] = p1 / max(p0 + p1, 1e-12), as fakeScores.
 * The sha256 of the source model.json (which names its weights file by content hash) is stored in the
 * metadata, so a stale export is recognised after retraining (onnxExportIsCurrent).
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { onnx } from 'onnx-proto';
import { writeFileAtomic } from '../files';
import { loadModel } from '../model/model-io';
import { FACE_RESNET_STAGE_ENDS, FACE_RESNET_UNITS } from '../model/face-backbone';
import { HIGHPASS_KERNEL } from '../model/input-transform';

const OPSET = 13;
const SOURCE_KEY = 'realfake.modelJsonSha256';
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;
const Attr = onnx.AttributeProto.AttributeType;

export const ONNX_FILE = 'model.onnx';

type Layout = 'NHWC' | 'NCHW' | 'flat';

/** Accumulates nodes and initializers; names every value uniquely. */
class GraphBuilder {
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

const ints = (name: string, values: number[]): onnx.IAttributeProto => ({ name, type: Attr.INTS, ints: values });
const int = (name: string, value: number): onnx.IAttributeProto => ({ name, type: Attr.INT, i: value });
const pair = (v: number | number[]): [number, number] => (Array.isArray(v) ? [v[0], v[1] ?? v[0]] : [v, v]);

/** Kernel [kh, kw, in, out] (tfjs) as [out, in, kh, kw] (ONNX). */
function convKernel(kernel: tf.Tensor): Float32Array {
  return tf.tidy(() => kernel.transpose([3, 2, 0, 1]).dataSync() as Float32Array).slice();
}

function activation(graph: GraphBuilder, x: string, name: string | undefined, layer: string, layout: Layout): string {
  switch (name ?? 'linear') {
    case 'linear':
      return x;
    case 'relu':
      return graph.node('Relu', [x]);
    case 'sigmoid':
      return graph.node('Sigmoid', [x]);
    case 'tanh':
      return graph.node('Tanh', [x]);
    case 'softmax':
      if (layout !== 'flat') break;
      return graph.node('Softmax', [x], [int('axis', -1)]);
  }
  throw new Error(`ONNX export: layer ${layer}: activation ${name} is not supported here`);
}

/** TF 'same' padding for a stride-1 convolution: d*(k-1) in total, the smaller half first. */
function samePads(kernel: [number, number], dilation: [number, number]): number[] {
  const total = kernel.map((k, i) => dilation[i] * (k - 1));
  const before = total.map((t) => Math.floor(t / 2));
  return [before[0], before[1], total[0] - before[0], total[1] - before[1]];
}

interface Value {
  name: string;
  layout: Layout;
}

/** Conv (+bias) in NCHW from a tfjs kernel [kh, kw, in, out]; TF padding written out for stride 1 'same'. */
function convNode(
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
function channelVector(graph: GraphBuilder, name: string, v: tf.Tensor | Float32Array, layout: Layout): string {
  const data = v instanceof Float32Array ? v : (v.dataSync() as Float32Array);
  return graph.floats(name, data, layout === 'NCHW' ? [data.length, 1, 1] : [data.length]);
}

/** InputTransform (lib/model/input-transform.ts) on an NCHW value. */
function inputTransform(graph: GraphBuilder, x: string, mode: string, channels: number, where: string): string {
  switch (mode) {
    case 'unit':
      return x;
    case 'rgb':
      return graph.node('Div', [
        graph.node('Sub', [x, graph.floats(`${where}.half`, Float32Array.of(0.5), [])]),
        graph.floats(`${where}.quarter`, Float32Array.of(0.25), []),
      ]);
    case 'npr': {
      const big = graph.int64s(`${where}.ends`, [2 ** 31 - 1, 2 ** 31 - 1]);
      const corners = graph.node('Slice', [
        x,
        graph.int64s(`${where}.starts`, [0, 0]),
        big,
        graph.int64s(`${where}.axes`, [2, 3]),
        graph.int64s(`${where}.steps`, [2, 2]),
      ]);
      const up = graph.node(
        'Resize',
        [corners, '', graph.floats(`${where}.scales`, Float32Array.of(1, 1, 2, 2), [4])],
        [
          { name: 'mode', type: Attr.STRING, s: new TextEncoder().encode('nearest') },
          { name: 'coordinate_transformation_mode', type: Attr.STRING, s: new TextEncoder().encode('asymmetric') },
          { name: 'nearest_mode', type: Attr.STRING, s: new TextEncoder().encode('floor') },
        ],
      );
      return graph.node('Sub', [x, up]);
    }
    case 'highpass': {
      const kernel = new Float32Array(channels * 9);
      for (let c = 0; c < channels; c++) kernel.set(HIGHPASS_KERNEL, c * 9);
      return graph.node(
        'Conv',
        [x, graph.floats(`${where}.weight`, kernel, [channels, 1, 3, 3])],
        [ints('kernel_shape', [3, 3]), ints('pads', [1, 1, 1, 1]), int('group', channels)],
      );
    }
  }
  throw new Error(`ONNX export: ${where}: input mode ${mode} is not supported`);
}

/** FaceResNetBackbone (lib/model/face-backbone.ts) as ONNX ops, for a fixed input size. */
function faceBackbone(graph: GraphBuilder, x: string, layer: tf.layers.Layer, size: number, where: string): string {
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

function exportLayer(graph: GraphBuilder, layer: tf.layers.Layer, inputs: Value[]): Value {
  const config = layer.getConfig() as Record<string, unknown>;
  const className = layer.getClassName();
  const weights = layer.getWeights();
  const where = `${layer.name} (${className})`;
  const [{ name: x, layout }] = inputs;
  const image = () => {
    if (layout !== 'NCHW') throw new Error(`ONNX export: ${where} needs image input`);
  };
  switch (className) {
    case 'InputLayer':
    case 'Dropout':
    case 'SeededDropout':
      return inputs[0];
    case 'InputTransform':
      image();
      return {
        name: inputTransform(
          graph,
          x,
          config.mode as string,
          (layer.inputSpec?.[0]?.shape?.[3] as number | undefined) ?? 3,
          layer.name,
        ),
        layout,
      };
    case 'FaceResNetBackbone': {
      image();
      const shapes = layer.inboundNodes[0].inputShapes as unknown as Array<number | null> | Array<Array<number | null>>;
      const size = (Array.isArray(shapes[0]) ? shapes[0] : shapes)[1];
      if (typeof size !== 'number') throw new Error(`ONNX export: ${where} needs a fixed input size`);
      return { name: faceBackbone(graph, x, layer, size, layer.name), layout: 'flat' };
    }
    case 'Conv2D':
    case 'DilatedConv2D': {
      image();
      const strides = pair((config.strides as number | number[] | undefined) ?? 1);
      if (strides[0] !== 1 || strides[1] !== 1)
        throw new Error(`ONNX export: ${where}: strides ${strides} are not supported`);
      const dilation = pair((config.dilationRate as number | number[] | undefined) ?? 1);
      const [kernel, bias] = weights;
      const y = convNode(graph, x, layer.name, kernel, bias, {
        dilation,
        padding: (config.padding as string | undefined) ?? 'same',
      });
      return { name: activation(graph, y, config.activation as string | undefined, where, layout), layout };
    }
    case 'BatchNormalization': {
      // tfjs order: gamma, beta, moving mean, moving variance (gamma/beta absent when scale/center are off).
      const c = weights[weights.length - 1].shape[0];
      const ones = new Float32Array(c).fill(1);
      const [gamma, beta] =
        config.scale === false
          ? [ones, config.center === false ? new Float32Array(c) : weights[0]]
          : [weights[0], config.center === false ? new Float32Array(c) : weights[1]];
      const [mean, variance] = weights.slice(-2);
      const vec = (suffix: string, v: tf.Tensor | Float32Array) =>
        graph.floats(`${layer.name}.${suffix}`, v instanceof Float32Array ? v : (v.dataSync() as Float32Array), [c]);
      const y = graph.node(
        'BatchNormalization',
        [x, vec('scale', gamma), vec('bias', beta), vec('mean', mean), vec('var', variance)],
        [{ name: 'epsilon', type: Attr.FLOAT, f: config.epsilon as number }],
      );
      return { name: y, layout };
    }
    case 'ReLU':
      return { name: graph.node('Relu', [x]), layout };
    case 'Add':
      return { name: inputs.slice(1).reduce((sum, v) => graph.node('Add', [sum, v.name]), x), layout };
    case 'MaxPooling2D':
    case 'AveragePooling2D': {
      image();
      if (config.padding !== 'valid')
        throw new Error(`ONNX export: ${where}: padding ${config.padding} is not supported`);
      const poolSize = pair(config.poolSize as number | number[]);
      const strides = pair((config.strides as number | number[] | null) ?? poolSize);
      return {
        name: graph.node(
          className === 'MaxPooling2D' ? 'MaxPool' : 'AveragePool',
          [x],
          [ints('kernel_shape', poolSize), ints('strides', strides)],
        ),
        layout,
      };
    }
    case 'GlobalAveragePooling2D':
      image();
      return { name: graph.node('Flatten', [graph.node('GlobalAveragePool', [x])], [int('axis', 1)]), layout: 'flat' };
    case 'Flatten': {
      // Keras flattens in NHWC order; go back to it first so Dense weights line up.
      const nhwc = layout === 'NCHW' ? graph.node('Transpose', [x], [ints('perm', [0, 2, 3, 1])]) : x;
      return { name: graph.node('Flatten', [nhwc], [int('axis', 1)]), layout: 'flat' };
    }
    case 'Dense': {
      if (layout !== 'flat') throw new Error(`ONNX export: ${where} on image input is not supported`);
      const [kernel, bias] = weights;
      const gemmInputs = [x, graph.floats(`${layer.name}.weight`, kernel.dataSync() as Float32Array, kernel.shape)];
      if (bias) gemmInputs.push(graph.floats(`${layer.name}.bias`, bias.dataSync() as Float32Array, bias.shape));
      return {
        name: activation(graph, graph.node('Gemm', gemmInputs), config.activation as string | undefined, where, layout),
        layout,
      };
    }
    case 'Activation':
      return { name: activation(graph, x, config.activation as string, where, layout), layout };
  }
  throw new Error(`ONNX export: layer ${where} is not supported`);
}

/** The ONNX ModelProto bytes for a tfjs model (sequential or functional) taking [N, H, W, 3] images. */
export function modelToOnnx(model: tf.LayersModel, metadata: Record<string, string> = {}): Uint8Array {
  const inputShape = model.inputs[0].shape;
  if (inputShape.length !== 4)
    throw new Error(`ONNX export: expected an image model with input [N, H, W, C], got ${JSON.stringify(inputShape)}`);
  const graph = new GraphBuilder();
  const input: Value = { name: graph.node('Transpose', ['input'], [ints('perm', [0, 3, 1, 2])]), layout: 'NCHW' };
  // Each layer's output value, by layer name; layers come in topological order (sequential or functional).
  const values = new Map<string, Value>();
  let last: Value = input;
  for (const layer of model.layers) {
    const inbound = layer.inboundNodes[0]?.inboundLayers ?? [];
    const inputs = inbound.map((l) => values.get(l.name) ?? input);
    last = exportLayer(graph, layer, inputs.length ? inputs : [input]);
    values.set(layer.name, last);
  }
  // A reloaded Sequential lists no outputLayers; its output is its last layer's.
  const output = values.get(model.outputLayers?.[0]?.name ?? model.layers[model.layers.length - 1].name) ?? last;
  const { name: x, layout } = output;
  if (layout !== 'flat' || model.outputs[0].shape[1] !== 2) {
    throw new Error(
      `ONNX export: expected realfake's two outputs [p(real), p(fake)], got ${JSON.stringify(model.outputs[0].shape)}`,
    );
  }
  const probabilities = graph.node('Identity', [x], [], 'probabilities');
  const pFake = graph.node('Slice', [
    probabilities,
    graph.int64s('one', [1]),
    graph.int64s('two', [2]),
    graph.int64s('axis1', [1]),
  ]);
  const total = graph.node('Max', [
    graph.node('ReduceSum', [probabilities, 'axis1'], [int('keepdims', 1)]),
    graph.floats('tiny', Float32Array.of(1e-12), []),
  ]);
  graph.node('Reshape', [graph.node('Div', [pFake, total]), graph.int64s('flat', [-1])], [], 'pFake');

  const [, h, w, c] = inputShape;
  const tensorType = (dims: Array<number | string>) => ({
    tensorType: {
      elemType: FLOAT,
      shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
    },
  });
  const proto: onnx.IModelProto = {
    irVersion: 8,
    opsetImport: [{ domain: '', version: OPSET }],
    producerName: 'realfake',
    producerVersion: `tfjs ${tf.version.tfjs}`,
    metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
    graph: {
      name: model.name,
      node: graph.nodes,
      initializer: graph.initializers,
      input: [{ name: 'input', type: tensorType(['N', h ?? 'H', w ?? 'W', c as number]) }],
      output: [
        { name: 'probabilities', type: tensorType(['N', 2]) },
        { name: 'pFake', type: tensorType(['N']) },
      ],
    },
  };
  return onnx.ModelProto.encode(proto).finish();
}

function sourceHash(modelDir: string): string {
  const file = path.join(modelDir, 'model.json');
  if (!fs.existsSync(file)) throw new Error(`${file}: no trained model here`);
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** Whether RUNDIR/model.onnx exists and was exported from the run's current model. */
export function onnxExportIsCurrent(runDir: string): boolean {
  const file = path.join(runDir, ONNX_FILE);
  if (!fs.existsSync(file)) return false;
  try {
    const exported = onnx.ModelProto.decode(fs.readFileSync(file)).metadataProps.find(
      (p) => p.key === SOURCE_KEY,
    )?.value;
    return exported === sourceHash(path.join(runDir, 'model'));
  } catch {
    return false;
  }
}

/**
 * Exports RUNDIR/model (tfjs layers format) to RUNDIR/model.onnx. Needs a tfjs backend (initBackend) to
 * read the weights. Returns the bytes too, so a caller may use them even if the folder is read-only.
 */
export async function exportRunToOnnx(
  runDir: string,
  options: { write?: boolean } = {},
): Promise<{ file: string; bytes: Uint8Array }> {
  const modelDir = path.join(runDir, 'model');
  const hash = sourceHash(modelDir);
  const model = await loadModel(modelDir);
  try {
    const bytes = modelToOnnx(model, { [SOURCE_KEY]: hash });
    const file = path.join(runDir, ONNX_FILE);
    if (options.write !== false) writeFileAtomic(file, bytes);
    return { file, bytes };
  } finally {
    model.dispose();
  }
}
