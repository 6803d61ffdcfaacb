/**
 * Image file -> size x size x 3 uint8 RGB, the way the study's Keras `load_img(path, target_size)` does it:
 * decode, convert to RGB like PIL's `convert('RGB')`, then resize to exactly size x size (aspect ratio not kept).
 *
 * Fidelity to PIL, on purpose:
 * - 'nearest' reproduces PIL's Image.resize(NEAREST) pixel for pixel (see resizeNearestPil). sharp's own
 *   nearest kernel picks different source pixels, so we sample the fully decoded image ourselves.
 * - Alpha is dropped without compositing over a background (PIL's RGBA -> RGB simply discards A).
 * - EXIF orientation is NOT applied: PIL's open/convert/resize (and so Keras load_img) ignore it.
 * - Embedded ICC profiles are ignored (PIL ignores them too); pixel values are taken as sRGB.
 * - CMYK uses PIL's own (profile-free) CMYK -> RGB formula, not libvips' colour-managed conversion.
 *
 * Known differences from PIL (documented, not hidden):
 * - 'bilinear' and 'lanczos3' are sharp/libvips' antialiasing resizers, not PIL's; values differ slightly.
 *   For JPEG input they may use libjpeg's shrink-on-load, which is faster and differs slightly again.
 * - RGB and greyscale JPEGs are decoded by the system's libjpeg-turbo through the native addon, set up as Pillow
 *   sets it up (lib/data/jpeg-native.ts): PIL's pixels, bit for bit, when PIL uses the same libjpeg (Debian's
 *   does). Without the addon, sharp's libvips (mozjpeg, a libjpeg-turbo fork) decodes them: measured against
 *   Debian's Pillow 9.4 on 1,460 JPEGs (256px and 1024px), identical pixels too, but another PIL build or libjpeg
 *   could differ by a level or two.
 * - 16-bit images are reduced to 8 bits by keeping the high byte. PIL does the same for 16-bit RGB, but clips
 *   16-bit greyscale to 255 (nearly white), which we deliberately do not copy.
 */
import * as fs from 'fs';
import * as os from 'os';
import sharp from 'sharp';
import type { KernelEnum, Metadata, OutputInfo, ResizeOptions, Sharp, SharpOptions } from 'sharp';
import type { DecodeMode, ResizeMethod } from '../config';
import { FileAccessError, readFileHead, tryInspectPath } from '../file-access';
import { notRasterReason, RASTER_FORMATS, SNIFF_BYTES, sniffNonRaster } from './image-format';
import { decodeJpegNative, jpegHeaderNative, nativeJpegInUse } from './jpeg-native';
import type { JpegHeader } from './jpeg-native';

/** Smaller images carry too little to classify and are almost always icons or broken thumbnails. */
export const MIN_IMAGE_SIDE = 8;
/** 10000 x 10000: well above any face photo; the default of --max-pixels (see configureDecoding). */
export const MAX_IMAGE_PIXELS = 10000 * 10000;

/** A decoded image: row-major height x width x 3 uint8 RGB. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

// Each file is read once, so libvips' operation cache would only hold memory (and open files) for nothing.
sharp.cache(false);

/**
 * Peak memory is bounded by settings, not by the folder. A full decode holds up to 4 bytes per pixel (3 for
 * RGB, 4 for CMYK), so a budget of 4 x maxPixels bytes is shared by every decode in the process: small images
 * decode `concurrency` at a time, large ones wait their turn, and the largest allowed image runs alone.
 * (Measured before the budget: predict on eight 81-megapixel PNGs peaked at 1.5 GiB.)
 */
export interface DecodeLimits {
  /** Images with more pixels are refused ("image too large"). Default 100 megapixels. */
  maxPixels: number;
  /** Decodes running at once, whatever their size. Default: one per core. */
  concurrency: number;
}

const limits: DecodeLimits = { maxPixels: MAX_IMAGE_PIXELS, concurrency: os.availableParallelism() };

/** The process-wide decode limits (the CLI's --max-pixels and --concurrency set them). */
export function configureDecoding(changes: Partial<DecodeLimits>): DecodeLimits {
  if (changes.maxPixels !== undefined && !(Number.isInteger(changes.maxPixels) && changes.maxPixels >= MIN_IMAGE_SIDE ** 2)) {
    throw new Error(`maxPixels must be an integer >= ${MIN_IMAGE_SIDE ** 2} (got ${changes.maxPixels})`);
  }
  if (changes.concurrency !== undefined && !(Number.isInteger(changes.concurrency) && changes.concurrency >= 1)) {
    throw new Error(`decode concurrency must be a positive integer (got ${changes.concurrency})`);
  }
  Object.assign(limits, Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined)));
  return { ...limits };
}

