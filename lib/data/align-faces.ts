/**
 * Preprocessing's face alignment (config `alignFaces`): an image is framed exactly as `predict --faces` frames
 * a face: decoded the PIL way (decodeImageRgb), faces found by the same detector with the same settings
 * (lib/faces/detector.ts), the largest face's FFHQ-style square (lib/faces/crop.ts) resized by the same function
 * (lib/faces/crop-resize.ts). Needs an initialised tfjs backend (lib/backend/backend.ts initBackend).
 */
import type { ResizeMethod } from '../config';
import type { Box } from '../faces/crop';
import { cropResize } from '../faces/crop-resize';
import { detectFaces } from '../faces/detector';
import { decodeImageRgb } from './images';

export interface AlignedFace {
  /** size x size x 3 uint8 RGB. */
  pixels: Uint8Array;
  /** The square that was cut out, in the photo's pixels. */
  crop: Box;
}

/** The largest face of `file` framed as prediction frames it, or null when the detector finds no face. */
export async function alignedFace(file: string, size: number, resize: ResizeMethod): Promise<AlignedFace | null> {
  const image = await decodeImageRgb(file);
  const [largest] = await detectFaces(image);
  if (!largest) return null;
  return { pixels: await cropResize(image, largest.crop, size, resize), crop: largest.crop };
}
