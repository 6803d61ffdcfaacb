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

class NativeBackend extends MathBackendCPU {}

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
  if (registered && tf.getBackend() === NATIVE_BACKEND) registered.keepLargeBlocksInHeap();
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
