/**
 * The embedded default dataset: procedural, face-like images in two classes that differ only in HOW they were
 * made, like camera photos versus GAN output, so realfake runs end to end without downloading anything.
 *
 * Every image is an SVG face (head shape, skin tone, eyes, brows, nose, mouth, hair, glasses, lighting,
 * background) drawn from ONE distribution for both classes; the content never gives the class away. Then:
 * - "real" (camera-like): rasterised at the final size with librsvg/cairo's coverage antialiasing (each pixel
 *   gets the area-average of the scene, as a sensor pixel integrates light), plus mild Gaussian sensor noise.
 * - "fake" (generator-like): rasterised at half the size and upsampled 2x the way a transposed convolution
 *   does, with slightly unbalanced weights between the pixels it copies and the ones it interpolates, which
 *   leaves the periodic checkerboard trace known from GAN decoders; no sensor noise.
 * `difficulty` in [0, 1] blends the fake towards the camera path: fake = t * generator + (1 - t) * camera with
 * t = 1 - difficulty. At 0 the traces are at full strength; at 1 both classes come from the same process and
 * nothing can tell them apart (accuracy 50% is the honest answer).
 * By default both classes are saved as RGB PNG of the same size, so the file format carries no label. With
 * `formats: 'study'` they are saved in the study's data shape instead (real: PNG at `size`; fake: upscaled
 * STUDY_FORMAT.scale x with Lanczos and saved as JPEG q STUDY_FORMAT.quality), so that the file alone gives the
 * label away: the embedded data for `realfake audit` and its tests.
 * Deterministic: image i of a class depends only on (seed, class, i), so output bytes do not depend on timing.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { readJson, writeFileAtomic, writeJsonAtomic } from '../files';
import { gaussian, makeRng } from '../random';
import type { Rng } from '../random';

/**
 * Default difficulty. Meant to give the smoke preset (64px, ~200 per class, ~8 epochs) a real learning curve
 * rather than 100% after one epoch; provisional until measured with the study's CNN.
 */
export const DEFAULT_SYNTH_DIFFICULTY = 0.3;

/** Bumped whenever the images a seed produces change, so cached synthetic datasets are regenerated. */
export const SYNTH_GENERATOR_VERSION = 2;

export const SYNTH_DEFAULTS = {
  count: 300,
  size: 128,
  seed: 42,
  difficulty: DEFAULT_SYNTH_DIFFICULTY,
} as const;

/** The smallest image side the generator draws (its faces are drawn at half size, then upsampled 2x). */
export const MIN_SYNTH_SIZE = 16;

/** Sensor noise standard deviation, in 8-bit levels (varies per image in this range). */
const SENSOR_NOISE_RANGE: [number, number] = [1.5, 4];
/** Generator path: |gain - 1| of interpolated pixels, per image in this range (the checkerboard strength). */
const CHECKERBOARD_GAIN_RANGE: [number, number] = [0.15, 0.3];

/** How `formats: 'study'` saves the fakes: like the study's 1024 px JPEGs against 128 px PNG thumbnails. */
export const STUDY_FORMAT = Object.freeze({ scale: 4, quality: 95 });

/** 'same': both classes PNG at `size`; 'study': reals PNG at `size`, fakes JPEG at STUDY_FORMAT.scale x `size`. */
export type SynthFormats = 'same' | 'study';

export interface SynthOptions {
  /** Output folder; images go to <out>/real and <out>/fake. */
  out: string;
  /** Images per class. */
  count?: number;
  /** Side of the square images, even, at least 16. */
  size?: number;
  seed?: number;
  /** 0 = strongest generator traces, 1 = none (classes indistinguishable). */
  difficulty?: number;
  /** File formats of the two classes (default 'same'). */
  formats?: SynthFormats;
  concurrency?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface SynthResult {
  realDir: string;
  fakeDir: string;
  count: number;
  size: number;
  seed: number;
  difficulty: number;
  formats: SynthFormats;
  seconds: number;
}

/** Written last to <out>/synth.json; its presence means the folders are complete. */
interface SynthInfo {
  format: 'realfake-synth';
  /** SYNTH_GENERATOR_VERSION when written: a dataset from an older generator is made again. */
  version: number;
  count: number;
  size: number;
  seed: number;
  difficulty: number;
  /** Absent in folders written before formats existed: 'same'. */
  formats?: SynthFormats;
}

type Rgb = [number, number, number];

const SKIN_TONES: Rgb[] = [[255, 224, 196], [241, 194, 150], [224, 172, 105], [198, 134, 66], [141, 85, 36], [92, 56, 32]];
const HAIR_COLOURS: Rgb[] = [[20, 15, 10], [60, 40, 25], [110, 70, 40], [200, 160, 90], [160, 160, 160], [140, 50, 20]];
const IRIS_COLOURS: Rgb[] = [[70, 45, 20], [40, 90, 150], [60, 110, 60], [90, 100, 110], [30, 20, 10]];

const uniform = (rng: Rng, lo: number, hi: number) => lo + (hi - lo) * rng();
const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)];
const clamp255 = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : v);
const jitter = (rng: Rng, c: Rgb, amount: number): Rgb => c.map((v) => clamp255(v + uniform(rng, -amount, amount))) as Rgb;
const shade = (c: Rgb, factor: number): Rgb => c.map((v) => clamp255(v * factor)) as Rgb;
const css = (c: Rgb) => `rgb(${c.map(Math.round).join(',')})`;
const f = (v: number) => v.toFixed(2);

