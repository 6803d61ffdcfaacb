/**
 * Harmonised preprocessing (config `harmonize`): before the study's resize, every image of both classes goes
 * through the same path, so that size, format and compression no longer tell the classes apart:
 *   decode (the PIL way, lib/data/images.ts) > antialiased (Lanczos-3) resize to HARMONIZED_SOURCE.side
 *   > JPEG at HARMONIZED_SOURCE.quality (libjpeg-turbo's IJG tables, 4:2:0) > decode > the configured resize.
 * In the study, real faces are 128 px PNG thumbnails and fakes 1024 px JPEGs nearest-resized 8x: the fakes'
 * aliasing and JPEG blocks are a label nobody meant to give the model. Harmonised, both classes are 128 px
 * JPEGs made the same way. The later resize (nearest or antialiased) stays the config's separate choice.
 */
import sharp from 'sharp';
import type { ResizeMethod } from '../config';
import { decodeImageRgb, loadImageRgbFromBuffer } from './images';

export const HARMONIZED_SOURCE = Object.freeze({
  /** The study's real thumbnails' side: the smaller of the two classes' sizes, so no class is upscaled there. */
  side: 128,
  format: 'jpeg' as const,
  /** High enough to keep faces intact, low enough that both classes carry the same JPEG trace. */
  quality: 90,
});

/** The harmonised source of one image: HARMONIZED_SOURCE.side px JPEG bytes, the same path for every class. */
export async function harmonizedJpeg(input: string | Buffer, name = typeof input === 'string' ? input : 'image'): Promise<Buffer> {
  const rgb = await decodeImageRgb(input, name);
  const { side, quality } = HARMONIZED_SOURCE;
  try {
    return await sharp(rgb.data, { raw: { width: rgb.width, height: rgb.height, channels: 3 } })
      .resize({ width: side, height: side, fit: 'fill', kernel: 'lanczos3' })
      .jpeg({ quality, chromaSubsampling: '4:2:0', mozjpeg: false })
      .toBuffer();
  } catch (err) {
    throw new Error(`${name}: cannot harmonise (${(err as Error).message.split('\n')[0]})`);
  }
}

/** loadImageRgb with harmonisation first: size x size x 3 uint8 RGB of the harmonised image. */
export async function loadHarmonizedRgb(file: string, size: number, resize: ResizeMethod): Promise<{ pixels: Uint8Array; source: Buffer }> {
  const source = await harmonizedJpeg(file, file);
  return { pixels: await loadImageRgbFromBuffer(source, size, resize, file), source };
}
