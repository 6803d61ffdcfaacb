/**
 * Writes a trained realfake model as ONNX, so onnxruntime can run inference on all cores (lib/infer/onnx-engine.ts).
 *
 * The graph is built layer by layer from the tfjs model (sequential or functional), each layer by its class's
 * converter: the stock and shared layers' table below, or the converter of the model family that brings the class
 * (lib/model/families; facefeat's face backbone). Graph-building pieces: lib/model/onnx-graph.ts.
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
import { familyLayer } from '../model/families';
import { HIGHPASS_KERNEL } from '../model/input-transform';
import {
  Attr,
  convNode,
  FLOAT,
  GraphBuilder,
  int,
  ints,
  layerInput,
  pair,
  type Layout,
  type OnnxLayerConverter,
  type OnnxValue,
} from '../model/onnx-graph';

const OPSET = 13;
const SOURCE_KEY = 'realfake.modelJsonSha256';

export const ONNX_FILE = 'model.onnx';

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

const settings = (layer: tf.layers.Layer) => layer.getConfig() as Record<string, unknown>;
const passThrough: OnnxLayerConverter = (_graph, _layer, inputs) => inputs[0];

const convolution: OnnxLayerConverter = (graph, layer, inputs) => {
  const { where, x, layout, image } = layerInput(layer, inputs);
  const config = settings(layer);
  image();
  const strides = pair((config.strides as number | number[] | undefined) ?? 1);
  if (strides[0] !== 1 || strides[1] !== 1)
    throw new Error(`ONNX export: ${where}: strides ${strides} are not supported`);
  const dilation = pair((config.dilationRate as number | number[] | undefined) ?? 1);
  const [kernel, bias] = layer.getWeights();
  const y = convNode(graph, x, layer.name, kernel, bias, {
    dilation,
    padding: (config.padding as string | undefined) ?? 'same',
  });
  return { name: activation(graph, y, config.activation as string | undefined, where, layout), layout };
};

const pooling: OnnxLayerConverter = (graph, layer, inputs) => {
  const { where, x, layout, image } = layerInput(layer, inputs);
  const config = settings(layer);
  image();
  if (config.padding !== 'valid') throw new Error(`ONNX export: ${where}: padding ${config.padding} is not supported`);
  const poolSize = pair(config.poolSize as number | number[]);
  const strides = pair((config.strides as number | number[] | null) ?? poolSize);
  const op = layer.getClassName() === 'MaxPooling2D' ? 'MaxPool' : 'AveragePool';
  return { name: graph.node(op, [x], [ints('kernel_shape', poolSize), ints('strides', strides)]), layout };
};

/**
 * The converters of tfjs's stock layers and lib/model's shared ones, by class name; a class a model family
 * brings is converted by that family's own converter (lib/model/families, FamilyLayer.onnx).
 */
const LAYER_CONVERTERS: Readonly<Record<string, OnnxLayerConverter>> = {
  InputLayer: passThrough,
  Dropout: passThrough,
  SeededDropout: passThrough,
  InputTransform: (graph, layer, inputs) => {
    const { x, layout, image } = layerInput(layer, inputs);
    image();
    const channels = (layer.inputSpec?.[0]?.shape?.[3] as number | undefined) ?? 3;
    return { name: inputTransform(graph, x, settings(layer).mode as string, channels, layer.name), layout };
  },
  Conv2D: convolution,
  DilatedConv2D: convolution,
  BatchNormalization: (graph, layer, inputs) => {
    const { x, layout } = layerInput(layer, inputs);
    const config = settings(layer);
    const weights = layer.getWeights();
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
  },
  ReLU: (graph, layer, inputs) => ({ name: graph.node('Relu', [inputs[0].name]), layout: inputs[0].layout }),
  Add: (graph, layer, inputs) => ({
    name: inputs.slice(1).reduce((sum, v) => graph.node('Add', [sum, v.name]), inputs[0].name),
    layout: inputs[0].layout,
  }),
  MaxPooling2D: pooling,
  AveragePooling2D: pooling,
  GlobalAveragePooling2D: (graph, layer, inputs) => {
    const { x, image } = layerInput(layer, inputs);
    image();
    return { name: graph.node('Flatten', [graph.node('GlobalAveragePool', [x])], [int('axis', 1)]), layout: 'flat' };
  },
  Flatten: (graph, layer, inputs) => {
    const { x, layout } = layerInput(layer, inputs);
    // Keras flattens in NHWC order; go back to it first so Dense weights line up.
    const nhwc = layout === 'NCHW' ? graph.node('Transpose', [x], [ints('perm', [0, 2, 3, 1])]) : x;
    return { name: graph.node('Flatten', [nhwc], [int('axis', 1)]), layout: 'flat' };
  },
  Dense: (graph, layer, inputs) => {
    const { where, x, layout } = layerInput(layer, inputs);
    if (layout !== 'flat') throw new Error(`ONNX export: ${where} on image input is not supported`);
    const [kernel, bias] = layer.getWeights();
    const gemmInputs = [x, graph.floats(`${layer.name}.weight`, kernel.dataSync() as Float32Array, kernel.shape)];
    if (bias) gemmInputs.push(graph.floats(`${layer.name}.bias`, bias.dataSync() as Float32Array, bias.shape));
    const y = graph.node('Gemm', gemmInputs);
    return { name: activation(graph, y, settings(layer).activation as string | undefined, where, layout), layout };
  },
  Activation: (graph, layer, inputs) => {
    const { where, x, layout } = layerInput(layer, inputs);
    return { name: activation(graph, x, settings(layer).activation as string, where, layout), layout };
  },
};

function exportLayer(graph: GraphBuilder, layer: tf.layers.Layer, inputs: OnnxValue[]): OnnxValue {
  const className = layer.getClassName();
  const convert = LAYER_CONVERTERS[className] ?? familyLayer(className)?.onnx;
  if (!convert) throw new Error(`ONNX export: layer ${layer.name} (${className}) is not supported`);
  return convert(graph, layer, inputs);
}

/** The ONNX ModelProto bytes for a tfjs model (sequential or functional) taking [N, H, W, 3] images. */
export function modelToOnnx(model: tf.LayersModel, metadata: Record<string, string> = {}): Uint8Array {
  const inputShape = model.inputs[0].shape;
  if (inputShape.length !== 4)
    throw new Error(`ONNX export: expected an image model with input [N, H, W, C], got ${JSON.stringify(inputShape)}`);
  const graph = new GraphBuilder();
  const input: OnnxValue = { name: graph.node('Transpose', ['input'], [ints('perm', [0, 3, 1, 2])]), layout: 'NCHW' };
  // Each layer's output value, by layer name; layers come in topological order (sequential or functional).
  const values = new Map<string, OnnxValue>();
  let last: OnnxValue = input;
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