export function decodeLimits(): DecodeLimits {
  return { ...limits };
}

/** First come, first served: a large request waiting blocks later small ones, so it is never starved. */
const queue: Array<{ bytes: number; wake: () => void }> = [];
let bytesInFlight = 0;
let decodesInFlight = 0;

const fits = (bytes: number) =>
  decodesInFlight === 0 || (decodesInFlight < limits.concurrency && bytesInFlight + bytes <= 4 * limits.maxPixels);

async function acquireDecode(bytes: number): Promise<() => void> {
  if (queue.length > 0 || !fits(bytes)) await new Promise<void>((wake) => queue.push({ bytes, wake }));
  else take(bytes);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    bytesInFlight -= bytes;
    decodesInFlight--;
    while (queue.length > 0 && fits(queue[0].bytes)) {
      const next = queue.shift()!;
      take(next.bytes);
      next.wake();
    }
  };
}

function take(bytes: number): void {
  bytesInFlight += bytes;
  decodesInFlight++;
}

const SHARP_KERNEL: Record<Exclude<ResizeMethod, 'nearest'>, keyof KernelEnum> = {
  bilinear: 'linear',
  lanczos3: 'lanczos3',
};

function fail(name: string, reason: string): never {
  throw new Error(`${name}: ${reason}`);
}

/** Turns sharp/libvips' multi-line messages into one short reason. */
function decodeFailure(err: unknown): string {
  const message = (err instanceof Error ? err.message : String(err)).split('\n')[0].trim();
  if (/unsupported image format/i.test(message)) return 'not an image (unrecognised or unsupported format)';
  if (/exceeds pixel limit/i.test(message)) return `image too large (over ${limits.maxPixels} pixels; see --max-pixels)`;
  if (/premature end|truncated|unexpected end|not enough data|read error|incomplete/i.test(message)) {
    return `truncated or corrupt image data (${message})`;
  }
  return `cannot decode image (${message})`;
}

/*
 * libvips keeps one error-message buffer for all threads: when two decodes fail at the same time, their messages
 * can be swapped or lost ("Unknown error"), which would make skip reasons depend on timing. So a failed load is
 * retried alone, with no other load running, and the retry's error (its own, accurate message) is thrown.
 * Failures are rare, so the cost is negligible.
 */
let activeLoads = 0;
let exclusiveLoad: Promise<void> | null = null;
const wakeWhenIdle: Array<() => void> = [];

async function withAccurateErrors<T>(load: () => Promise<T>): Promise<T> {
  while (exclusiveLoad) await exclusiveLoad;
  activeLoads++;
  try {
    return await load();
  } catch {
    // fall through to the solo retry below, after leaving the shared section
  } finally {
    if (--activeLoads === 0) wakeWhenIdle.splice(0).forEach((wake) => wake());
  }
  while (exclusiveLoad) await exclusiveLoad;
  let release!: () => void;
  exclusiveLoad = new Promise((resolve) => (release = resolve));
  try {
    if (activeLoads > 0) await new Promise<void>((resolve) => wakeWhenIdle.push(resolve));
    return await load();
  } finally {
    exclusiveLoad = null;
    release();
  }
}

// failOn 'error' rejects truncated and corrupt data but, like PIL, tolerates libjpeg/libpng warnings.
const sharpOptions = (): SharpOptions => ({
  failOn: 'error',
  limitInputPixels: limits.maxPixels,
  ignoreIcc: true,
  autoOrient: false,
  sequentialRead: true,
});

/**
 * Opens an image and checks it before decoding, so bad files fail fast with their true reason: the file
 * system's (permission denied, link loop ...), then the content's (a vector format, whatever its name), then
 * the header's (size limits).
 */
