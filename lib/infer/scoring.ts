/**
 * Scoring decoded images at their own resolution (config `scoring`), as published detectors do, instead of
 * resizing them to the model's input:
 *   resize  (default, the study's way) the image is resized to the input size; see lib/infer/predict.ts.
 *   tiles   the image is cut into input-sized tiles (lib/infer/tiles.ts: the fewest that cover it, evenly spaced,
 *           minimal overlap), every tile is scored, and the image's pFake is the mean of its tiles' pFake
 *           (probabilities, like flips and ensembles: lib/infer/averaging.ts). Any model family, any engine.
 *   native  the whole image in one pass through a free-size copy of the model (lib/infer/native.ts), for models
 *           that are fully convolutional up to a global pooling; runs on tfjs.
 * An image smaller than the input size on either side cannot be tiled: in both modes it is resized to the
 * input size exactly as 'resize' does (its ScoredImage says scoring: 'resize'), never padded. Images are
 * decoded in full (PIL's way, lib/data/images.ts); the `decode: 'fast'` option only concerns resizing.
 * Flip averaging flips each tile (or the whole image, in native mode); ensembles score each tile with every
 * member. Only evaluation and prediction change: training and its validation always see resized images.
 * The engines for each mode: lib/infer/scoring-engine.ts.
 */
import type { Config, ScoringMode } from '../config';
import type { RgbImage } from '../data/images';
import { wholeImageBox } from '../faces/crop';
import { cropResize } from '../faces/crop-resize';
import { scaleToUnit } from '../data/pixels';
import { averageTileScores } from './averaging';
import type { InferenceEngine } from './engine';
import { cutTile, tileGrid } from './tiles';

/** One image's score and how it was obtained. */
export interface ScoredImage {
  pFake: number;
  /** What was done to this image: the mode asked for, or 'resize' for an image smaller than the input. */
  scoring: ScoringMode;
  /** Tiles averaged (1 for 'resize' and 'native'). */
  tiles: number;
}

export type ScoringSettings = Pick<Config, 'imageSize' | 'resize'> & { scoring: ScoringMode };

/** Tiles (or resized images) sent to the engine at once: bounds memory whatever the images' sizes. */
export const MAX_TILES_PER_BATCH = 64;

/**
 * The largest image 'native' scores in one pass. Activations grow with the image: one 1024 x 1024 pass peaked at
 * 0.5 GB (study), 0.77 GB (resnet, width 32) and 0.87 GB (facefeat) RSS on the native backend; 4 megapixels keeps
 * a pass under ~3.5 GB. Larger images are refused with a reason suggesting 'tiles', whose memory is bounded.
 */
export const MAX_NATIVE_PIXELS = 2048 * 2048;

/** Throws `<name>: ...` when an image is too large for one native pass. */
export function checkNativeSize(image: Pick<RgbImage, 'width' | 'height'>, name: string): void {
  if (image.width * image.height > MAX_NATIVE_PIXELS)
    throw new Error(
      `${name}: ${image.width}x${image.height} is over the ${MAX_NATIVE_PIXELS / 2 ** 20} megapixels --scoring native takes in one pass; use --scoring tiles`,
    );
}

/** A decoded image resized to size x size like training: PIL nearest exactly, or sharp's antialiasing kernels. */
export function resizeDecoded(image: RgbImage, size: number, resize: Config['resize']): Promise<Uint8Array> {
  return cropResize(image, wholeImageBox(image), size, resize);
}

/** The top-left part of an image whose sides are multiples of `multiple` (native scoring of NPR models). */
function cropToMultiple(image: RgbImage, multiple: number): RgbImage {
  const width = image.width - (image.width % multiple);
  const height = image.height - (image.height % multiple);
  if (width === image.width && height === image.height) return image;
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++)
    data.set(image.data.subarray(y * image.width * 3, (y * image.width + width) * 3), y * width * 3);
  return { data, width, height };
}

/** pFake for each decoded image under `settings.scoring` (see the module comment). */
export async function scoreImages(
  engine: InferenceEngine,
  images: RgbImage[],
  settings: ScoringSettings,
): Promise<ScoredImage[]> {
  const { imageSize: size, scoring } = settings;
  if (scoring === 'native' && !engine.anySize)
    throw new Error(
      `--scoring native needs an engine that takes any image size (${engine.name} takes ${size} px only)`,
    );
  const pixels = size * size * 3;
  // Square jobs (tiles, and resized small images) are batched across images; native images go one by one.
  const square: Array<() => Promise<Uint8Array> | Uint8Array> = [];
  const counts: number[] = [];
  const modes: ScoringMode[] = [];
  const native = new Map<number, RgbImage>();
  images.forEach((image, i) => {
    if (scoring === 'resize' || image.width < size || image.height < size) {
      square.push(() => resizeDecoded(image, size, settings.resize));
      counts.push(1);
      modes.push('resize');
    } else if (scoring === 'tiles') {
      const grid = tileGrid(image.width, image.height, size);
      for (const tile of grid) square.push(() => cutTile(image, tile, size));
      counts.push(grid.length);
      modes.push('tiles');
    } else {
      checkNativeSize(image, `image ${i + 1} of ${images.length}`);
      native.set(i, image);
      modes.push('native');
    }
  });
  const squareScores = new Float32Array(square.length);
  for (let start = 0; start < square.length; start += MAX_TILES_PER_BATCH) {
    const jobs = square.slice(start, start + MAX_TILES_PER_BATCH);
    const batch = new Float32Array(jobs.length * pixels);
    for (const [k, job] of jobs.entries()) scaleToUnit(await job(), batch, k * pixels);
    squareScores.set(await engine.scores(batch, jobs.length, size), start);
  }
  const squareMeans = averageTileScores(squareScores, counts);
  const multiple = engine.sideMultiple ?? 1;
  const out: ScoredImage[] = [];
  let next = 0;
  for (const [i, mode] of modes.entries()) {
    if (mode !== 'native') {
      out.push({ pFake: squareMeans[next], scoring: mode, tiles: counts[next] });
      next++;
      continue;
    }
    const image = cropToMultiple(native.get(i)!, multiple);
    const batch = new Float32Array(image.data.length);
    scaleToUnit(image.data, batch);
    const [pFake] = await engine.scores(batch, 1, image.height, image.width);
    out.push({ pFake, scoring: 'native', tiles: 1 });
  }
  return out;
}
