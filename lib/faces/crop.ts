/**
 * Face crops the way the training data was cropped, as pure arithmetic on RGB pixels.
 *
 * This module has NO imports on purpose: the page's in-browser mode loads its compiled JavaScript too
 * (lib/serve/web), so the server and the browser compute the very same crop box and the very same pixels, and
 * their scores agree to float rounding.
 *
 * The margin. Both classes the model learns from are FFHQ-style alignment crops: FFHQ's own script
 * (ffhq-dataset `recreate_aligned_images`) and StyleGAN's output (trained on FFHQ) frame a face in a square of
 * side 2 * max(2.0 * |eye_to_eye|, 1.8 * |eye_to_mouth|) centred at eye_avg + 0.1 * eye_to_mouth, i.e. about
 * four eye distances: forehead, hair, ears and chin included, much looser than a detector's box. We use that
 * recipe on the detector's 68 landmarks, WITHOUT FFHQ's rotation (the square stays axis-aligned: for a roughly
 * upright face the difference is a few degrees) and with black outside the photo instead of FFHQ's blurred
 * reflection padding. The square is rounded to whole pixels, then resized like training (PIL NEAREST).
 */

export interface Point {
  x: number;
  y: number;
}

/** A box in pixels of the photo: left, top, width, height. */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Row-major height x width x 3 RGB. */
export interface RgbPixels {
  data: Uint8Array;
  width: number;
  height: number;
}

const mean = (points: Point[]): Point => ({
  x: points.reduce((s, p) => s + p.x, 0) / points.length,
  y: points.reduce((s, p) => s + p.y, 0) / points.length,
});

/**
 * FFHQ's square (see the module comment) from the 68-point iBUG landmarks: eyes are points 36-41 and 42-47,
 * mouth corners 48 and 54. Whole pixels; may extend past the photo's edges.
 */
export function ffhqCropBox(landmarks: Point[]): Box {
  if (landmarks.length !== 68) throw new Error(`expected 68 face landmarks, got ${landmarks.length}`);
  const eyeLeft = mean(landmarks.slice(36, 42));
  const eyeRight = mean(landmarks.slice(42, 48));
  const eyeAvg = { x: (eyeLeft.x + eyeRight.x) / 2, y: (eyeLeft.y + eyeRight.y) / 2 };
  const mouthAvg = mean([landmarks[48], landmarks[54]]);
  const eyeToEye = Math.hypot(eyeRight.x - eyeLeft.x, eyeRight.y - eyeLeft.y);
  const eyeToMouth = { x: mouthAvg.x - eyeAvg.x, y: mouthAvg.y - eyeAvg.y };
  const side = 2 * Math.max(2.0 * eyeToEye, 1.8 * Math.hypot(eyeToMouth.x, eyeToMouth.y));
  const centre = { x: eyeAvg.x + 0.1 * eyeToMouth.x, y: eyeAvg.y + 0.1 * eyeToMouth.y };
  const size = Math.max(1, Math.round(side));
  return { x: Math.round(centre.x - size / 2), y: Math.round(centre.y - size / 2), width: size, height: size };
}

/** The whole photo as one box (for pre-cropped faces). */
export function wholeImageBox(image: { width: number; height: number }): Box {
  return { x: 0, y: 0, width: image.width, height: image.height };
}

/**
 * PIL's nearest-neighbour source indices for resizing `srcCount` pixels to `count`: Pillow's ImagingScaleAffine
 * starts at the centre of the first output pixel (scale / 2) and adds `scale` per pixel, accumulating in
 * doubles, then truncates. Identical to lib/data/images.ts resizeNearestPil (tested).
 */
export function nearestIndices(count: number, srcCount: number): Int32Array {
  const scale = srcCount / count;
  const index = new Int32Array(count);
  let position = scale * 0.5;
  for (let i = 0; i < count; i++) {
    index[i] = Math.trunc(position);
    position += scale;
  }
  return index;
}

/**
 * The `box` region of `image`, resized to width x height with PIL NEAREST, in one pass; pixels of the box
 * outside the photo are black. With the whole-image box this equals PIL's Image.resize(NEAREST).
 */