async function openImage(input: string | Buffer, name: string): Promise<{ image: Sharp; meta: Metadata }> {
  let head: Buffer;
  if (typeof input === 'string') {
    try {
      ({ head } = await readFileHead(input, SNIFF_BYTES));
    } catch (err) {
      if (err instanceof FileAccessError) fail(name, err.reason.startsWith('not found') ? 'file not found' : err.reason);
      throw err;
    }
  } else {
    head = input.subarray(0, SNIFF_BYTES);
  }
  if (head.length === 0) fail(name, 'empty file');
  const vector = sniffNonRaster(head);
  if (vector) fail(name, notRasterReason(vector));
  const image = sharp(input, sharpOptions());
  let meta: Metadata;
  try {
    meta = await image.metadata();
  } catch (err) {
    fail(name, decodeFailure(err));
  }
  // Checked after the sniff too (an SVG past its first 4 KB of text). The loaders themselves stay enabled, since
  // lib/data/synth.ts rasterises its own SVG drawings.
  if (!RASTER_FORMATS.has(meta.format ?? '')) {
    fail(name, ['svg', 'pdf', 'magick'].includes(meta.format ?? '') ? notRasterReason(meta.format!.toUpperCase()) : `not an image (unsupported format ${meta.format})`);
  }
  const { width, height } = meta;
  if (!width || !height) fail(name, 'image has no dimensions');
  if (width < MIN_IMAGE_SIDE || height < MIN_IMAGE_SIDE) {
    fail(name, `image too small (${width}x${height}; need at least ${MIN_IMAGE_SIDE}x${MIN_IMAGE_SIDE})`);
  }
  if (width * height > limits.maxPixels) fail(name, `image too large (${width}x${height}; limit ${limits.maxPixels} pixels, see --max-pixels)`);
  return { image, meta };
}

/*
 * A decoded image lives in a Buffer that only V8's garbage collector frees, and V8 collects external memory
 * lazily: measured on eight 81-megapixel PNGs decoded one at a time, the previous image's 243 MB was usually
 * still held when the next one arrived (peak 607 MB instead of ~380). So after a large decode, once its
 * pixels are no longer referenced, a full collection runs before the budget is handed on. It takes tens of
 * milliseconds and only follows decodes of 8 megapixels or more, which take far longer themselves.
 */
const LARGE_DECODE_BYTES = 32 * 2 ** 20;
let collectGarbage: (() => void) | null | undefined;

function collectAfterLargeDecode(): void {
  if (collectGarbage === undefined) {
    try {
      // gc() is only exposed with --expose-gc; a context created after setting the flag gets it.
      require('v8').setFlagsFromString('--expose-gc');
      collectGarbage = require('vm').runInNewContext('gc') as () => void;
    } catch {
      collectGarbage = null;
    }
  }
  collectGarbage?.();
}

/** Decodes under the process-wide memory budget (see DecodeLimits). */
async function withinBudget<T>(meta: { width?: number; height?: number }, decode: () => Promise<T>): Promise<T> {
  const bytes = meta.width! * meta.height! * 4;
  const release = await acquireDecode(bytes);
  try {
    return await decode();
  } finally {
    if (bytes >= LARGE_DECODE_BYTES) collectAfterLargeDecode();
    release();
  }
}

/**
 * The native JPEG decoder's path (lib/data/jpeg-native.ts) for a plain 8-bit RGB or greyscale JPEG: the file is read
 * once, its header checked by libjpeg (the checks openImage makes with sharp), then `decode` runs under the memory
 * budget. Undefined whenever anything is unusual (not a JPEG, CMYK, over a limit, unreadable, a libjpeg warning or
 * error, no native decoder): the sharp path then handles the file, and reports any problem, exactly as it always has.
 */
async function viaNativeJpeg<T>(
  input: string | Buffer,
  decode: (bytes: Buffer, width: number, height: number) => Promise<T | undefined>,
): Promise<{ value: T; bytes: Buffer; header: JpegHeader } | undefined> {
  if (!nativeJpegInUse()) return undefined;
  let bytes = typeof input === 'string' ? undefined : input;
  if (typeof input === 'string') {
    // Only names that say JPEG are read whole here, so other files are not read twice.
    if (!/\.(jpe?g|jpe|jfif)$/i.test(input)) return undefined;
    // Read synchronously: measured 0.1-0.4 ms of CPU per 1024 px JPEG, against 0.5-0.9 ms through a FileHandle
    // (readFileHead), which was a quarter of the whole load. The decode itself runs off the main thread.
    const info = tryInspectPath(input);
    if (info instanceof FileAccessError || info.kind !== 'file' || info.size > 4 * limits.maxPixels) return undefined;
    try {
      bytes = fs.readFileSync(input);
    } catch {
      return undefined;
    }
  }
  if (!bytes || bytes.length < 3 || bytes[0] !== 0xff || bytes[1] !== 0xd8 || bytes[2] !== 0xff) return undefined;
  const header = jpegHeaderNative(bytes);
  if (!header) return undefined;
  const { width, height } = header;
  if (width < MIN_IMAGE_SIDE || height < MIN_IMAGE_SIDE || width * height > limits.maxPixels) return undefined;
  const jpeg = bytes;
  const value = await withinBudget({ width, height }, () => decode(jpeg, width, height));
  return value === undefined ? undefined : { value, bytes: jpeg, header };
}

