/**
 * The 'native' TensorFlow.js backend: tfjs's CPU backend (tensors are JavaScript Float32Arrays) with its hot
 * kernels replaced by oneDNN ones from the addon (lib/backend/native-kernels.ts). The addon reads and writes
 * those arrays in place, so no tensor is copied on its way to or from a native kernel; oneDNN and the addon's
 * own loops run on OpenMP threads, so one process uses every core. Every other op runs the CPU kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { NativeAddon } from './native-addon';
import { nativeKernelFunc, NATIVE_KERNELS } from './native-kernels';

export const NATIVE_BACKEND = 'native';

type KernelFunc = Parameters<typeof nativeKernelFunc>[2];

type Values = Float32Array | Int32Array | Uint8Array | Uint8Array[] | undefined;

/** Arrays smaller than this (1 MB) are left to V8: only big activations are worth recycling. */
const POOL_MIN_LENGTH = 1 << 18;
/**
 * At most this much (1.5 GiB) is held for reuse; what does not fit is left to the garbage collector. A 128 px
 * study step recycles ~1.1 GB; the bound keeps odd sizes (an epoch's last, smaller batch) from piling up.
 */
const POOL_MAX_BYTES = 1.5 * 2 ** 30;

/**
 * tfjs's CPU backend, plus a pool that recycles native kernels' output arrays while training. A disposed
 * tensor's Float32Array is otherwise freed only when V8 next collects garbage, which during a training step
 * (hundreds of MB of activations made and dropped) lags far behind: measured, a 128 px step's garbage raised the
 * peak RSS by several hundred MB. Recycled arrays also come warm and need no zeroing (native kernels write
 * every element of their output). An array is recycled only if nothing else can see it: it was made by a
 * native kernel, only its own tensor held it, and it was never read out (dataSync/data) or shared with
 * another tensor (a CPU kernel's subarray view, a move to another backend).
 */
export class NativeBackend extends MathBackendCPU {
  private pooling = false;
  private readonly pool = new Map<number, Float32Array[]>();
  private poolBytes = 0;
  /** Buffers of native outputs that only their own tensor can see. */
  private readonly recyclable = new WeakSet<ArrayBufferLike>();

  /** An output array for a native kernel (from the pool when training; contents are overwritten). */
  newOutput(length: number): Float32Array {
    const reused = this.pooling ? this.pool.get(length)?.pop() : undefined;
    if (!reused) return new Float32Array(length);
    this.poolBytes -= reused.byteLength;
    return reused;
  }

  /** Wraps a native kernel's output as a tensor, recyclable once that tensor is disposed. */
  adoptOutput(shape: number[], values: Float32Array): tf.TensorInfo {
    const info = this.makeTensorInfo(shape, 'float32', values);
    if (values.length >= POOL_MIN_LENGTH) this.recyclable.add(values.buffer);
    return info;
  }

  /** Training: recycle outputs from now on; off: drop the pool (the garbage collector frees it). */
  setPooling(on: boolean): void {
    this.pooling = on;
    if (!on) {
      this.pool.clear();
      this.poolBytes = 0;
    }
  }

  private expose(values: Values): void {
    if (values && 'buffer' in values) this.recyclable.delete(values.buffer);
  }

  override write(values: Values, shape: number[], dtype: tf.DataType): tf.DataId {
    this.expose(values);
    return super.write(values as Float32Array, shape, dtype);
  }

  override move(dataId: tf.DataId, values: Values, shape: number[], dtype: tf.DataType, refCount: number): void {
    this.expose(values);
    super.move(dataId, values as Float32Array, shape, dtype, refCount);
  }

  override readSync(dataId: tf.DataId) {
    this.expose(this.data.get(dataId)?.values as Values);
    return super.readSync(dataId);
  }

  override disposeData(dataId: tf.DataId, force = false): boolean {
    const values = this.data.get(dataId)?.values;
    const freed = super.disposeData(dataId, force);
    if (freed && this.pooling && values instanceof Float32Array && this.recyclable.has(values.buffer)) {
      this.recyclable.delete(values.buffer);
      if (this.poolBytes + values.byteLength <= POOL_MAX_BYTES) {
        const free = this.pool.get(values.length) ?? [];
        free.push(values);
        this.pool.set(values.length, free);
        this.poolBytes += values.byteLength;
      }
    }
    return freed;
  }
}

/** Milliseconds and calls per kernel (every kernel of this backend, native or CPU) while profiling is on. */
export const kernelProfile: Record<string, { ms: number; calls: number }> = {};
let profiling = false;

/** Times every kernel call from now on (off: the wrappers cost one boolean test per call). */
export function setKernelProfiling(on: boolean): void {
  profiling = on;
}

function timed(name: string, kernel: KernelFunc): KernelFunc {
  return (args) => {
    if (!profiling) return kernel(args);
    const started = performance.now();
    const result = kernel(args);
    const entry = (kernelProfile[name] ??= { ms: 0, calls: 0 });
    entry.ms += performance.now() - started;
    entry.calls++;
    return result;
  };
}

let registered: NativeAddon | null = null;

/**
 * Called by whatever trains (LocalStepper): on the native backend, switches the addon's allocator to keep large
 * blocks in the heap, so a training step's big activations are reused warm instead of page-faulted afresh
 * (~4x cheaper elementwise passes; see native/src/addon.cc). Only training asks: predict and preprocess must
 * give decoded images' memory back. A no-op on every other backend.
 */
export function prepareNativeTraining(): void {
  const addon = nativeTrainingAddon();
  if (!addon) return;
  addon.keepLargeBlocksInHeap();
  (tf.backend() as NativeBackend).setPooling(true);
}

/** Training is over (the stepper is disposed): the native backend stops recycling and lets its pool go. */
export function endNativeTraining(): void {
  if (nativeTrainingAddon()) (tf.backend() as NativeBackend).setPooling(false);
}

/** The addon when the native backend is the active one (for kernels outside tfjs's registry, e.g. Adam). */
export function nativeTrainingAddon(): NativeAddon | null {
  return registered && tf.getBackend() === NATIVE_BACKEND ? registered : null;
}

/** Registers the backend (once): every CPU kernel, with the native ones in front of their CPU namesakes. */
export function registerNativeBackend(addon: NativeAddon): void {
  if (registered) return;
  registered = addon;
  tf.registerBackend(NATIVE_BACKEND, () => new NativeBackend(), 0);
  for (const config of tf.getKernelsForBackend('cpu')) {
    const cpu = config.kernelFunc as KernelFunc;
    const kernelFunc = timed(
      config.kernelName,
      config.kernelName in NATIVE_KERNELS ? nativeKernelFunc(addon, config.kernelName, cpu) : cpu,
    );
    tf.registerKernel({ ...config, backendName: NATIVE_BACKEND, kernelFunc: kernelFunc as unknown as tf.KernelFunc });
  }
}
