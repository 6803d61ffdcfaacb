/**
 * A face's square resized to a model's input: the one function both prediction (lib/infer/faces.ts) and
 * preprocessing with `alignFaces` (lib/data/align-faces.ts) use, so a model trained on aligned faces sees at
 * prediction the very same pixels it was trained on. Kept apart from lib/faces/crop.ts, which must stay free of
 * imports for the browser.
 */
import sharp from 'sharp';
import type { ResizeMethod } from '../config';
import { Box, cropAtOwnSize, cropResizeNearest, RgbPixels } from './crop';

/**
 * The `crop` region of `image` (black outside the photo) resized to size x size with `resize`: PIL NEAREST in
 * one pass, or, for the antialiasing methods, the region cut out at its own size and resized by sharp.
 */
export async function cropResize(image: RgbPixels, crop: Box, size: number, resize: ResizeMethod): Promise<Uint8Array> {
  if (resize === 'nearest') return cropResizeNearest(image, crop, size, size);
  const region = cropAtOwnSize(image, crop).data;
  const kernel = resize === 'bilinear' ? 'linear' : 'lanczos3';
  const out = await sharp(region, { raw: { width: crop.width, height: crop.height, channels: 3 } })
    .resize({ width: size, height: size, fit: 'fill', kernel })
    .raw()
    .toBuffer();
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}