/** The background: a two-colour gradient at a random angle and three translucent blobs (drawn first). */
function drawBackground(rng: Rng) {
  const bgA = [uniform(rng, 0, 255), uniform(rng, 0, 255), uniform(rng, 0, 255)] as Rgb;
  const bgB = jitter(rng, bgA, 90);
  const bgAngle = uniform(rng, 0, 360);
  const blobs = Array.from({ length: 3 }, () => {
    const c = jitter(rng, bgB, 80);
    return `<ellipse cx="${f(uniform(rng, 0, 100))}" cy="${f(uniform(rng, 0, 100))}" rx="${f(uniform(rng, 10, 40))}" ry="${f(uniform(rng, 10, 40))}" fill="${css(c)}" opacity="0.35"/>`;
  }).join('');
  return { bgA, bgB, bgAngle, blobs };
}

/** The face's random features, drawn in a fixed order (the order is part of what a seed means). */
function drawFeatures(rng: Rng) {
  const cx = 50 + gaussian(rng) * 3;
  const cy = 50 + gaussian(rng) * 3;
  const rx = uniform(rng, 23, 31);
  const ry = uniform(rng, 29, 37);
  const tilt = gaussian(rng) * 5;
  const skin = jitter(rng, pick(rng, SKIN_TONES), 12);
  const hair = jitter(rng, pick(rng, HAIR_COLOURS), 15);
  const clothes = [uniform(rng, 0, 255), uniform(rng, 0, 255), uniform(rng, 0, 255)] as Rgb;
  const light = { x: uniform(rng, 25, 75), y: uniform(rng, 20, 60) };
  const longHair = rng() < 0.45;
  const bald = rng() < 0.12;
  const fringe = uniform(rng, 0.45, 0.75);
  const sideburn = uniform(rng, -0.1, 0.25);
  const parting = uniform(rng, -0.4, 0.4);

  const eyeY = cy - ry * uniform(rng, 0.02, 0.18);
  const eyeDx = rx * uniform(rng, 0.36, 0.48);
  const eyeRx = uniform(rng, 4.2, 6.5);
  const eyeRy = uniform(rng, 2.2, 3.8);
  const irisR = Math.min(eyeRy * 0.95, uniform(rng, 1.8, 2.8));
  const iris = jitter(rng, pick(rng, IRIS_COLOURS), 15);
  const gaze = gaussian(rng) * 0.8;
  const browLift = uniform(rng, 4.5, 7.5);
  const browArch = uniform(rng, 0.5, 3);
  const browSlant = gaussian(rng) * 1.2;
  const browWidth = uniform(rng, 1, 2.6);
  const noseY = cy + ry * uniform(rng, 0.2, 0.32);
  const noseW = uniform(rng, 3, 5.5);
  const mouthY = cy + ry * uniform(rng, 0.48, 0.6);
  const mouthW = uniform(rng, 8, 15);
  const smile = uniform(rng, -2, 5);
  const lips = jitter(rng, [Math.min(255, skin[0] * 0.85 + 40), skin[1] * 0.55, skin[2] * 0.55], 10);
  const glasses = rng() < 0.15;
  const beard = rng() < 0.12;
  const overlayAngle = uniform(rng, 0, 360);
  const overlayStrength = uniform(rng, 0.1, 0.35);
  return { cx, cy, rx, ry, tilt, skin, hair, clothes, light, longHair, bald, fringe, sideburn, parting, eyeY, eyeDx, eyeRx, eyeRy, irisR, iris, gaze, browLift, browArch, browSlant, browWidth, noseY, noseW, mouthY, mouthW, smile, lips, glasses, beard, overlayAngle, overlayStrength };
}

