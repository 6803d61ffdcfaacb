/**
 * The native backend's own kernels: what dominates training the study's model (convolutions and both their
 * gradients, pooling and its gradient, matrix products, and the elementwise ops the ReLU/bias gradients are
 * made of), run by the oneDNN addon on the tensors' own Float32Arrays. Each kernel handles the cases it is
 * written for (float32, NHWC, broadcasts of a trailing bias) and hands anything else to the tfjs CPU kernel
 * of the same name, so every op stays correct.
 */
import * as tf from '@tensorflow/tfjs';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { NativeAddon } from './native-addon';

type Info = tf.TensorInfo;
type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };
type KernelFunc = (args: KernelArgs) => Info | Info[];
/** A native implementation: null means "not a case I handle", and the CPU kernel runs instead. */
type NativeKernel = (addon: NativeAddon, args: KernelArgs, backend: MathBackendCPU) => Info | null;

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
const f32 = (backend: MathBackendCPU, t: Info) => backend.data.get(t.dataId).values as Float32Array;
/** Float32 tensors whose values are a Float32Array (tfjs can hold others, e.g. a tensor made from a number[]). */
let currentBackend: MathBackendCPU | null = null;
const allFloat = (...ts: Array<Info | undefined>) =>
  ts.every((t) => !t || (t.dtype === 'float32' && currentBackend!.data.get(t.dataId).values instanceof Float32Array));

/** The native backend's output recycling (lib/backend/native-backend.ts). */
interface OutputPool {
  newOutput(length: number): Float32Array;
  adoptOutput(shape: number[], values: Float32Array): Info;
}

/** A new tensor of `shape`, filled by `fill` (which must write every element: the array may be recycled). */
function output(backend: MathBackendCPU, shape: number[], fill: (out: Float32Array) => void): Info {
  const pool = 'adoptOutput' in backend ? (backend as unknown as OutputPool) : null;
  const out = pool ? pool.newOutput(size(shape)) : new Float32Array(size(shape));
  fill(out);
  return pool ? pool.adoptOutput(shape, out) : backend.makeTensorInfo(shape, 'float32', out);
}

interface ConvAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat?: 'NHWC' | 'NCHW';
  dilations?: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** oneDNN wants the end padding that makes floor((in + padStart + padEnd - span) / stride) + 1 the output size. */
function padEnd(inSize: number, outSize: number, stride: number, span: number, start: number, end: number): number {
  if (Math.floor((inSize + start + end - span) / stride) + 1 === outSize) return end;
  return (outSize - 1) * stride + span - inSize - start;
}

/** The addon's convolution parameters, or null for what it does not do (NCHW, negative padding). */
function convParams(xShape: number[], filterShape: number[], attrs: ConvAttrs, relu = false): Float64Array | null {
  if (attrs.dataFormat === 'NCHW') return null;
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const { top, left, bottom, right } = info.padInfo;
  const pb = padEnd(info.inHeight, info.outHeight, info.strideHeight, info.effectiveFilterHeight, top, bottom);
  const pr = padEnd(info.inWidth, info.outWidth, info.strideWidth, info.effectiveFilterWidth, left, right);
  if (top < 0 || left < 0 || pb < 0 || pr < 0) return null;
  return Float64Array.from([
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.filterHeight,
    info.filterWidth,
    info.outChannels,
    info.outHeight,
    info.outWidth,
    info.strideHeight,
    info.strideWidth,
    info.dilationHeight,
    info.dilationWidth,
    top,
    left,
    pb,
    pr,
    relu ? 1 : 0,
  ]);
}

const convOutShape = (p: Float64Array) => [p[0], p[7], p[8], p[6]];

const conv2D: NativeKernel = (addon, { inputs, attrs }, backend) => {
  const { x, filter } = inputs as { x: Info; filter: Info };
  const p = allFloat(x, filter) ? convParams(x.shape, filter.shape, attrs as unknown as ConvAttrs) : null;
  if (!p) return null;
  return output(backend, convOutShape(p), (y) => addon.convForward(f32(backend, x), f32(backend, filter), null, y, p));
};

