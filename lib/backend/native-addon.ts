/**
 * Loads the optional oneDNN addon (native/, built at install by native/build.js when libdnnl-dev, a C++
 * compiler and make are present). Every function reads and writes the Float32Arrays it is given in place;
 * shapes travel in a Float64Array. Absent addon: loadNativeAddon says why, and realfake runs on wasm.
 */
import * as fs from 'fs';
import * as path from 'path';
import { projectRoot } from '../files';

type F32 = Float32Array;

export interface NativeAddon {
  /** Training's allocator setting: keep large freed blocks in the heap (fast reuse; RSS stays at its peak). */
  keepLargeBlocksInHeap(): void;
  /** Whether keepLargeBlocksInHeap has run in this process. */
  largeBlocksInHeap(): boolean;
  /** params: [n, ih, iw, ic, kh, kw, oc, oh, ow, sh, sw, dh, dw, padTop, padLeft, padBottom, padRight, relu] */
  convForward(x: F32, filter: F32, bias: F32 | null, y: F32, params: Float64Array): void;
  convBackwardData(dy: F32, filter: F32, dx: F32, params: Float64Array): void;
  convBackwardFilter(x: F32, dy: F32, dw: F32, params: Float64Array): void;
  /** params: [batch, m, k, n, transposeA, transposeB, relu] */
  matMul(a: F32, b: F32, bias: F32 | null, c: F32, params: Float64Array): void;
  /** params: [n, ih, iw, c, oh, ow, fh, fw, sh, sw, dh, dw, padTop, padLeft] */
  maxPool(x: F32, y: F32, params: Float64Array): void;
  maxPoolGrad(dy: F32, x: F32, dx: F32, params: Float64Array): void;
  avgPool(x: F32, y: F32, params: Float64Array): void;
  avgPoolGrad(dy: F32, dx: F32, params: Float64Array): void;
  /** params: [n, bn]: b has bn elements, repeated along a's n. */
  add(a: F32, b: F32, out: F32, params: Float64Array): void;
  mul(a: F32, b: F32, out: F32, params: Float64Array): void;
  sub(a: F32, b: F32, out: F32, params: Float64Array): void;
  div(a: F32, b: F32, out: F32, params: Float64Array): void;
  /** params: [batch, h, w, c, bh, bw, top, left, oh, ow] (spatial tensor, block, padding or crop, batched size) */
  spaceToBatch(x: F32, out: F32, params: Float64Array): void;
  batchToSpace(x: F32, out: F32, params: Float64Array): void;
  relu(x: F32, out: F32, params: Float64Array): void;
  /** params: [n, alpha] */
  step(x: F32, out: F32, params: Float64Array): void;
  /** params: [rows, cols]: out[c] = sum over rows. */
  sumRows(x: F32, out: F32, params: Float64Array): void;
  /**
   * Adam's update of one variable in place (value, m, v; g read).
   * params: [n, -lr, beta1, beta2, 1 - beta1, 1 - beta2, epsilon, 1 - beta1^t, 1 - beta2^t]
   */
  adam(value: F32, m: F32, v: F32, g: F32, params: Float64Array): void;
  /** oneDNN's version, its thread count, and which implementation ran for each primitive so far. */
  info(): string;
}

export function nativeAddonPath(): string {
  return path.join(projectRoot(), 'native', 'build', 'Release', 'realfake_native.node');
}

let cached: { addon: NativeAddon } | { missing: string } | null = null;

/** The addon, or why it cannot load (not built at install, or libdnnl missing at run time). */
export function loadNativeAddon(): { addon: NativeAddon } | { missing: string } {
  if (cached) return cached;
  const file = nativeAddonPath();
  if (!fs.existsSync(file)) {
    cached = {
      missing: `${path.relative(process.cwd(), file) || file} not built (needs libdnnl-dev, g++ and make at npm ci; see native/build.js)`,
    };
  } else {
    try {
      cached = { addon: require(file) as NativeAddon };
    } catch (err) {
      cached = { missing: `${file} does not load: ${(err as Error).message.split('\n')[0]}` };
    }
  }
  return cached;
}
