/**
 * Faces in any photo, with @vladmandic/face-api (MIT; its npm package carries the weights, built against
 * tfjs 4.22 like realfake). We load its `node-wasm` build, which uses realfake's own @tensorflow/tfjs (so
 * whichever backend lib/backend picked: wasm, or cpu in tests), never tfjs-node.
 *
 * Models, both shipped in node_modules/@vladmandic/face-api/model:
 * - TinyFaceDetector (190 KB), 416 px input, score >= 0.5. The package's SSD MobileNet v1 (5.6 MB) finds more
 *   small faces but measured 0.8-2.5 s per 256 px photo on this machine's wasm backend against ~0.16 s.
 * - FaceLandmark68TinyNet (77 KB): the eyes and mouth that place the FFHQ-style crop (lib/faces/crop.ts).
 * The page's in-browser mode runs the same two models with the same settings (FACE_DETECTOR below).
 */
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { Box, detectorInput, ffhqCropBox, Point, RgbPixels, scaleBox, scalePoints } from './crop';
import { onWasmBackend } from '../backend/backend';

/** Shared with the page (lib/serve/web/app.js reads it from /api/v1/model). */
export const FACE_DETECTOR = {
  name: 'face-api TinyFaceDetector + FaceLandmark68TinyNet',
  inputSize: 416,
  scoreThreshold: 0.5,
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
    'tinyFaceDetector' | 'faceLandmark68TinyNet',
    { loadFromDisk(dir: string): Promise<void>; isLoaded: boolean }
  >;
  TinyFaceDetectorOptions: new (o: { inputSize: number; scoreThreshold: number }) => unknown;
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
    await faceapi.nets.faceLandmark68TinyNet.loadFromDisk(FACE_MODEL_DIR);
    return faceapi;
  })();
  loaded.catch(() => (loaded = null));
  return loaded;
}

/** Every face found in an RGB photo, largest first; [] when there is none. */
export async function detectFaces(image: RgbPixels): Promise<DetectedFace[]> {
  const faceapi = await loadFaceApi();
  const { pixels, scale } = detectorInput(image, FACE_DETECTOR.maxSide);
  const input = tf.tensor3d(pixels.data, [pixels.height, pixels.width, 3], 'int32');
  try {
    const options = new faceapi.TinyFaceDetectorOptions({
      inputSize: FACE_DETECTOR.inputSize,
      scoreThreshold: FACE_DETECTOR.scoreThreshold,
    });
    const found = await onWasmBackend(() => faceapi.detectAllFaces(input, options).withFaceLandmarks(true));
    return found
      .map((f) => {
        const landmarks = scalePoints(
          f.landmarks.positions.map((p) => ({ x: p.x, y: p.y })),
          scale,
        );
        return {
          box: scaleBox(f.detection.box, scale),
          crop: ffhqCropBox(landmarks),
          score: f.detection.score,
          landmarks,
        };
      })
      .sort((a, b) => b.crop.width - a.crop.width || a.crop.x - b.crop.x);
  } finally {
    input.dispose();
  }
}
