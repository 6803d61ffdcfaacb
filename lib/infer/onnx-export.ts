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
    this.initializers.push({ name, dataType: FLOAT, dims, rawData: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) });
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
    case 'linear': return x;
    case 'relu': return graph.node('Relu', [x]);
    case 'sigmoid': return graph.node('Sigmoid', [x]);
    case 'tanh': return graph.node('Tanh', [x]);
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

/** Where the graph being built stands: the name of the current tensor and its layout. */
interface GraphState {
  x: string;
  layout: Layout;
}

/** Appends one Keras layer's ONNX nodes (and weights) to the graph, updating `state`; throws for what is unsupported. */
function addLayer(graph: GraphBuilder, state: GraphState, layer: tf.layers.Layer): void {
  const config = layer.getConfig() as Record<string, unknown>;
  const className = layer.getClassName();
  const weights = layer.getWeights();
  const where = `${layer.name} (${className})`;
  switch (className) {
    case 'InputLayer':
    case 'Dropout':
    case 'SeededDropout':
      return;
    case 'Conv2D':
    case 'DilatedConv2D': {
      if (state.layout !== 'NCHW') throw new Error(`ONNX export: ${where} needs image input`);
      const strides = pair((config.strides as number | number[] | undefined) ?? 1);
      if (strides[0] !== 1 || strides[1] !== 1) throw new Error(`ONNX export: ${where}: strides ${strides} are not supported`);
      const dilations = pair((config.dilationRate as number | number[] | undefined) ?? 1);
      const kernelSize = pair(config.kernelSize as number | number[]);
      const padding = (config.padding as string | undefined) ?? 'same';
      const pads = padding === 'same' ? samePads(kernelSize, dilations) : [0, 0, 0, 0];
      const [kernel, bias] = weights;
      const inputs = [state.x, graph.floats(`${layer.name}.weight`, convKernel(kernel), [kernel.shape[3], kernel.shape[2], ...kernelSize] as number[])];
      if (bias) inputs.push(graph.floats(`${layer.name}.bias`, bias.dataSync() as Float32Array, bias.shape));
      const conv = graph.node('Conv', inputs, [ints('kernel_shape', kernelSize), ints('dilations', dilations), ints('strides', [1, 1]), ints('pads', pads)]);
      state.x = activation(graph, conv, config.activation as string | undefined, where, state.layout);
      return;
    }
    case 'MaxPooling2D': {
      if (config.padding !== 'valid') throw new Error(`ONNX export: ${where}: padding ${config.padding} is not supported`);
      const poolSize = pair(config.poolSize as number | number[]);
      const strides = pair((config.strides as number | number[] | null) ?? poolSize);
      state.x = graph.node('MaxPool', [state.x], [ints('kernel_shape', poolSize), ints('strides', strides)]);
      return;
    }
    case 'GlobalAveragePooling2D':
      state.x = graph.node('Flatten', [graph.node('GlobalAveragePool', [state.x])], [int('axis', 1)]);
      state.layout = 'flat';
      return;
    case 'Flatten':
      // Keras flattens in NHWC order; go back to it first so Dense weights line up.
      if (state.layout === 'NCHW') state.x = graph.node('Transpose', [state.x], [ints('perm', [0, 2, 3, 1])]);
      state.x = graph.node('Flatten', [state.x], [int('axis', 1)]);
      state.layout = 'flat';
      return;
    case 'Dense': {
      if (state.layout !== 'flat') throw new Error(`ONNX export: ${where} on image input is not supported`);
      const [kernel, bias] = weights;
      const inputs = [state.x, graph.floats(`${layer.name}.weight`, kernel.dataSync() as Float32Array, kernel.shape)];
      if (bias) inputs.push(graph.floats(`${layer.name}.bias`, bias.dataSync() as Float32Array, bias.shape));
      state.x = activation(graph, graph.node('Gemm', inputs), config.activation as string | undefined, where, state.layout);
      return;
    }
    case 'Activation':
      state.x = activation(graph, state.x, config.activation as string, where, state.layout);
      return;
    default:
      throw new Error(`ONNX export: layer ${where} is not supported`);
  }
}