const fusedConv2D: NativeKernel = (addon, { inputs, attrs }, backend) => {
  const { x, filter, bias, preluActivationWeights } = inputs as Record<string, Info | undefined>;
  const activation = (attrs as { activation?: string }).activation ?? 'linear';
  if (!x || !filter || preluActivationWeights || (activation !== 'linear' && activation !== 'relu')) return null;
  if (bias && !(bias.shape.length === 1 && bias.shape[0] === filter.shape[3])) return null;
  const p = allFloat(x, filter, bias)
    ? convParams(x.shape, filter.shape, attrs as unknown as ConvAttrs, activation === 'relu')
    : null;
  if (!p) return null;
  return output(backend, convOutShape(p), (y) =>
    addon.convForward(f32(backend, x), f32(backend, filter), bias ? f32(backend, bias) : null, y, p),
  );
};

const conv2DBackpropInput: NativeKernel = (addon, { inputs, attrs }, backend) => {
  const { dy, filter } = inputs as { dy: Info; filter: Info };
  const inputShape = (attrs as { inputShape: number[] }).inputShape;
  const p = allFloat(dy, filter) ? convParams(inputShape, filter.shape, attrs as unknown as ConvAttrs) : null;
  if (!p) return null;
  return output(backend, inputShape, (dx) => addon.convBackwardData(f32(backend, dy), f32(backend, filter), dx, p));
};

const conv2DBackpropFilter: NativeKernel = (addon, { inputs, attrs }, backend) => {
  const { x, dy } = inputs as { x: Info; dy: Info };
  const filterShape = (attrs as { filterShape: number[] }).filterShape;
  const p = allFloat(x, dy) ? convParams(x.shape, filterShape, attrs as unknown as ConvAttrs) : null;
  if (!p) return null;
  return output(backend, filterShape, (dw) => addon.convBackwardFilter(f32(backend, x), f32(backend, dy), dw, p));
};

