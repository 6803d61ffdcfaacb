/**
 * Seeded per-sample training augmentation on uint8 RGB images (size x size x 3), applied batch by batch to the
 * training split only. Every draw comes from an rng seeded by (config seed, training step, row), so a run
 * repeats exactly, and the augment settings are part of the run's config.json.
 * Order: random resized crop > flip > colour jitter > Gaussian blur > JPEG re-compression (CNNDetection's
 * recipe blurs then compresses, Wang et al. 2020). Blur and JPEG go through sharp (libvips, libjpeg-turbo).
 */
import sharp from 'sharp';
import type { AugmentConfig } from '../config';
import { makeRng, Rng } from '../random';

/** Mirror image, left to right. */
export function flipHorizontal(pixels: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(pixels.length);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const src = (y * size + x) * 3;
      const dst = (y * size + (size - 1 - x)) * 3;
      out[dst] = pixels[src];
      out[dst + 1] = pixels[src + 1];
      out[dst + 2] = pixels[src + 2];
    }
  }
  return out;
}

/** Brightness, contrast and saturation each scaled by a factor in [1 - s, 1 + s] (torchvision's ColorJitter). */
export function colourJitter(pixels: Uint8Array, factors: { brightness: number; contrast: number; saturation: number }): Uint8Array {
  const n = pixels.length / 3;
  const f = new Float32Array(pixels.length);
  let mean = 0;
  for (let p = 0; p < pixels.length; p++) {
    f[p] = pixels[p] * factors.brightness;
    mean += f[p];
  }
  mean /= pixels.length;
  const out = new Uint8Array(pixels.length);
  for (let i = 0; i < n; i++) {
    const o = i * 3;
    const grey = 0.299 * f[o] + 0.587 * f[o + 1] + 0.114 * f[o + 2];
    for (let c = 0; c < 3; c++) {
      const contrasted = (f[o + c] - mean) * factors.contrast + mean;
      const greyC = (grey - mean) * factors.contrast + mean;
      out[o + c] = Math.max(0, Math.min(255, Math.round(greyC + (contrasted - greyC) * factors.saturation)));
    }
  }
  return out;
}

const raw = (size: number) => ({ raw: { width: size, height: size, channels: 3 as const } });

/** Re-encodes as JPEG at `quality` and decodes again (same size). */
export async function jpegRecompress(pixels: Uint8Array, size: number, quality: number): Promise<Uint8Array> {
  const jpeg = await sharp(pixels, raw(size)).jpeg({ quality: Math.round(quality) }).toBuffer();
  return new Uint8Array(await sharp(jpeg).removeAlpha().raw().toBuffer());
}

export async function gaussianBlur(pixels: Uint8Array, size: number, sigma: number): Promise<Uint8Array> {
  return new Uint8Array(await sharp(pixels, raw(size)).blur(sigma).raw().toBuffer());
}

/** A crop of area fraction [minScale, 1] and aspect ratio [3/4, 4/3], resized back to size x size. */
export async function randomResizedCrop(pixels: Uint8Array, size: number, minScale: number, rng: Rng): Promise<Uint8Array> {
  const area = size * size * (minScale + (1 - minScale) * rng());
  const ratio = Math.exp(Math.log(3 / 4) + (Math.log(4 / 3) - Math.log(3 / 4)) * rng());
  const width = Math.max(1, Math.min(size, Math.round(Math.sqrt(area * ratio))));
  const height = Math.max(1, Math.min(size, Math.round(Math.sqrt(area / ratio))));
  const left = Math.floor(rng() * (size - width + 1));
  const top = Math.floor(rng() * (size - height + 1));
  return new Uint8Array(await sharp(pixels, raw(size)).extract({ left, top, width, height }).resize(size, size, { kernel: 'linear', fit: 'fill' }).raw().toBuffer());
}

const uniform = (rng: Rng, [lo, hi]: [number, number]) => lo + (hi - lo) * rng();

/** One image's augmentation, fully determined by `rng`. */
export async function augmentImage(pixels: Uint8Array, size: number, config: AugmentConfig, rng: Rng): Promise<Uint8Array> {
  let out = pixels;
  // Every probability is drawn, applied or not, so one op's setting does not shift the others' draws.
  const draws = { crop: rng(), flip: rng(), jitter: rng(), blur: rng(), jpeg: rng() };
  const cropRng = makeRng(Math.floor(rng() * 2 ** 32));
  const s = config.jitterStrength;
  const factors = { brightness: 1 + s * (2 * rng() - 1), contrast: 1 + s * (2 * rng() - 1), saturation: 1 + s * (2 * rng() - 1) };
  const sigma = uniform(rng, config.blurSigma);
  const quality = Math.round(uniform(rng, config.jpegQuality));
  if (draws.crop < config.crop) out = await randomResizedCrop(out, size, config.cropMinScale, cropRng);
  if (draws.flip < config.flip) out = flipHorizontal(out, size);
  if (draws.jitter < config.jitter) out = colourJitter(out, factors);
  if (draws.blur < config.blur) out = await gaussianBlur(out, size, sigma);
  if (draws.jpeg < config.jpeg) out = await jpegRecompress(out, size, quality);
  return out;
}

/** The rng for one row at one training step. */
export function augmentRng(seed: number, step: number, row: number): Rng {
  return makeRng((Math.imul(seed, 0x9e3779b1) ^ Math.imul(step + 1, 0x85ebca6b) ^ Math.imul(row + 1, 0xc2b2ae35)) >>> 0);
}

/** The given rows' pixels, augmented, concatenated (rows x size x size x 3). */
export async function augmentRows(x: Uint8Array, size: number, rows: ArrayLike<number>, config: AugmentConfig, seed: number, step: number): Promise<Uint8Array> {
  const pixels = size * size * 3;
  const out = new Uint8Array(rows.length * pixels);
  for (let i = 0; i < rows.length; i++) {
    const image = x.subarray(rows[i] * pixels, (rows[i] + 1) * pixels);
    out.set(await augmentImage(image, size, config, augmentRng(seed, step, rows[i])), i * pixels);
  }
  return out;
}

/**
 * For a look at the recipe (notebook 03): each of `rows` as it is, then `variants` augmented draws of it
 * (training steps 0, 1, ...), as captioned images (the shape imageGridHtml takes).
 */
export async function augmentationExamples(x: Uint8Array, size: number, rows: number[], config: AugmentConfig, seed: number, variants = 4): Promise<Array<{ pixels: Uint8Array; size: number; caption: string }>> {
  const pixels = size * size * 3;
  const items: Array<{ pixels: Uint8Array; size: number; caption: string }> = [];
  for (const row of rows) {
    const image = x.slice(row * pixels, (row + 1) * pixels);
    items.push({ pixels: image, size, caption: `row ${row} · original` });
    for (let step = 0; step < variants; step++) {
      items.push({ pixels: await augmentImage(image, size, config, augmentRng(seed, step, row)), size, caption: `row ${row} · step ${step}` });
    }
  }
  return items;
}
