/**
 * A verdict for every face in a photo: decode (PIL-exact, lib/data/images.ts) > find faces (lib/faces/detector.ts)
 * > crop each the way the training data was cropped (lib/faces/crop.ts) > resize like training > score.
 *
 * `faces: 'whole'` skips detection and scores the whole image as one face, exactly as `realfake predict` does
 * (the right choice for photos that are already face crops, like the training data).
 *
 * With config `scoring` 'tiles' or 'native' (lib/infer/scoring.ts), each face's crop is cut out at the photo's
 * own resolution (no resize) and scored like a whole image: tiled, or in one pass; a crop smaller than the
 * model's input is resized, as in 'resize'.
 */
import { decodeImageRgb, RgbImage } from '../data/images';
import { Box, cropAtOwnSize, wholeImageBox } from '../faces/crop';
import { cropResize } from '../faces/crop-resize';
import { detectFaces } from '../faces/detector';
import { Predictor, Verdict } from './predict';

export type FaceMode = 'detect' | 'whole';
export const FACE_MODES: readonly FaceMode[] = ['detect', 'whole'];

export interface FaceVerdict {
  /** The detector's box (the whole image in 'whole' mode), photo pixels. */
  box: Box;
  /** The square that was scored (FFHQ-style margin; may extend past the edges, which count as black). */
  crop: Box;
  /** The detector's face score (null in 'whole' mode). */
  detectorScore: number | null;
  verdict: Verdict;
  confidence: number;
  pFake: number;
  /** A Grad-CAM overlay of the crop as a PNG data URL, when an explainer was given. */
  gradcam?: string;
}

export interface PhotoVerdict {
  width: number;
  height: number;
  faces: FaceVerdict[];
}

/** The crop resized to the model's input the way the run was trained (lib/faces/crop-resize.ts). */
export function cropPixels(image: RgbImage, crop: Box, predictor: Predictor): Promise<Uint8Array> {
  return cropResize(image, crop, predictor.config.imageSize, predictor.config.resize);
}

/** Verdicts for the faces in an already decoded photo; `explain` adds a Grad-CAM overlay per face. */
export async function predictFacesInImage(
  predictor: Predictor,
  image: RgbImage,
  mode: FaceMode = 'detect',
  explain?: (pixels: Uint8Array, size: number) => Promise<string>,
): Promise<PhotoVerdict> {
  const regions =
    mode === 'whole'
      ? [{ box: wholeImageBox(image), crop: wholeImageBox(image), score: null as number | null }]
      : await detectFaces(image);
  const resized = predictor.scoring === 'resize' || explain !== undefined;
  const pixels = resized ? await Promise.all(regions.map((r) => cropPixels(image, r.crop, predictor))) : [];
  const scores =
    regions.length === 0
      ? []
      : predictor.scoring === 'resize'
        ? await predictor.predictPixels(pixels)
        : (await predictor.scoreImages(regions.map((r) => cropAtOwnSize(image, r.crop)))).map((s) => s.pFake);
  const faces: FaceVerdict[] = regions.map((r, i) => {
    const { verdict, confidence, pFake } = predictor.toPrediction('', scores[i]);
    return { box: r.box, crop: r.crop, detectorScore: r.score, verdict, confidence, pFake };
  });
  if (explain) {
    for (const [i, face] of faces.entries()) face.gradcam = await explain(pixels[i], predictor.config.imageSize);
  }
  return { width: image.width, height: image.height, faces };
}

/** Verdicts for the faces in an image file or in image bytes (`name` names it in errors). */
export async function predictFaces(
  predictor: Predictor,
  input: string | Buffer,
  mode: FaceMode = 'detect',
  name?: string,
): Promise<PhotoVerdict> {
  return predictFacesInImage(predictor, await decodeImageRgb(input, name), mode);
}

/**
 * `predictFaces` over many files, in order: each photo's verdicts go to `onPhoto`; a file that cannot be read goes
 * to `onFailure` with its reason (the file's name stripped) and the others go on.
 */
export async function predictFacesInFiles(
  predictor: Predictor,
  files: string[],
  on: { onPhoto: (file: string, photo: PhotoVerdict) => void; onFailure: (file: string, reason: string) => void },
): Promise<{ ok: number; failed: number }> {
  let ok = 0;
  let failed = 0;
  for (const file of files) {
    try {
      on.onPhoto(file, await predictFaces(predictor, file));
      ok++;
    } catch (err) {
      failed++;
      on.onFailure(file, (err as Error).message.replace(`${file}: `, ''));
    }
  }
  return { ok, failed };
}
