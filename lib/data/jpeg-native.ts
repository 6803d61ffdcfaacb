/**
 * The faithful path's JPEG decoder: the system's libjpeg-turbo, through the native addon (native/src/jpeg_decode.cc),
 * set up exactly as Pillow sets it up (libjpeg's defaults: integer IDCT, fancy upsampling), so the pixels are PIL's
 * bit for bit. It is several times faster than sharp/libvips' full decode of the same file (BENCHMARKS.md), runs on
 * libuv's thread pool (so decodes run on every core) and, for PIL's nearest resize, keeps only the rows and
 * columns the sampler reads. sharp still decodes everything else (PNG, CMYK JPEG, --decode fast, resizers other
 * than nearest), and any JPEG this decoder does not decode cleanly: a libjpeg warning or error sends the file to
 * sharp, so bad files fail (or pass) with the same messages as before.
 *
 * Without the addon or its JPEG part (libjpeg62-turbo-dev absent at `npm ci`), sharp decodes everything, as before;
 * the pixels are the same either way (test/jpeg-native.test.ts). REALFAKE_JPEG_DECODER=sharp forces sharp.
 */
import { loadNativeAddon } from '../backend/native-addon';

export type JpegDecoderName = 'native' | 'sharp';

interface JpegAddon {
  /** params: [width, height, skipRows]; xs/ys: PIL's nearest source indices, or null for the whole image. */
  decodeJpeg(jpeg: Uint8Array, out: Uint8Array, params: Float64Array, xs: Int32Array | null, ys: Int32Array | null): Promise<void>;
  /** [width, height, components, exif] of a JPEG decodeJpeg takes (8-bit, greyscale or RGB, a clean header), else null. */
  jpegHeader(jpeg: Uint8Array): [number, number, number, number] | null;
  jpegVersion(): string;
}

let forced: JpegDecoderName | undefined;
let cached: { addon: JpegAddon } | { missing: string } | undefined;

function load(): { addon: JpegAddon } | { missing: string } {
  if (cached) return cached;
  const loaded = loadNativeAddon();
  if (!('addon' in loaded)) cached = { missing: loaded.missing };
  else if (typeof (loaded.addon as unknown as Partial<JpegAddon>).decodeJpeg !== 'function') {
    cached = { missing: 'the native addon was built without libjpeg-turbo (install libjpeg62-turbo-dev, then npm ci)' };
  } else cached = { addon: loaded.addon as unknown as JpegAddon };
  return cached;
}

/** Chooses the decoder for this process (tests and benchmarks compare the two); undefined restores the default. */
export function setJpegDecoder(name: JpegDecoderName | undefined): void {
  if (name === 'native' && !('addon' in load())) throw new Error(`native JPEG decoder unavailable: ${(load() as { missing: string }).missing}`);
  forced = name;
}

/** Whether JPEGs go to the native decoder (built, and not switched off). */
export function nativeJpegInUse(): boolean {
  return chosen() === 'native';
}

function chosen(): JpegDecoderName {
  if (forced) return forced;
  const env = process.env.REALFAKE_JPEG_DECODER;
  if (env === 'sharp') return 'sharp';
  return 'addon' in load() ? 'native' : 'sharp';
}

/** E.g. "libjpeg-turbo 2.1.5 (native, PIL's decode)" or "sharp (native decoder unavailable: <why>)". */
export function describeJpegDecoder(): string {
  const loaded = load();
  if (chosen() === 'native' && 'addon' in loaded) return `${loaded.addon.jpegVersion()} (native, PIL's decode)`;
  if ('missing' in loaded) return `sharp/libvips (native decoder unavailable: ${loaded.missing})`;
  return 'sharp/libvips (chosen by REALFAKE_JPEG_DECODER)';
}

/** What libjpeg read from the header of a JPEG the native decoder takes. */
export interface JpegHeader {
  width: number;
  height: number;
  /** 1 (greyscale) or 3. */
  components: number;
  /** An APP1 segment of more than 4 bytes starts with "Exif" (libvips' test for EXIF). */
  exif: boolean;
}

/**
 * The header of a JPEG the native decoder takes (8-bit greyscale or RGB, not CMYK, a header libjpeg reads without a
 * warning), or undefined: decode it with sharp.
 */
export function jpegHeaderNative(jpeg: Uint8Array): JpegHeader | undefined {
  const loaded = load();
  if (chosen() !== 'native' || !('addon' in loaded)) return undefined;
  const h = loaded.addon.jpegHeader(jpeg);
  return h ? { width: h[0], height: h[1], components: h[2], exif: h[3] === 1 } : undefined;
}

/**
 * Decodes `jpeg` (a `width` x `height` RGB or greyscale JPEG) to 8-bit RGB: the whole image, or only the pixels
 * PIL's nearest resize reads (`sample`: source column per output column, source row per output row, -1 past the
 * edge). Undefined when the native decoder is not in use or did not decode the file cleanly: decode it with sharp.
 */
export async function decodeJpegNative(
  jpeg: Uint8Array,
  width: number,
  height: number,
  sample?: { xs: Int32Array; ys: Int32Array },
): Promise<Uint8Array | undefined> {
  if (chosen() !== 'native') return undefined;
  const loaded = load();
  if (!('addon' in loaded)) return undefined;
  const out = new Uint8Array(sample ? sample.xs.length * sample.ys.length * 3 : width * height * 3);
  // skipRows: rows no output pixel reads are entropy-decoded but not upsampled or colour-converted (libjpeg-turbo's
  // jpeg_skip_scanlines). The kept rows stay bit-identical to a full decode (test/jpeg-native.test.ts, against PIL);
  // measured 5-25 % faster at 1024 -> 128 px.
  const skipRows = sample ? 1 : 0;
  try {
    await loaded.addon.decodeJpeg(jpeg, out, Float64Array.of(width, height, skipRows), sample?.xs ?? null, sample?.ys ?? null);
  } catch {
    return undefined; // sharp decodes it and reports any problem in its usual words
  }
  return out;
}
