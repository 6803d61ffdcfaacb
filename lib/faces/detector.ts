/**
 * Faces in any photo, with @vladmandic/face-api (MIT; its npm package carries the weights, built against
 * tfjs 4.22 like realfake) and BlazeFace from @vladmandic/human (MIT, same tfjs). We load face-api's `node-wasm`
 * build, which uses realfake's own @tensorflow/tfjs, and run everything on its wasm backend, never tfjs-node.
 *
 * Models:
 * - TinyFaceDetector (190 KB), 416 px input: fast (~0.07 s per photo), but its anchors are made for faces in a
 *   scene, so it missed 37 % of aligned FFHQ crops, where the face fills the frame.
 * - BlazeFace (540 KB, lib/faces/blazeface.ts), 256 px input: ~0.03 s, made for faces near the camera.
 * - SSD MobileNet v1 (5.6 MB): finds more hard faces (dark, turned, masked) at ~0.27 s a pass.
 * - FaceLandmark68TinyNet (77 KB): the eyes and mouth that place the FFHQ-style crop (lib/faces/crop.ts), inside
 *   whichever detector's box.
 * The finder tries its passes in turn and stops at the first that finds a face (FACE_DETECTOR.passes): tiny on
 * the photo; tiny on the photo framed by a border (lib/faces/crop.ts `framed`), so a frame-filling face becomes a
 * face in a scene; BlazeFace framed; then, only if BlazeFace saw something face-like, SSD framed and SSD in a
 * border as wide as the photo. Most photos stop at the first, so the median stays near the tiny detector's time.
 * Measured per set in BENCHMARKS.md (`npm run bench:faces`). Whatever the pass, the crop is ffhqCropBox of the
 * landmarks in photo pixels: crops follow the FFHQ alignment the models were trained on.
 * The page's in-browser mode runs the same passes with the same settings (FACE_DETECTOR below).
 */
import * as fs from 'fs';
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
import { resolvePackageDir } from '../files';
import { findBlazeFaces, type FaceApiLandmarks } from './blazeface';

/** One search of the finder: a detector, its threshold, and the border framing the photo (0: none). */
export interface FacePass {
  detector: 'tiny' | 'ssd' | 'blaze';
  /** Minimum confidence: TinyFaceDetector's scoreThreshold, SSD's minConfidence, or BlazeFace's anchor score. */
  minScore: number;
  /** Border on every side, as a fraction of the photo's longer side (lib/faces/crop.ts `framed`). */
  frame: number;
  /**
   * Run this pass only if BlazeFace's best anchor scored at least this in an earlier pass (its `hint`): on a
   * picture where it sees nothing face-like the slow SSD passes are skipped. Absent: always run.
   */
  needsHint?: number;
}

/** Shared with the page (lib/serve/web/app.js reads it from /api/v1/model). */
export const FACE_DETECTOR = {
  name: 'face-api TinyFaceDetector, then framed; BlazeFace framed; SSD MobileNet v1 framed, then framed wide; FaceLandmark68TinyNet',
  /** TinyFaceDetector's input side. */
  inputSize: 416,
  /**
   * Tried in turn until one finds a face. The later passes run only on photos where the earlier found
   * nothing, so their lower thresholds add found faces without adding false ones on most photos; the false
   * faces on face-free pictures are measured in the bench. Chosen on ../shared's portraits and the bench's
   * face-free pictures, every pass scored on every photo (2026-12-06; BENCHMARKS.md, face finder).
   */
  passes: [
    { detector: 'tiny', minScore: 0.5, frame: 0 },
    { detector: 'tiny', minScore: 0.3, frame: 0.5 },
    // BlazeFace (~0.03 s) is made for faces near the camera: it finds most close-ups the tiny detector misses,
    // so they no longer wait for SSD (233 of the 1,040 SD-glasses photos now stop here). The bench's 200
    // face-free pictures all score below 0.6 on it (highest 0.55).
    { detector: 'blaze', minScore: 0.6, frame: 0.25 },
    // SSD (~0.27 s a pass) only where BlazeFace's best anchor reached 0.2: 184 of the 191 photos of ../shared's
    // portraits that only SSD finds did (the other 7 show no whole face: test/fixtures/no-whole-face.ts), and
    // 145 of the 200 face-free pictures did not, so most pictures without a face stop after BlazeFace. A hint at
    // 0.25 would have lost three whole faces.
    { detector: 'ssd', minScore: 0.3, frame: 0.25, needsHint: 0.2 },
    // The photo in a border as wide as itself: a face that fills a tight crop becomes a third of the picture.
    // At >= 0.5 it found a face in 12 of the first 49 SD-glasses photos the passes above missed (close-ups,
    // sunglasses, a hand over the mouth) and 2 of Unsplash's 13; face-free pictures scored at most 0.13.
    { detector: 'ssd', minScore: 0.4, frame: 1, needsHint: 0.2 },
  ] as readonly FacePass[],
  /**
   * BlazeFace's box grown by this before face-api's landmarks are placed in it: its boxes are tighter than
   * face-api's; at 1.15 the FFHQ crops matched the tiny detector's (median IoU 0.97 on 34 photos).
   */
  blazeBoxScale: 1.15,
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
interface FaceApi extends FaceApiLandmarks {
  nets: Record<'tinyFaceDetector' | 'ssdMobilenetv1' | 'faceLandmark68TinyNet', FaceApiNet> & FaceApiLandmarks['nets'];
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

interface FaceApiNet {
  loadFromDisk(dir: string): Promise<void>;
  isLoaded: boolean;
}

export const FACE_MODEL_DIR = path.join(resolvePackageDir('@vladmandic/face-api'), 'model');

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

/** BlazeFace's model file, shipped in @vladmandic/human's npm package (see lib/faces/blazeface.ts). */
export const BLAZEFACE_MODEL = path.join(resolvePackageDir('@vladmandic/human'), 'models', 'blazeface.json');

let blazeLoaded: Promise<tf.GraphModel> | null = null;

/** BlazeFace as a tfjs graph model (once per process), read from disk: tfjs' own loaders fetch over HTTP. */
function loadBlazeFace(): Promise<tf.GraphModel> {
  blazeLoaded ??= (async () => {
    const json = JSON.parse(fs.readFileSync(BLAZEFACE_MODEL, 'utf8')) as {
      modelTopology: object;
      weightsManifest: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }>;
    };
    const weights = json.weightsManifest.flatMap((group) =>
      group.paths.map((file) => fs.readFileSync(path.join(path.dirname(BLAZEFACE_MODEL), file))),
    );
    const data = Buffer.concat(weights);
    return tf.loadGraphModel(
      tf.io.fromMemory({
        modelTopology: json.modelTopology,
        weightSpecs: json.weightsManifest.flatMap((group) => group.weights),
        weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength),
      }),
    );
  })();
  blazeLoaded.catch(() => (blazeLoaded = null));
  return blazeLoaded;
}