type Background = ReturnType<typeof drawBackground>;
type Features = ReturnType<typeof drawFeatures>;

/** The background's gradient, `url(#bg)`. */
function backgroundGradient(bg: Background): string {
  return `<linearGradient id="bg" gradientTransform="rotate(${f(bg.bgAngle)} 0.5 0.5)"><stop offset="0" stop-color="${css(bg.bgA)}"/><stop offset="1" stop-color="${css(bg.bgB)}"/></linearGradient>`;
}

/**
 * The generator's background with no face on it (gradient and blobs): an empty scene for measuring how often a
 * face finder sees a face where there is none (bench/faces.ts).
 */
export function emptySceneDrawing(rng: Rng): string {
  const bg = drawBackground(rng);
  return `<defs>${backgroundGradient(bg)}</defs><rect width="100" height="100" fill="url(#bg)"/>${bg.blobs}`;
}

/** Gradients: background, skin lit from one side, and a light overlay over the whole picture. */
function gradientDefs(bg: Background, p: Features): string {
  const { skin, light, overlayAngle, overlayStrength } = p;
  return (
    `<defs>` +
    backgroundGradient(bg) +
    `<radialGradient id="skin" cx="${f(light.x / 100)}" cy="${f(light.y / 100)}" r="0.75"><stop offset="0" stop-color="${css(shade(skin, 1.12))}"/><stop offset="1" stop-color="${css(shade(skin, 0.72))}"/></radialGradient>` +
    `<linearGradient id="light" gradientTransform="rotate(${f(overlayAngle)} 0.5 0.5)"><stop offset="0" stop-color="white" stop-opacity="${f(overlayStrength)}"/><stop offset="1" stop-color="black" stop-opacity="${f(overlayStrength)}"/></linearGradient>` +
    `</defs>`
  );
}

/** One eye (white, iris, pupil, highlight, lid) with its brow; side -1 is the viewer's left. */
function eyeSvg(p: Features, side: -1 | 1): string {
  const { cx, eyeDx, eyeY, eyeRx, eyeRy, gaze, irisR, iris, skin, hair, browLift, browSlant, browArch, browWidth } = p;
  const ex = cx + side * eyeDx;
  return (
    `<ellipse cx="${f(ex)}" cy="${f(eyeY)}" rx="${f(eyeRx)}" ry="${f(eyeRy)}" fill="rgb(245,245,240)"/>` +
    `<circle cx="${f(ex + gaze)}" cy="${f(eyeY)}" r="${f(irisR)}" fill="${css(iris)}"/>` +
    `<circle cx="${f(ex + gaze)}" cy="${f(eyeY)}" r="${f(irisR * 0.45)}" fill="rgb(10,10,10)"/>` +
    `<circle cx="${f(ex + gaze + irisR * 0.35)}" cy="${f(eyeY - irisR * 0.35)}" r="${f(irisR * 0.2)}" fill="white"/>` +
    `<path d="M${f(ex - eyeRx)},${f(eyeY)} Q${f(ex)},${f(eyeY - eyeRy * 1.6)} ${f(ex + eyeRx)},${f(eyeY)}" stroke="${css(shade(skin, 0.55))}" stroke-width="0.8" fill="none"/>` +
    `<path d="M${f(ex - eyeRx * 1.1)},${f(eyeY - browLift + side * browSlant)} Q${f(ex)},${f(eyeY - browLift - browArch)} ${f(ex + eyeRx * 1.1)},${f(eyeY - browLift - side * browSlant)}" stroke="${css(shade(hair, 0.8))}" stroke-width="${f(browWidth)}" stroke-linecap="round" fill="none"/>`
  );
}

