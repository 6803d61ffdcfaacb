/**
 * Picks the fastest TensorFlow.js backend this machine can run and says which one it is.
 *
 * Order: tfjs-node-gpu (CUDA) > tfjs-node (native libtensorflow, all cores) > native (realfake's oneDNN addon,
 * all cores, built at install when libdnnl-dev is there) > wasm (XNNPACK, one thread in Node) > cpu (plain
 * JavaScript, ~500x slower to train: tests only). The tfjs-node packages are optional dependencies: their
 * install script downloads libtensorflow, which fails offline, and npm then leaves them out.
 * REALFAKE_BACKEND=tfjs-node-gpu|tfjs-node|native|wasm|cpu forces one.
 */
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { loadNativeAddon } from './native-addon';
import { NATIVE_BACKEND, registerNativeBackend } from './native-backend';
import { registerWasmConvGradients } from './wasm-kernels';

export type BackendName = 'tfjs-node-gpu' | 'tfjs-node' | 'native' | 'wasm' | 'cpu';
export const BACKEND_ORDER: readonly BackendName[] = ['tfjs-node-gpu', 'tfjs-node', 'native', 'wasm', 'cpu'];

export interface BackendInfo {
  /** What realfake calls it (the package that provides it). */
  name: BackendName;
  /** tfjs's own name for the active backend ('tensorflow', 'wasm', 'cpu'). */
  tfBackend: string;
  /** Why earlier choices were passed over. */
  skipped: string[];
}

let active: BackendInfo | null = null;

// tfjs-node 4.22 calls util.isNullOrUndefined, removed in Node 23; restore it so the native backend loads there.
function polyfillNodeUtil(): void {
  const util = require('util');
  if (typeof util.isNullOrUndefined !== 'function')
    util.isNullOrUndefined = (v: unknown) => v === null || v === undefined;
}

/** Loads a native tfjs-node package (it registers the 'tensorflow' backend as a side effect). */
function loadNative(name: 'tfjs-node-gpu' | 'tfjs-node'): void {
  polyfillNodeUtil();
  const candidates =
    name === 'tfjs-node-gpu' ? ['@tensorflow/tfjs-node-gpu'] : ['tfjs-node-cpu', '@tensorflow/tfjs-node'];
  let lastError: unknown;
  for (const pkg of candidates) {
    try {
      require(pkg);
      // danfojs-node's copy of "@tensorflow/tfjs-node" is plain tfjs in disguise (see package.json overrides).
      if (!tf.findBackend('tensorflow')) throw new Error(`${pkg} did not register the native backend`);
      return;
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError;
}

/** Registers tfjs's wasm backend (its package does on load) with its .wasm files found in node_modules. */
function registerWasm(): void {
  const wasm = require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
  const dist = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
  wasm.setWasmPaths(dist + path.sep);
}

async function tryBackend(name: BackendName): Promise<string> {
  switch (name) {
    case 'tfjs-node-gpu':
    case 'tfjs-node':
      loadNative(name);
      if (!(await tf.setBackend('tensorflow'))) throw new Error('tensorflow backend failed to initialise');
      return 'tensorflow';
    case 'native': {
      const loaded = loadNativeAddon();
      if ('missing' in loaded) throw new Error(loaded.missing);
      registerNativeBackend(loaded.addon);
      if (!(await tf.setBackend(NATIVE_BACKEND))) throw new Error('native backend failed to initialise');
      return NATIVE_BACKEND;
    }
    case 'wasm': {
      registerWasm();
      if (!(await tf.setBackend('wasm'))) throw new Error('wasm backend failed to initialise');
      registerWasmConvGradients();
      return 'wasm';
    }
    case 'cpu':
      if (!(await tf.setBackend('cpu'))) throw new Error('cpu backend failed to initialise');
      return 'cpu';
  }
}

/**
 * Initialises the best available backend (or the one named by `prefer` / REALFAKE_BACKEND) once per process.
 * A forced backend that cannot load is an error, not a silent fallback.
 */
export async function initBackend(
  prefer: BackendName | undefined = process.env.REALFAKE_BACKEND as BackendName | undefined,
): Promise<BackendInfo> {
  if (active && (!prefer || prefer === active.name)) return active;
  if (prefer && !BACKEND_ORDER.includes(prefer)) {
    throw new Error(`REALFAKE_BACKEND: unknown backend "${prefer}" (choose one of: ${BACKEND_ORDER.join(', ')})`);
  }
  // The cpu backend greets Node users with a long advert for tfjs-node; we say which backend runs ourselves.
  tf.env().set('PROD', true);
  const skipped: string[] = [];
  for (const name of prefer ? [prefer] : BACKEND_ORDER) {
    try {
      const tfBackend = await tryBackend(name);
      active = { name, tfBackend, skipped };
      return active;
    } catch (err) {
      const reason = (err as Error).message.split('\n')[0];
      if (prefer) throw new Error(`backend ${name} is not available: ${reason}`);
      skipped.push(`${name}: ${reason}`);
    }
  }
  throw new Error(`no TensorFlow.js backend could start (${skipped.join('; ')})`);
}

let switching: Promise<unknown> = Promise.resolve();

/**
 * Runs `work` with tfjs's wasm backend active, then switches back, one such piece of work at a time (the backend
 * is global to tfjs). For small depthwise-separable nets (face-api's detector and landmarks) wasm's XNNPACK
 * kernels are several times faster than realfake's native backend, which runs those ops in tfjs's JavaScript
 * kernels (measured: 0.13 s vs 0.79 s per photo). Tensors made on the other backend move over on first use.
 * Where wasm cannot start, the work runs on the active backend.
 */
export function onWasmBackend<T>(work: () => Promise<T>): Promise<T> {
  const run = async () => {
    const previous = tf.getBackend();
    let switched = false;
    if (previous !== 'wasm') {
      try {
        registerWasm();
        switched = await tf.setBackend('wasm');
      } catch {
        switched = false;
      }
      if (!switched) await tf.setBackend(previous);
    }
    try {
      return await work();
    } finally {
      if (switched) await tf.setBackend(previous);
    }
  };
  const result = switching.then(run, run);
  switching = result.catch(() => undefined);
  return result;
}

/** The backend in use, or null before initBackend. */
export function activeBackend(): BackendInfo | null {
  return active;
}

/** E.g. "native (oneDNN 2.6.3, 2 threads)", or "wasm (...; native backend unavailable: <why>)". */
export function describeBackend(info: BackendInfo): string {
  const notes: Record<BackendName, string> = {
    'tfjs-node-gpu': 'native TensorFlow with CUDA',
    'tfjs-node': 'native TensorFlow, all CPU cores',
    native: 'oneDNN',
    wasm: 'WebAssembly + XNNPACK, one thread per process',
    cpu: 'plain JavaScript, very slow (tests only)',
  };
  const loaded = info.name === 'native' ? loadNativeAddon() : null;
  if (loaded && 'addon' in loaded) notes.native = loaded.addon.info().split('\n')[0];
  const nativeSkipped = info.skipped.find((s) => s.startsWith('native:'));
  return `${info.name} (${notes[info.name]}${nativeSkipped ? `; native backend unavailable: ${nativeSkipped.slice('native: '.length)}` : ''})`;
}