interface PoolAttrs {
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

function poolParams(xShape: number[], attrs: PoolAttrs): { params: Float64Array; outShape: number[] } {
  const info = tf.backend_util.computePool2DInfo(
    xShape as [number, number, number, number],
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const params = Float64Array.from([
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.outHeight,
    info.outWidth,
    info.filterHeight,
    info.filterWidth,
    info.strideHeight,
    info.strideWidth,
    info.dilationHeight,
    info.dilationWidth,
    info.padInfo.top,
    info.padInfo.left,
  ]);
  return { params, outShape: info.outShape };
}

const pool =
  (kind: 'maxPool' | 'avgPool'): NativeKernel =>
  (addon, { inputs, attrs }, backend) => {
    const { x } = inputs as { x: Info };
    if (x.shape.length !== 4 || !allFloat(x)) return null;
    const { params, outShape } = poolParams(x.shape, attrs as unknown as PoolAttrs);
    return output(backend, outShape, (y) => addon[kind](f32(backend, x), y, params));
  };

const maxPoolGrad: NativeKernel = (addon, { inputs, attrs }, backend) => {
  const { dy, input } = inputs as { dy: Info; input: Info };
  if (input.shape.length !== 4 || !allFloat(dy, input)) return null;
  const { params } = poolParams(input.shape, attrs as unknown as PoolAttrs);
  return output(backend, input.shape, (dx) => addon.maxPoolGrad(f32(backend, dy), f32(backend, input), dx, params));
};

const avgPoolGrad: NativeKernel = (addon, { inputs, attrs }, backend) => {
  const { dy, input } = inputs as { dy: Info; input: Info };
  if (input.shape.length !== 4 || !allFloat(dy)) return null;
  const { params } = poolParams(input.shape, attrs as unknown as PoolAttrs);
  return output(backend, input.shape, (dx) => addon.avgPoolGrad(f32(backend, dy), dx, params));
};

/** [batch, m, k, n] and the output shape of a (batched) product, or null when batch dims differ (broadcast). */
function matMulShape(a: number[], b: number[], transposeA: boolean, transposeB: boolean) {
  if (a.length < 2 || b.length < 2) return null;
  const batchA = a.slice(0, -2);
  const batchB = b.slice(0, -2);
  const batch = size(batchA);
  if (batch !== size(batchB) || (batchA.length === batchB.length && batchA.some((d, i) => d !== batchB[i])))
    return null;
  const m = transposeA ? a[a.length - 1] : a[a.length - 2];
  const k = transposeA ? a[a.length - 2] : a[a.length - 1];
  const n = transposeB ? b[b.length - 2] : b[b.length - 1];
  if (k !== (transposeB ? b[b.length - 1] : b[b.length - 2])) return null;
  return { batch, m, k, n, outShape: [...(batchA.length >= batchB.length ? batchA : batchB), m, n] };
}

const matMul =
  (fused: boolean): NativeKernel =>
  (addon, { inputs, attrs }, backend) => {
    const { a, b, bias, preluActivationWeights } = inputs as Record<string, Info | undefined>;
    const {
      transposeA = false,
      transposeB = false,
      activation = 'linear',
    } = (attrs ?? {}) as { transposeA?: boolean; transposeB?: boolean; activation?: string };
    if (!a || !b || preluActivationWeights || !allFloat(a, b, bias)) return null;
    if (fused && activation !== 'linear' && activation !== 'relu') return null;
    const shape = matMulShape(a.shape, b.shape, transposeA, transposeB);
    if (!shape || (bias && !(bias.shape.length === 1 && bias.shape[0] === shape.n))) return null;
    const params = Float64Array.from([
      shape.batch,
      shape.m,
      shape.k,
      shape.n,
      transposeA ? 1 : 0,
      transposeB ? 1 : 0,
      fused && activation === 'relu' ? 1 : 0,
    ]);
    return output(backend, shape.outShape, (c) =>
      addon.matMul(f32(backend, a), f32(backend, b), bias ? f32(backend, bias) : null, c, params),
    );
  };

/** The trailing-broadcast case: `small`, leading 1s aside, is the end of `big` (a bias, or the same shape). */
function trailing(big: number[], small: number[]): boolean {
  if (small.length > big.length) return false;
  let lead = 0;
  while (lead < small.length && small[lead] === 1) lead++;
  const offset = big.length - small.length;
  return small.slice(lead).every((d, i) => d === big[offset + lead + i]);
}

const binary =
  (op: 'add' | 'mul' | 'sub' | 'div'): NativeKernel =>
  (addon, { inputs }, backend) => {
    let { a, b } = inputs as { a: Info; b: Info };
    if (!allFloat(a, b)) return null;
    if (!trailing(a.shape, b.shape)) {
      if (op === 'sub' || op === 'div' || !trailing(b.shape, a.shape)) return null;
      [a, b] = [b, a];
    }
    const n = size(a.shape);
    const bn = size(b.shape);
    if (bn === 0 || n === 0) return null;
    return output(backend, a.shape, (out) =>
      addon[op](f32(backend, a), f32(backend, b), out, Float64Array.from([n, bn])),
    );
  };

const relu: NativeKernel = (addon, { inputs }, backend) => {
  const { x } = inputs as { x: Info };
  if (!allFloat(x)) return null;
  return output(backend, x.shape, (out) => addon.relu(f32(backend, x), out, Float64Array.from([size(x.shape)])));
};

const step: NativeKernel = (addon, { inputs, attrs }, backend) => {
  const { x } = inputs as { x: Info };
  if (!allFloat(x)) return null;
  const alpha = (attrs as { alpha?: number }).alpha ?? 0;
  return output(backend, x.shape, (out) => addon.step(f32(backend, x), out, Float64Array.from([size(x.shape), alpha])));
};

/** Sums over leading axes (a bias gradient: NHWC summed over N, H, W). */
const sum: NativeKernel = (addon, { inputs, attrs }, backend) => {
  const { x } = inputs as { x: Info };
  const { axis, keepDims } = attrs as { axis: number | number[]; keepDims: boolean };
  if (!allFloat(x) || x.shape.length === 0) return null;
  const axes = tf.util.parseAxisParam(axis, x.shape).sort((p, q) => p - q);
  if (axes.length === 0 || axes.some((ax, i) => ax !== i)) return null;
  const rows = size(x.shape.slice(0, axes.length));
  const kept = x.shape.slice(axes.length);
  const outShape = keepDims ? [...axes.map(() => 1), ...kept] : kept;
  return output(backend, outShape, (out) => addon.sumRows(f32(backend, x), out, Float64Array.from([rows, size(kept)])));
};

/** SpaceToBatchND and BatchToSpaceND on NHWC with a 2-D block: DilatedConv2D's way to dilate. */
const spaceToBatch: NativeKernel = (addon, { inputs, attrs }, backend) => {
  const { x } = inputs as { x: Info };
  const { blockShape, paddings } = attrs as unknown as { blockShape: number[]; paddings: number[][] };
  if (x.shape.length !== 4 || blockShape.length !== 2 || !allFloat(x)) return null;
  const [batch, h, w, c] = x.shape;
  const [bh, bw] = blockShape;
  const [[top, bottom], [left, right]] = paddings;
  if ((h + top + bottom) % bh || (w + left + right) % bw || [top, bottom, left, right].some((v) => v < 0)) return null;
  const [oh, ow] = [(h + top + bottom) / bh, (w + left + right) / bw];
  return output(backend, [batch * bh * bw, oh, ow, c], (out) =>
    addon.spaceToBatch(f32(backend, x), out, Float64Array.from([batch, h, w, c, bh, bw, top, left, oh, ow])),
  );
};

const batchToSpace: NativeKernel = (addon, { inputs, attrs }, backend) => {
  const { x } = inputs as { x: Info };
  const { blockShape, crops } = attrs as unknown as { blockShape: number[]; crops: number[][] };
  if (x.shape.length !== 4 || blockShape.length !== 2 || !allFloat(x)) return null;
  const [phases, oh, ow, c] = x.shape;
  const [bh, bw] = blockShape;
  const [[top, bottom], [left, right]] = crops;
  const [h, w] = [oh * bh - top - bottom, ow * bw - left - right];
  if (phases % (bh * bw) || h <= 0 || w <= 0 || [top, bottom, left, right].some((v) => v < 0)) return null;
  const batch = phases / (bh * bw);
  return output(backend, [batch, h, w, c], (out) =>
    addon.batchToSpace(f32(backend, x), out, Float64Array.from([batch, h, w, c, bh, bw, top, left, oh, ow])),
  );
};

/** Kernel name > native implementation. */
export const NATIVE_KERNELS: Record<string, NativeKernel> = {
  Conv2D: conv2D,
  FusedConv2D: fusedConv2D,
  Conv2DBackpropInput: conv2DBackpropInput,
  Conv2DBackpropFilter: conv2DBackpropFilter,
  MaxPool: pool('maxPool'),
  MaxPoolGrad: maxPoolGrad,
  AvgPool: pool('avgPool'),
  AvgPoolGrad: avgPoolGrad,
  BatchMatMul: matMul(false),
  _FusedMatMul: matMul(true),
  Add: binary('add'),
  Multiply: binary('mul'),
  Sub: binary('sub'),
  RealDiv: binary('div'),
  SpaceToBatchND: spaceToBatch,
  BatchToSpaceND: batchToSpace,
  Relu: relu,
  Step: step,
  Sum: sum,
};

/** Counts how often each native kernel ran and how often it handed a case to the CPU kernel (tests, profiles). */
export const nativeKernelStats: Record<string, { native: number; fallback: number }> = {};

/** The kernel function registered for `name`: native when it handles the case, the CPU kernel otherwise. */
export function nativeKernelFunc(addon: NativeAddon, name: string, cpu: KernelFunc): KernelFunc {
  const impl = NATIVE_KERNELS[name];
  const stats = (nativeKernelStats[name] ??= { native: 0, fallback: 0 });
  return (args) => {
    currentBackend = args.backend as MathBackendCPU;
    const result = impl(addon, args, currentBackend);
    if (result) {
      stats.native++;
      return result;
    }
    stats.fallback++;
    return cpu(args);
  };
}