/** Head, neck, ears, clothes, beard and hair (everything behind and around the eyes). */
function headSvg(p: Features): string {
  const { cx, cy, rx, ry, eyeY, skin, hair, clothes, longHair, bald, beard, fringe, sideburn, parting } = p;
  return (
    (longHair ? `<ellipse cx="${f(cx)}" cy="${f(cy + ry * 0.25)}" rx="${f(rx * 1.22)}" ry="${f(ry * 1.15)}" fill="${css(hair)}"/>` : '') +
    `<ellipse cx="${f(cx)}" cy="${f(100 + 8)}" rx="${f(rx * 1.7)}" ry="${f(24)}" fill="${css(clothes)}"/>` +
    `<rect x="${f(cx - rx * 0.38)}" y="${f(cy + ry * 0.6)}" width="${f(rx * 0.76)}" height="${f(30)}" fill="${css(shade(skin, 0.8))}"/>` +
    `<ellipse cx="${f(cx - rx)}" cy="${f(eyeY + 4)}" rx="3.5" ry="6.5" fill="${css(shade(skin, 0.85))}"/>` +
    `<ellipse cx="${f(cx + rx)}" cy="${f(eyeY + 4)}" rx="3.5" ry="6.5" fill="${css(shade(skin, 0.85))}"/>` +
    `<ellipse cx="${f(cx)}" cy="${f(cy)}" rx="${f(rx)}" ry="${f(ry)}" fill="url(#skin)"/>` +
    (beard ? `<ellipse cx="${f(cx)}" cy="${f(cy + ry * 0.62)}" rx="${f(rx * 0.8)}" ry="${f(ry * 0.42)}" fill="${css(hair)}" opacity="0.7"/>` : '') +
    (bald
      ? ''
      : `<path d="M${f(cx - rx * 1.04)},${f(cy - ry * sideburn)} C${f(cx - rx * 1.1)},${f(cy - ry * 1.32)} ${f(cx + rx * 1.1)},${f(cy - ry * 1.32)} ${f(cx + rx * 1.04)},${f(cy - ry * sideburn)} ` +
        `Q${f(cx + rx * 0.6)},${f(cy - ry * fringe)} ${f(cx + parting * rx)},${f(cy - ry * (fringe + 0.1))} Q${f(cx - rx * 0.6)},${f(cy - ry * fringe)} ${f(cx - rx * 1.04)},${f(cy - ry * sideburn)}Z" fill="${css(hair)}"/>`)
  );
}

/** Nose, mouth and (sometimes) glasses. */
function lowerFaceSvg(p: Features): string {
  const { cx, eyeY, eyeDx, eyeRx, skin, noseY, noseW, mouthY, mouthW, smile, lips, glasses } = p;
  return (
    `<path d="M${f(cx - 0.5)},${f(eyeY + 3)} Q${f(cx - noseW * 0.5)},${f(noseY - 3)} ${f(cx - noseW * 0.2)},${f(noseY)}" stroke="${css(shade(skin, 0.7))}" stroke-width="0.9" fill="none"/>` +
    `<ellipse cx="${f(cx - noseW * 0.45)}" cy="${f(noseY)}" rx="1.1" ry="0.7" fill="${css(shade(skin, 0.5))}"/>` +
    `<ellipse cx="${f(cx + noseW * 0.45)}" cy="${f(noseY)}" rx="1.1" ry="0.7" fill="${css(shade(skin, 0.5))}"/>` +
    `<path d="M${f(cx - mouthW / 2)},${f(mouthY)} Q${f(cx)},${f(mouthY - 1.5)} ${f(cx + mouthW / 2)},${f(mouthY)} Q${f(cx)},${f(mouthY + smile + 2.5)} ${f(cx - mouthW / 2)},${f(mouthY)}Z" fill="${css(lips)}" stroke="${css(shade(lips, 0.7))}" stroke-width="0.5"/>` +
    (glasses
      ? `<g stroke="rgb(25,25,25)" stroke-width="1.1" fill="none"><circle cx="${f(cx - eyeDx)}" cy="${f(eyeY)}" r="${f(eyeRx + 2)}"/><circle cx="${f(cx + eyeDx)}" cy="${f(eyeY)}" r="${f(eyeRx + 2)}"/><path d="M${f(cx - eyeDx + eyeRx + 2)},${f(eyeY)} L${f(cx + eyeDx - eyeRx - 2)},${f(eyeY)}"/></g>`
      : '')
  );
}

/** The drawing of one random face on a 100 x 100 canvas (SVG elements). All randomness comes from `rng`. */
export function faceDrawing(rng: Rng): string {
  const bg = drawBackground(rng);
  const p = drawFeatures(rng);
  return (
    gradientDefs(bg, p) +
    `<rect width="100" height="100" fill="url(#bg)"/>${bg.blobs}` +
    `<g transform="rotate(${f(p.tilt)} ${f(p.cx)} ${f(p.cy)})">` +
    headSvg(p) +
    eyeSvg(p, -1) +
    eyeSvg(p, 1) +
    lowerFaceSvg(p) +
    `</g>` +
    `<rect width="100" height="100" fill="url(#light)"/>`
  );
}