/** 8-bit sRGB without alpha, whatever the input (grey, grey+alpha, palette, RGBA, 16-bit). */
function asRgb8(image: Sharp): Sharp {
  return image.removeAlpha().toColourspace('srgb');
}

async function rawPixels(pipeline: Sharp, name: string): Promise<{ data: Buffer; info: OutputInfo }> {
  try {
    return await pipeline.raw().toBuffer({ resolveWithObject: true });
  } catch (err) {
    fail(name, decodeFailure(err));
  }
}

/**
 * PIL's cmyk2rgb (libImaging/Convert.c): channel = clip(nk - round(C * nk / 255)) with nk = 255 - K, using
 * its MULDIV255 integer rounding. libvips decodes Adobe-inverted CMYK JPEGs to the same CMYK values as PIL.
 */
function cmykToRgbPil(cmyk: Buffer, channels: number, width: number, height: number): RgbImage {
  const muldiv255 = (a: number, b: number) => {
    const t = a * b + 128;
    return ((t >> 8) + t) >> 8;
  };
  const data = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) {
    const nk = 255 - cmyk[p * channels + 3];
    for (let c = 0; c < 3; c++) data[p * 3 + c] = Math.max(0, nk - muldiv255(cmyk[p * channels + c], nk));
  }
  return { data, width, height };
}

/** The whole image as 8-bit RGB, converted the way PIL's convert('RGB') does. */
async function decodeOpened(image: Sharp, meta: Metadata, name: string): Promise<RgbImage> {
  if (meta.space === 'cmyk') {
    // Keep the decoder's CMYK values: sharp would otherwise colour-manage them into sRGB first.
    const { data, info } = await rawPixels(image.pipelineColourspace('cmyk').toColourspace('cmyk'), name);
    return cmykToRgbPil(data, info.channels, info.width, info.height);
  }
  return asRgb(await rawPixels(asRgb8(image), name), name);
}

function asRgb({ data, info }: { data: Buffer; info: OutputInfo }, name: string): RgbImage {
  if (info.channels !== 3) fail(name, `unexpected ${info.channels} channels after RGB conversion`);
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
}

/** Fully decodes an image to 8-bit RGB at its own size (no resizing, no EXIF rotation). */
export function decodeImageRgb(input: string | Buffer, name = typeof input === 'string' ? input : 'image'): Promise<RgbImage> {
  return withAccurateErrors(async () => {
    const native = await viaNativeJpeg(input, async (bytes, width, height) => {
      const data = await decodeJpegNative(bytes, width, height);
      return data && { data, width, height };
    });
    if (native) return native.value;
    const { image, meta } = await openImage(input, name);
    return withinBudget(meta, () => decodeOpened(image, meta, name));
  });
}

/**
 * PIL's Image.resize(size, NEAREST), exactly. Pillow (_imaging.c `_resize`) builds the affine scale
 * a = srcWidth / width and runs ImagingScaleAffine (libImaging/Geometry.c), which starts at the centre of the
 * first output pixel, xo = a * 0.5, and for each next output pixel ADDS a (accumulating in doubles);
 * the source index is (int)xo, i.e. truncation. Rows work the same way with srcHeight / height.
 * We reproduce the accumulation rather than computing floor((x + 0.5) * a) directly, because the two can
 * differ by one pixel when rounding error lands on an integer boundary. A source index past the edge (not
 * reachable for sane sizes) is filled with black, as PIL's `fill` does.
 */
export function resizeNearestPil(src: RgbImage, width: number, height: number): Uint8Array {
  if (src.width === width && src.height === height) return src.data.slice(); // PIL returns a plain copy here
  const xs = pilNearestIndices(width, src.width);
  const ys = pilNearestIndices(height, src.height);
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    if (ys[y] < 0) continue;
    const rowStart = ys[y] * src.width * 3;
    for (let x = 0; x < width; x++) {
      if (xs[x] < 0) continue;
      const from = rowStart + xs[x] * 3;
      const to = (y * width + x) * 3;
      out[to] = src.data[from];
      out[to + 1] = src.data[from + 1];
      out[to + 2] = src.data[from + 2];
    }
  }
  return out;
}

/** The source index resizeNearestPil reads for each of `count` output columns (or rows); -1 past the edge. */
export function pilNearestIndices(count: number, srcCount: number): Int32Array {
  // Equal sizes copy (see above), which the accumulation also gives: position i + 0.5 truncates to i.
  const scale = srcCount / count;
  const index = new Int32Array(count);
  let position = scale * 0.5;
  for (let i = 0; i < count; i++) {
    const s = Math.trunc(position);
    index[i] = s < srcCount ? s : -1;
    position += scale;
  }
  return index;
}

