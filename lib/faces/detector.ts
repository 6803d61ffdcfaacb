/**
 * Faces in any photo, with @vladmandic/face-api (MIT; its npm package carries the weights, built against
 * tfjs 4.22 like realfake). We load its `node-wasm` build, which uses realfake's own @tensorflow/tfjs (so
 * whichever backend lib/backend picked: wasm, or cpu in tests), never tfjs-node.
 *
 * Models, all shipped in node_modules/@vladmandic/face-api/model:
 * - TinyFaceDetector (190 KB), 416 px input: fast (~0.1 s per photo), but its anchors are made for faces in a
 *   scene, so it missed 37 % of aligned FFHQ crops, where the face fills the frame.
 * - SSD MobileNet v1 (5.6 MB): finds more hard faces (dark, turned, masked) at ~3x the time.
 * - FaceLandmark68TinyNet (77 KB): the eyes and mouth that place the FFHQ-style crop (lib/faces/crop.ts).
 * The finder tries four searches in turn and stops at the first that finds a face (FACE_DETECTOR.passes):
 * tiny on the photo; tiny on the photo framed by a border (lib/faces/crop.ts `framed`), so a frame-filling face
 * becomes a face in a scene; SSD on a framed photo; SSD on the photo in a border as wide as the photo. Most photos stop at the first, so the median stays the tiny
 * detector's time. Measured per set in BENCHMARKS.md (`npm run bench:faces`). Whatever the pass, the crop is
 * ffhqCropBox of the landmarks in photo pixels: crops stay those the models were trained on.
 * The page's in-browser mode runs the same passes with the same settings (FACE_DETECTOR below).
 */
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import {
  Box,
  detectorInput,
  ffhqCropBox,
  framed,
  Point,
  RgbPixels,
  scaleBox,
  scalePoints,
  unframeBox,
  unframePoints,
} from './crop';
import { onWasmBackend } from '../backend/backend';

/** One search of the finder: a detector, its threshold, and the border framing the photo (0: none). */
export interface FacePass {
  detector: 'tiny' | 'ssd';
  /** Minimum confidence: TinyFaceDetector's scoreThreshold or SSD's minConfidence. */
  minScore: number;
  /** Border on every side, as a fraction of the photo's longer side (lib/faces/crop.ts `framed`). */
  frame: number;
}

/** Shared with the page (lib/serve/web/app.js reads it from /api/v1/model). */
export const FACE_DETECTOR = {
  name: 'face-api TinyFaceDetector, then framed, then SSD MobileNet v1 framed, then framed wide; FaceLandmark68TinyNet',
  /** TinyFaceDetector's input side. */
  inputSize: 416,
  /**
   * Tried in turn until one finds a face. The later passes run only on photos where the earlier found
   * nothing, so their lower thresholds add found faces without adding false ones on most photos; the false
   * faces on face-free pictures are measured in the bench.
   */
  passes: [
    { detector: 'tiny', minScore: 0.5, frame: 0 },
    { detector: 'tiny', minScore: 0.3, frame: 0.5 },
    { detector: 'ssd', minScore: 0.3, frame: 0.25 },
    // The photo in a border as wide as itself: a face that fills a tight crop becomes a third of the picture.
    // Measured on what the three above missed (2026-12-06): at >= 0.5 a face in 12 of the first 49 misses of
    // sd1_eyewear (close-ups, sunglasses, a hand over the mouth) and 2 of unsplash_men's 13 (faces turned up or
    // aside); all 200 face-free pictures of the bench score at most 0.13 on it, so 0.4 keeps a wide margin and
    // adds blurred faces.
    { detector: 'ssd', minScore: 0.4, frame: 1 },
  ] as readonly FacePass[],
  /** Photos are shrunk (PIL nearest) to this longer side before detection; see detectorInput. */
  maxSide: 1024,
} as const;

export interface DetectedFace {
  /** The detector's face box, in photo pixels. */
  box: Box;
  /** The FFHQ-style square that is scored (may extend past the photo's edges). */
  crop: Box;
  /** The detector's confidence that this is a face, 0-1. */
  score: number;
  landmarks: Point[];
}

/** The part of face-api's API used here (its own typings pull in tfjs-core's). */
interface FaceApi {
  nets: Record<
    'tinyFaceDetector' | 'ssdMobilenetv1' | 'faceLandmark68TinyNet',
    { loadFromDisk(dir: string): Promise<void>; isLoaded: boolean }
  >;
  TinyFaceDetectorOptions: new (o: { inputSize: number; scoreThreshold: number }) => unknown;
  SsdMobilenetv1Options: new (o: { minConfidence: number }) => unknown;
  detectAllFaces(
    input: tf.Tensor3D,
    options: unknown,
  ): {
    withFaceLandmarks(tiny: boolean): Promise<
      Array<{
        detection: { score: number; box: { x: number; y: number; width: number; height: number } };
        landmarks: { positions: Point[] };
      }>
    >;
  };
}

export const FACE_MODEL_DIR = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');

let loaded: Promise<FaceApi> | null = null;

/** face-api with both models loaded (once per process). Needs an initialised tfjs backend. */
export function loadFaceApi(): Promise<FaceApi> {
  loaded ??= (async () => {
    const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js') as FaceApi;
    await faceapi.nets.tinyFaceDetector.loadFromDisk(FACE_MODEL_DIR);
    await faceapi.nets.ssdMobilenetv1.loadFromDisk(FACE_MODEL_DIR);
    await faceapi.nets.faceLandmark68TinyNet.loadFromDisk(FACE_MODEL_DIR);
    return faceapi;
  })();
  loaded.catch(() => (loaded = null));
  return loaded;
}

/** The faces one pass finds in the (already shrunk) detector input, in its pixels. */
async function searchOnce(faceapi: FaceApi, image: RgbPixels, pass: FacePass) {
  const { pixels, border } = pass.frame > 0 ? framed(image, pass.frame) : { pixels: image, border: 0 };
  const input = tf.tensor3d(pixels.data, [pixels.height, pixels.width, 3], 'int32');
  try {
    const options =
      pass.detector === 'tiny'
        ? new faceapi.TinyFaceDetectorOptions({ inputSize: FACE_DETECTOR.inputSize, scoreThreshold: pass.minScore })
        : new faceapi.SsdMobilenetv1Options({ minConfidence: pass.minScore });
    const found = await onWasmBackend(() => faceapi.detectAllFaces(input, options).withFaceLandmarks(true));
    return found.map((f) => ({
      box: unframeBox(f.detection.box, border),
      landmarks: unframePoints(f.landmarks.positions, border),
      score: f.detection.score,
    }));
  } finally {
    input.dispose();
  }
}

/** Every face found in an RGB photo, largest first; [] when there is none. */
export async function detectFaces(image: RgbPixels): Promise<DetectedFace[]> {
  const faceapi = await loadFaceApi();
  const { pixels, scale } = detectorInput(image, FACE_DETECTOR.maxSide);
  let found: Awaited<ReturnType<typeof searchOnce>> = [];
  for (const pass of FACE_DETECTOR.passes) {
    found = await searchOnce(faceapi, pixels, pass);
    if (found.length) break;
  }
  return found
    .map((f) => {
      const landmarks = scalePoints(f.landmarks, scale);
      return { box: scaleBox(f.box, scale), crop: ffhqCropBox(landmarks), score: f.score, landmarks };
    })
    .sort((a, b) => b.crop.width - a.crop.width || a.crop.x - b.crop.x);
}