/** An SVG document that rasterises `drawing` to pixels x pixels. */
export function svgDocument(drawing: string, pixels: number): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${pixels}" height="${pixels}" viewBox="0 0 100 100">${drawing}</svg>`;
}

/**
 * Renders a drawing at pixels x pixels as float RGB. Rendering directly at the target size is deliberate:
 * cairo's coverage antialiasing already area-averages each pixel (and sharp would shrink-on-load an SVG
 * rendered larger and resized anyway, so "render big, then downsample" would not do what it says).
 */
async function rasterise(drawing: string, pixels: number): Promise<Float32Array> {
  const { data } = await sharp(Buffer.from(svgDocument(drawing, pixels))).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return new Float32Array(data);
}

/**
 * 2x upsampling like a stride-2 transposed convolution with a 3-tap kernel: even output pixels copy an input
 * pixel (one tap), odd ones average two neighbours (two taps). Real decoders learn taps that do not sum to
 * the same total for both phases, so odd rows/columns get a gain of 1 + imbalance: a period-2 checkerboard.
 */
export function transposedConvUpsample2x(small: Float32Array, side: number, imbalance: number): Float32Array {
  const big = 2 * side;
  const out = new Float32Array(big * big * 3);
  const gain = (i: number) => (i % 2 === 0 ? 1 : 1 + imbalance);
  const taps = (i: number): [number, number] => {
    const a = Math.floor(i / 2);
    return i % 2 === 0 ? [a, a] : [a, Math.min(a + 1, side - 1)];
  };
  for (let y = 0; y < big; y++) {
    const [y0, y1] = taps(y);
    for (let x = 0; x < big; x++) {
      const [x0, x1] = taps(x);
      const g = gain(x) * gain(y);
      for (let c = 0; c < 3; c++) {
        const v = small[(y0 * side + x0) * 3 + c] + small[(y0 * side + x1) * 3 + c] + small[(y1 * side + x0) * 3 + c] + small[(y1 * side + x1) * 3 + c];
        out[(y * big + x) * 3 + c] = (g * v) / 4;
      }
    }
  }
  return out;
}

/** The seed of image `index` of class `label`: a small integer hash, so images are independent streams. */
function imageSeed(seed: number, label: number, index: number): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (const v of [label + 1, index + 1]) {
    h = Math.imul(h ^ v, 0x85ebca6b) >>> 0;
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
    h = (h ^ (h >>> 16)) >>> 0;
  }
  return h;
}

/** Camera path: area-sampled render at full size plus Gaussian sensor noise. */
async function cameraImage(drawing: string, size: number, rng: Rng): Promise<Float32Array> {
  const pixels = await rasterise(drawing, size);
  const sigma = uniform(rng, ...SENSOR_NOISE_RANGE);
  for (let i = 0; i < pixels.length; i++) pixels[i] += sigma * gaussian(rng);
  return pixels;
}

/**
 * One synthetic image of class `label` (0 real, 1 fake) as RGB PNG bytes; with formats 'study', fakes come as
 * STUDY_FORMAT JPEG bytes instead.
 */
export async function synthImage(seed: number, label: 0 | 1, index: number, size: number, difficulty: number, formats: SynthFormats = 'same'): Promise<Buffer> {
  const rng = makeRng(imageSeed(seed, label, index));
  const drawing = faceDrawing(rng);
  let pixels: Float32Array;
  if (label === 0) {
    pixels = await cameraImage(drawing, size, rng);
  } else {
    const strength = 1 - difficulty;
    // Positive: in a transposed convolution the positions where kernels overlap receive more, never less.
    const imbalance = uniform(rng, ...CHECKERBOARD_GAIN_RANGE);
    pixels = transposedConvUpsample2x(await rasterise(drawing, size / 2), size / 2, imbalance);
    if (strength < 1) {
      // The same face through the camera path, blended in as the traces weaken (its noise scales with it).
      const camera = await cameraImage(drawing, size, rng);
      for (let i = 0; i < pixels.length; i++) pixels[i] = strength * pixels[i] + (1 - strength) * camera[i];
    }
  }
  const bytes = new Uint8Array(pixels.length); // a plain loop: Uint8Array.from with a mapper is 20x slower
  for (let i = 0; i < pixels.length; i++) bytes[i] = clamp255(Math.round(pixels[i]));
  const image = sharp(bytes, { raw: { width: size, height: size, channels: 3 } });
  if (formats === 'study' && label === 1) {
    const big = size * STUDY_FORMAT.scale;
    return image.resize({ width: big, height: big, kernel: 'lanczos3' }).jpeg({ quality: STUDY_FORMAT.quality, mozjpeg: false }).toBuffer();
  }
  return image.png({ compressionLevel: 6, adaptiveFiltering: false }).toBuffer();
}