/** A face one pass found, in the pixels of the detector input it searched. */
interface PassFace {
  box: Box;
  landmarks: Point[];
  score: number;
}

/**
 * The faces one pass finds in the (already shrunk) detector input, framed for it (`border` wide), in the input's
 * pixels, and its hint (see FacePass).
 */
async function searchOnce(
  faceapi: FaceApi,
  { pixels, border }: { pixels: RgbPixels; border: number },
  pass: FacePass,
): Promise<{ faces: PassFace[]; hint: number }> {
  const input = tf.tensor3d(pixels.data, [pixels.height, pixels.width, 3], 'int32');
  try {
    const { faces, hint } = await onWasmBackend(async () =>
      pass.detector === 'blaze'
        ? findBlazeFaces(tf, faceapi, await loadBlazeFace(), input, pass.minScore, FACE_DETECTOR.blazeBoxScale)
        : searchFaceApi(faceapi, input, pass),
    );
    return {
      faces: faces.map((f) => ({
        ...f,
        box: unframeBox(f.box, border),
        landmarks: unframePoints(f.landmarks, border),
      })),
      hint,
    };
  } finally {
    input.dispose();
  }
}

/** face-api's own detector and landmarks in one call (its `withFaceLandmarks`). No hint. */
async function searchFaceApi(faceapi: FaceApi, input: tf.Tensor3D, pass: FacePass) {
  const options =
    pass.detector === 'tiny'
      ? new faceapi.TinyFaceDetectorOptions({ inputSize: FACE_DETECTOR.inputSize, scoreThreshold: pass.minScore })
      : new faceapi.SsdMobilenetv1Options({ minConfidence: pass.minScore });
  const found = await faceapi.detectAllFaces(input, options).withFaceLandmarks(true);
  const faces = found.map((f) => ({
    box: { x: f.detection.box.x, y: f.detection.box.y, width: f.detection.box.width, height: f.detection.box.height },
    landmarks: f.landmarks.positions,
    score: f.detection.score,
  }));
  return { faces, hint: 0 };
}

/** Every face found in an RGB photo, largest first; [] when there is none. */
export async function detectFaces(image: RgbPixels): Promise<DetectedFace[]> {
  const faceapi = await loadFaceApi();
  const { pixels, scale } = detectorInput(image, FACE_DETECTOR.maxSide);
  let found: PassFace[] = [];
  let hint = 0;
  // Passes with the same border (BlazeFace and the first SSD pass) search the same framed picture: frame it once.
  const framings = new Map<number, { pixels: RgbPixels; border: number }>([[0, { pixels, border: 0 }]]);
  for (const pass of FACE_DETECTOR.passes) {
    if (pass.needsHint !== undefined && hint < pass.needsHint) continue;
    if (!framings.has(pass.frame)) framings.set(pass.frame, framed(pixels, pass.frame));
    const result = await searchOnce(faceapi, framings.get(pass.frame)!, pass);
    found = result.faces;
    hint = Math.max(hint, result.hint);
    if (found.length) break;
  }
  return found
    .map((f) => {
      const landmarks = scalePoints(f.landmarks, scale);
      return { box: scaleBox(f.box, scale), crop: ffhqCropBox(landmarks), score: f.score, landmarks };
    })
    .sort((a, b) => b.crop.width - a.crop.width || a.crop.x - b.crop.x);
}