/** The two named outputs: "probabilities" (the two sigmoids) and "pFake" = p(fake) / (p(real) + p(fake)). */
function addOutputs(graph: GraphBuilder, x: string): void {
  const probabilities = graph.node('Identity', [x], [], 'probabilities');
  const pFake = graph.node('Slice', [probabilities, graph.int64s('one', [1]), graph.int64s('two', [2]), graph.int64s('axis1', [1])]);
  const total = graph.node('Max', [graph.node('ReduceSum', [probabilities, 'axis1'], [int('keepdims', 1)]), graph.floats('tiny', Float32Array.of(1e-12), [])]);
  graph.node('Reshape', [graph.node('Div', [pFake, total]), graph.int64s('flat', [-1])], [], 'pFake');
}

/** The ModelProto around a finished graph: input "input" [N, H, W, C], outputs "probabilities" [N, 2] and "pFake" [N]. */
function modelProto(model: tf.LayersModel, graph: GraphBuilder, metadata: Record<string, string>): onnx.IModelProto {
  const [, h, w, c] = model.inputs[0].shape;
  const tensorType = (dims: Array<number | string>) => ({
    tensorType: { elemType: FLOAT, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } },
  });
  return {
    irVersion: 8,
    opsetImport: [{ domain: '', version: OPSET }],
    producerName: 'realfake',
    producerVersion: `tfjs ${tf.version.tfjs}`,
    metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
    graph: {
      name: model.name,
      node: graph.nodes,
      initializer: graph.initializers,
      input: [{ name: 'input', type: tensorType(['N', h as number, w as number, c as number]) }],
      output: [
        { name: 'probabilities', type: tensorType(['N', 2]) },
        { name: 'pFake', type: tensorType(['N']) },
      ],
    },
  };
}

/** The ONNX ModelProto bytes for a sequential tfjs model taking [N, H, W, 3] images. */
export function modelToOnnx(model: tf.LayersModel, metadata: Record<string, string> = {}): Uint8Array {
  const inputShape = model.inputs[0].shape;
  if (inputShape.length !== 4) throw new Error(`ONNX export: expected an image model with input [N, H, W, C], got ${JSON.stringify(inputShape)}`);
  const graph = new GraphBuilder();
  const state: GraphState = { x: graph.node('Transpose', ['input'], [ints('perm', [0, 3, 1, 2])]), layout: 'NCHW' };
  model.layers.forEach((layer, index) => {
    if (index > 0 && layer.inboundNodes[0]?.inboundLayers[0] !== model.layers[index - 1]) {
      throw new Error(`ONNX export: only sequential models are supported (${layer.name} (${layer.getClassName()}) does not follow ${model.layers[index - 1].name})`);
    }
    addLayer(graph, state, layer);
  });
  if (state.layout !== 'flat' || model.outputs[0].shape[1] !== 2) {
    throw new Error(`ONNX export: expected realfake's two outputs [p(real), p(fake)], got ${JSON.stringify(model.outputs[0].shape)}`);
  }
  addOutputs(graph, state.x);
  return onnx.ModelProto.encode(modelProto(model, graph, metadata)).finish();
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
    const exported = onnx.ModelProto.decode(fs.readFileSync(file)).metadataProps.find((p) => p.key === SOURCE_KEY)?.value;
    return exported === sourceHash(path.join(runDir, 'model'));
  } catch {
    return false;
  }
}

/**
 * Exports RUNDIR/model (tfjs layers format) to RUNDIR/model.onnx. Needs a tfjs backend (initBackend) to
 * read the weights. Returns the bytes too, so a caller may use them even if the folder is read-only.
 */
export async function exportRunToOnnx(runDir: string, options: { write?: boolean } = {}): Promise<{ file: string; bytes: Uint8Array }> {
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