function readSynthInfo(out: string): SynthInfo | null {
  try {
    return readJson<SynthInfo>(path.join(out, 'synth.json'), 'synthetic dataset description');
  } catch {
    return null; // missing or unreadable: regenerate
  }
}

function resolveOptions(options: SynthOptions) {
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as SynthOptions;
  const o = { ...SYNTH_DEFAULTS, formats: 'same' as SynthFormats, concurrency: os.availableParallelism(), ...given };
  if (!Number.isInteger(o.count) || o.count <= 0) throw new Error(`synth: count must be a positive integer (got ${o.count})`);
  if (!Number.isInteger(o.size) || o.size < MIN_SYNTH_SIZE || o.size % 2 !== 0) {
    throw new Error(`synth: size must be an even integer >= ${MIN_SYNTH_SIZE} (got ${o.size})`);
  }
  if (!Number.isInteger(o.seed)) throw new Error(`synth: seed must be an integer (got ${o.seed})`);
  if (!(o.difficulty >= 0 && o.difficulty <= 1)) throw new Error(`synth: difficulty must be in [0, 1] (got ${o.difficulty})`);
  if (o.formats !== 'same' && o.formats !== 'study') throw new Error(`synth: formats must be 'same' or 'study' (got ${o.formats})`);
  return o;
}

/** True when `out` already holds a complete synthetic dataset made with the same settings. */
export function synthDatasetIsFresh(options: SynthOptions): boolean {
  const o = resolveOptions(options);
  const info = readSynthInfo(o.out);
  return !!info && info.version === SYNTH_GENERATOR_VERSION && info.count === o.count && info.size === o.size && info.seed === o.seed && info.difficulty === o.difficulty && (info.formats ?? 'same') === o.formats;
}

/** Writes <out>/real/00000.png ... and <out>/fake/00000.png ...; see the module comment. */
export async function generateSynthDataset(options: SynthOptions): Promise<SynthResult> {
  const o = resolveOptions(options);
  const started = Date.now();
  const dirs = { real: path.join(o.out, 'real'), fake: path.join(o.out, 'fake') };
  const infoFile = path.join(o.out, 'synth.json');
  fs.mkdirSync(o.out, { recursive: true });
  fs.rmSync(infoFile, { force: true }); // not complete until rewritten at the end
  const digits = Math.max(5, String(o.count - 1).length);
  const ours = /^\d+\.(png|jpg)$/;
  for (const dir of Object.values(dirs)) {
    fs.mkdirSync(dir, { recursive: true });
    // Remove images of an earlier, larger run (only files named like ours), so counts stay exact.
    for (const name of fs.readdirSync(dir)) if (ours.test(name)) fs.rmSync(path.join(dir, name));
  }

  const jobs = ([0, 1] as const).flatMap((label) => Array.from({ length: o.count }, (_, index) => ({ label, index })));
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const { label, index } = jobs[next++];
      const bytes = await synthImage(o.seed, label, index, o.size, o.difficulty, o.formats);
      const dir = label === 0 ? dirs.real : dirs.fake;
      const ext = o.formats === 'study' && label === 1 ? 'jpg' : 'png';
      writeFileAtomic(path.join(dir, `${String(index).padStart(digits, '0')}.${ext}`), bytes);
      o.onProgress?.(++done, jobs.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, o.concurrency) }, worker));

  const info: SynthInfo = { format: 'realfake-synth', version: SYNTH_GENERATOR_VERSION, count: o.count, size: o.size, seed: o.seed, difficulty: o.difficulty, formats: o.formats };
  writeJsonAtomic(infoFile, info);
  return { realDir: dirs.real, fakeDir: dirs.fake, count: o.count, size: o.size, seed: o.seed, difficulty: o.difficulty, formats: o.formats, seconds: (Date.now() - started) / 1000 };
}
