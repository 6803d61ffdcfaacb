/**
 * Convolution gradients for the wasm backend, built from wasm's own (XNNPACK) Conv2D.
 *
 * tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter kernel at all (training a conv net fails), and its
 * Conv2DBackpropInput is a plain loop that is slower than a forward convolution. Both gradients of a
 * stride-1 convolution are themselves convolutions, so we express them with transposes and the fast
 * forward kernel:
 *   dW[kh,kw,ci,co] = sum_{b,h,w} xpad[b,h+kh,w+kw,ci] * dy[b,h,w,co]
 *                   = conv(x^T [ci,H,W,B], dy^T [Ho,Wo,B,co]) read as [ci,kh,kw,co]
 *   dx[b,h,w,ci]    = sum_{kh,kw,co} dy[b,h+pt-kh,w+pl-kw,co] * W[kh,kw,ci,co]
 *                   = conv(dy, W flipped in space with in/out swapped, padding k-1-pad)
 */
import * as tf from '@tensorflow/tfjs';

type KernelFunc = (args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }) => tf.TensorInfo;

interface ConvAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  dilations?: number | [number, number];
}

interface WasmBackendLike {
  disposeData(dataId: object): boolean;
}

function kernel(name: string): KernelFunc {
  const config = tf.getKernel(name, 'wasm');
  if (!config) throw new Error(`wasm backend has no ${name} kernel`);
  return config.kernelFunc as KernelFunc;
}

/** Runs wasm kernels one after another, disposing every intermediate result when done. */
class KernelChain {
  private intermediates: tf.TensorInfo[] = [];
  constructor(private readonly backend: WasmBackendLike) {}

  run(name: string, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap): tf.TensorInfo {
    const out = kernel(name)({ inputs, backend: this.backend, attrs });
    this.intermediates.push(out);
    return out;
  }

  /** Keeps `result`, frees the rest. */
  finish(result: tf.TensorInfo): tf.TensorInfo {
    for (const t of this.intermediates) if (t !== result) this.backend.disposeData(t.dataId);
    return result;
  }
}

function pair(v: number | [number, number] | undefined): [number, number] {
  if (v === undefined) return [1, 1];
  return typeof v === 'number' ? [v, v] : v;
}

function convInfo(xShape: number[], filterShape: number[], attrs: ConvAttrs) {
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    pair(attrs.dilations),
    attrs.pad,
    attrs.dimRoundingMode,
  );
}

function conv2DBackpropFilter(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}): tf.TensorInfo {
  const x = args.inputs.x as tf.TensorInfo;
  const dy = args.inputs.dy as tf.TensorInfo;
  const attrs = args.attrs as unknown as ConvAttrs & { filterShape: [number, number, number, number] };
  if (attrs.dataFormat === 'NCHW') throw new Error('Conv2DBackpropFilter (wasm): only NHWC is supported');
  const info = convInfo(x.shape, attrs.filterShape, attrs);
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) {
    throw new Error('Conv2DBackpropFilter (wasm): dilated convolutions are not supported (use DilatedConv2D)');
  }
  const { top, bottom, left, right } = info.padInfo;
  const chain = new KernelChain(args.backend as WasmBackendLike);
  const xT = chain.run('Transpose', { x }, { perm: [3, 1, 2, 0] });
  const dyT = chain.run('Transpose', { x: dy }, { perm: [1, 2, 0, 3] });
  // A forward stride s becomes a dilation s of dy's taps in the gradient convolution.
  let grad = chain.run('Conv2D', { x: xT, filter: dyT }, {
    strides: [1, 1],
    pad: [
      [0, 0],
      [top, bottom],
      [left, right],
      [0, 0],
    ],
    dataFormat: 'NHWC',
    dilations: [info.strideHeight, info.strideWidth],
  } as unknown as tf.NamedAttrMap);
  const [kh, kw] = [info.filterHeight, info.filterWidth];
  if (grad.shape[1] !== kh || grad.shape[2] !== kw) {
    // With strides, the last rows/columns of the padded input may be unused by the forward pass.
    grad = chain.run('Slice', { x: grad }, { begin: [0, 0, 0, 0], size: [grad.shape[0], kh, kw, grad.shape[3]] });
  }
  return chain.finish(chain.run('Transpose', { x: grad }, { perm: [1, 2, 0, 3] }));
}

function makeConv2DBackpropInput(original: KernelFunc | undefined): KernelFunc {
  return (args) => {
    const dy = args.inputs.dy as tf.TensorInfo;
    const filter = args.inputs.filter as tf.TensorInfo;
    const attrs = args.attrs as unknown as ConvAttrs & { inputShape: [number, number, number, number] };
    const info = convInfo(attrs.inputShape, filter.shape, attrs);
    const simple =
      info.strideHeight === 1 && info.strideWidth === 1 && info.dilationHeight === 1 && info.dilationWidth === 1;
    if (!simple || attrs.dataFormat === 'NCHW') {
      if (!original) throw new Error('Conv2DBackpropInput (wasm): unsupported strides/dilations');
      return original(args);
    }
    const { top, bottom, left, right } = info.padInfo;
    const [kh, kw] = [info.filterHeight, info.filterWidth];
    const chain = new KernelChain(args.backend as WasmBackendLike);
    const flipped = chain.run('Reverse', { x: filter }, { dims: [0, 1] });
    const swapped = chain.run('Transpose', { x: flipped }, { perm: [0, 1, 3, 2] });
    return chain.finish(
      chain.run('Conv2D', { x: dy, filter: swapped }, {
        strides: [1, 1],
        pad: [
          [0, 0],
          [kh - 1 - top, kh - 1 - bottom],
          [kw - 1 - left, kw - 1 - right],
          [0, 0],
        ],
        dataFormat: 'NHWC',
        dilations: [1, 1],
      } as unknown as tf.NamedAttrMap),
    );
  };
}

let registered = false;

/** Registers the replacements; call once before creating the wasm backend's first gradient. Idempotent. */
export function registerWasmConvGradients(): void {
  if (registered) return;
  registered = true;
  const originalInput = tf.getKernel('Conv2DBackpropInput', 'wasm');
  if (originalInput) tf.unregisterKernel('Conv2DBackpropInput', 'wasm');
  tf.registerKernel({
    kernelName: 'Conv2DBackpropInput',
    backendName: 'wasm',
    kernelFunc: makeConv2DBackpropInput(
      originalInput?.kernelFunc as KernelFunc | undefined,
    ) as unknown as tf.KernelFunc,
  });
  if (!tf.getKernel('Conv2DBackpropFilter', 'wasm')) {
    tf.registerKernel({
      kernelName: 'Conv2DBackpropFilter',
      backendName: 'wasm',
      kernelFunc: conv2DBackpropFilter as unknown as tf.KernelFunc,
    });
  }
}