export function cropResizeNearest(image: RgbPixels, box: Box, width: number, height: number): Uint8Array {
  const xs = nearestIndices(width, box.width);
  const ys = nearestIndices(height, box.height);
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const sy = box.y + ys[y];
    if (ys[y] >= box.height || sy < 0 || sy >= image.height) continue;
    for (let x = 0; x < width; x++) {
      const sx = box.x + xs[x];
      if (xs[x] >= box.width || sx < 0 || sx >= image.width) continue;
      const from = (sy * image.width + sx) * 3;
      const to = (y * width + x) * 3;
      out[to] = image.data[from];
      out[to + 1] = image.data[from + 1];
      out[to + 2] = image.data[from + 2];
    }
  }
  return out;
}

/** The `box` region of `image` at the photo's own resolution (black outside the photo): a face scored natively. */
export function cropAtOwnSize(image: RgbPixels, box: Box): RgbPixels {
  return { data: cropResizeNearest(image, box, box.width, box.height), width: box.width, height: box.height };
}

/**
 * What the face detector sees: the photo shrunk (PIL NEAREST) so its longer side is at most `maxSide`, and
 * the factor that maps detector coordinates back to the photo. Bounds the detector's memory on 40-megapixel
 * uploads; the detector resizes to its own 416 px input anyway.
 */
export function detectorInput(image: RgbPixels, maxSide: number): { pixels: RgbPixels; scale: Point } {
  const longer = Math.max(image.width, image.height);
  if (longer <= maxSide) return { pixels: image, scale: { x: 1, y: 1 } };
  const width = Math.max(1, Math.round((image.width * maxSide) / longer));
  const height = Math.max(1, Math.round((image.height * maxSide) / longer));
  const data = cropResizeNearest(image, wholeImageBox(image), width, height);
  return { pixels: { data, width, height }, scale: { x: image.width / width, y: image.height / height } };
}

/** A box scaled by `scale` and rounded to whole pixels (detector coordinates back to the photo's). */
export function scaleBox(box: Box, scale: Point): Box {
  const x = Math.round(box.x * scale.x);
  const y = Math.round(box.y * scale.y);
  return {
    x,
    y,
    width: Math.round((box.x + box.width) * scale.x) - x,
    height: Math.round((box.y + box.height) * scale.y) - y,
  };
}

/** Landmarks scaled by `scale` (not rounded: the crop box rounds once, at the end). */
export function scalePoints(points: Point[], scale: Point): Point[] {
  return points.map((p) => ({ x: p.x * scale.x, y: p.y * scale.y }));
}

/**
 * The photo framed by a border `fraction` of its longer side wide on every side, filled with the photo's mean
 * colour: a face that fills the frame becomes a face in a scene, the size the detectors' anchors were made for.
 * `border` maps back: a point found at (x, y) in the framed photo is at (x - border, y - border) in the photo.
 */
export function framed(image: RgbPixels, fraction: number): { pixels: RgbPixels; border: number } {
  const border = Math.round(Math.max(image.width, image.height) * fraction);
  const width = image.width + 2 * border;
  const height = image.height + 2 * border;
  const sum = [0, 0, 0];
  for (let i = 0; i < image.data.length; i += 3) {
    sum[0] += image.data[i];
    sum[1] += image.data[i + 1];
    sum[2] += image.data[i + 2];
  }
  const count = Math.max(1, image.width * image.height);
  const data = new Uint8Array(width * height * 3);
  for (let c = 0; c < 3; c++) {
    const mean = Math.round(sum[c] / count);
    for (let i = c; i < data.length; i += 3) data[i] = mean;
  }
  const row = image.width * 3;
  for (let y = 0; y < image.height; y++)
    data.set(image.data.subarray(y * row, (y + 1) * row), ((y + border) * width + border) * 3);
  return { pixels: { data, width, height }, border };
}

/** A box moved by (-shift, -shift): from the framed photo back to the photo (see `framed`). */
export function unframeBox(box: Box, shift: number): Box {
  return { x: box.x - shift, y: box.y - shift, width: box.width, height: box.height };
}

/** Points moved by (-shift, -shift): from the framed photo back to the photo (see `framed`). */
export function unframePoints(points: Point[], shift: number): Point[] {
  return points.map((p) => ({ x: p.x - shift, y: p.y - shift }));
}

/**
 * The part of `box` inside a width x height photo (zero-sized when they do not overlap): how the page draws a
 * crop that reaches past the photo's edge, as the region of the photo that was scored.
 */
export function clipBox(box: Box, width: number, height: number): Box {
  const x = Math.min(width, Math.max(0, box.x));
  const y = Math.min(height, Math.max(0, box.y));
  return {
    x,
    y,
    width: Math.max(0, Math.min(width, box.x + box.width) - x),
    height: Math.max(0, Math.min(height, box.y + box.height) - y),
  };
}