/**
 * The pixels, and, when the native JPEG path decoded the file, its bytes (read whole on the way) and what libjpeg
 * read from its header: a caller that needs them too (preprocessing's image facts) need not read or parse again.
 */
interface Loaded {
  pixels: Uint8Array;
  bytes?: Buffer;
  jpegHeader?: JpegHeader;
}

async function loadRgb(input: string | Buffer, name: string, size: number, resize: ResizeMethod, decode: DecodeMode): Promise<Loaded> {
  if (!Number.isInteger(size) || size <= 0) throw new Error(`image size must be a positive integer (got ${size})`);
  if (resize === 'nearest' && decode === 'full') {
    // Only the pixels PIL's nearest sampling reads are kept (all are still decoded).
    const native = await viaNativeJpeg(input, (bytes, width, height) =>
      decodeJpegNative(bytes, width, height, { xs: pilNearestIndices(size, width), ys: pilNearestIndices(size, height) }),
    );
    if (native) return { pixels: native.value, bytes: native.bytes, jpegHeader: native.header };
  }
  const { image, meta } = await openImage(input, name);
  return { pixels: await withinBudget(meta, () => resizeOpened(image, meta, name, size, resize, decode)) };
}

async function resizeOpened(image: Sharp, meta: Metadata, name: string, size: number, resize: ResizeMethod, decode: DecodeMode): Promise<Uint8Array> {
  if (decode === 'fast' && meta.format === 'jpeg' && !meta.hasAlpha && meta.space !== 'cmyk') {
    // The opt-in: libjpeg decodes straight to 1/2, 1/4 or 1/8 size (block averages from the DCT), never
    // below the target, and sharp's kernel finishes the resize. Not PIL's pixels; recorded in info.json.
    const kernel = resize === 'nearest' ? 'nearest' : SHARP_KERNEL[resize];
    if (!kernel) throw new Error(`unknown resize method "${resize}"`);
    return asRgb(await rawPixels(asRgb8(image).resize({ width: size, height: size, fit: 'fill', kernel, fastShrinkOnLoad: true }), name), name).data;
  }
  if (resize === 'nearest') {
    // Always a full decode: JPEG shrink-on-load would change which pixels exist to be sampled.
    return resizeNearestPil(await decodeOpened(image, meta, name), size, size);
  }
  const kernel = SHARP_KERNEL[resize];
  if (!kernel) throw new Error(`unknown resize method "${resize}"`);
  const resizeOptions: ResizeOptions = { width: size, height: size, fit: 'fill', kernel };
  if (!meta.hasAlpha && meta.space !== 'cmyk') {
    // One pipeline: lets libvips shrink JPEGs while decoding (much faster for 1024px inputs).
    return asRgb(await rawPixels(asRgb8(image).resize(resizeOptions), name), name).data;
  }
  // sharp would premultiply by alpha (and colour-manage CMYK) before resizing; convert to RGB the PIL way
  // first, then resize the opaque RGB pixels.
  const rgb = await decodeOpened(image, meta, name);
  const opaque = sharp(rgb.data, { raw: { width: rgb.width, height: rgb.height, channels: 3 } });
  return asRgb(await rawPixels(opaque.resize(resizeOptions), name), name).data;
}

/**
 * Loads an image file as size x size x 3 uint8 RGB (row-major), resized with `resize`.
 * Throws Error('<file>: <reason>') for missing, empty, non-image, truncated, too small or too large files.
 */
export async function loadImageRgb(file: string, size: number, resize: ResizeMethod, decode: DecodeMode = 'full'): Promise<Uint8Array> {
  return (await loadImageRgbAndBytes(file, size, resize, decode)).pixels;
}

/**
 * loadImageRgb that also gives the file's bytes when it read them whole (the native JPEG path does), so a caller
 * that needs them too (preprocessing's image facts) need not read the file again.
 */
export function loadImageRgbAndBytes(file: string, size: number, resize: ResizeMethod, decode: DecodeMode = 'full'): Promise<Loaded> {
  return withAccurateErrors(() => loadRgb(file, file, size, resize, decode));
}

/** loadImageRgb for bytes already in memory (an upload, a zip entry); `name` is used in error messages. */
export function loadImageRgbFromBuffer(buffer: Buffer, size: number, resize: ResizeMethod, name = 'image', decode: DecodeMode = 'full'): Promise<Uint8Array> {
  return withAccurateErrors(async () => (await loadRgb(buffer, name, size, resize, decode)).pixels);
}
