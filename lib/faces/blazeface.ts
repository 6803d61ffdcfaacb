/**
 * BlazeFace's pass of the face finder: the square input, its anchors, the decoding of its raw outputs into scored
 * face boxes, and face-api's landmarks inside them. No runtime imports (tfjs and face-api are passed in), so the
 * page runs this same file (served as blazeface.js, like crop.js); lib/faces/detector.ts loads the model and calls
 * findBlazeFaces, and so does lib/serve/web/app.js with the browser's tfjs and face-api.
 *
 * BlazeFace (Bazarevsky et al. 2019, arXiv:1907.05047) is MediaPipe's face detector for faces near the camera;
 * the weights are `models/blazeface.json` of @vladmandic/human (MIT), its "back camera" model at 256 px. Its
 * anchors and decoding follow MediaPipe's SSD anchor calculator as @vladmandic/human implements it
 * (src/face/facemeshutil.ts generateAnchors, src/face/blazeface.ts decodeBoxes): per anchor one row of
 * [logit, centre dx, centre dy, width, height, 6 keypoints x 2], offsets and sizes in input pixels.
 */
import type * as TF from '@tensorflow/tfjs';
// Types only (erased when compiled), so the page can still run this file as it is.
import type { Box, Point } from './crop';

export interface BlazeFace {
  box: Box;
  score: number;
}

export const BLAZEFACE = {
  /** The model's square input side. */
  inputSize: 256,
  /** Two feature maps: stride 16 with 2 anchors a cell, stride 32 with 6 (the model's 512 + 384 rows). */
  layers: [
    { stride: 16, anchors: 2 },
    { stride: 32, anchors: 6 },
  ],
  /** Boxes overlapping a better one by more than this intersection-over-union are the same face. */
  iouThreshold: 0.3,
} as const;

/** Anchor centres in input pixels, in the order of the model's rows. */
export function blazeAnchors(size: number = BLAZEFACE.inputSize): Array<[number, number]> {
  const anchors: Array<[number, number]> = [];
  for (const { stride, anchors: perCell } of BLAZEFACE.layers) {
    const cells = Math.ceil(size / stride);
    for (let y = 0; y < cells; y++)
      for (let x = 0; x < cells; x++)
        for (let n = 0; n < perCell; n++) anchors.push([stride * (x + 0.5), stride * (y + 0.5)]);
  }
  return anchors;
}

/**
 * Where a picture sits in the model's square input: padded to a square (equally on both sides), then scaled to
 * `size`. `scale` is picture pixels per input pixel.
 */
export function blazeInputGeometry(width: number, height: number, size: number = BLAZEFACE.inputSize) {
  const side = Math.max(width, height);
  return {
    side,
    padX: Math.floor((side - width) / 2),
    padY: Math.floor((side - height) / 2),
    scale: side / size,
  };
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

// lib/video/tracker.ts has the same arithmetic; this file keeps its own because the page runs it without imports.
function iou(a: Box, b: Box): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  if (w <= 0 || h <= 0) return 0;
  return (w * h) / (a.width * a.height + b.width * b.height - w * h);
}

/**
 * The faces in the model's raw rows (one per anchor), in the picture's pixels: every anchor scoring at least
 * `minScore`, best first, with boxes that overlap a better one removed (greedy non-maximum suppression).
 * `best` is the highest score of any anchor, kept or not: the finder uses it as a hint that a face may be there.
 */
export function decodeBlazeFace(
  rows: ArrayLike<number>[],
  picture: { width: number; height: number },
  minScore: number,
): { faces: BlazeFace[]; best: number } {
  const size = BLAZEFACE.inputSize;
  const anchors = blazeAnchors(size);
  if (rows.length !== anchors.length) throw new Error(`BlazeFace: expected ${anchors.length} rows, got ${rows.length}`);
  const { padX, padY, scale } = blazeInputGeometry(picture.width, picture.height, size);
  let best = 0;
  const candidates: BlazeFace[] = [];
  rows.forEach((row, i) => {
    const score = sigmoid(row[0]);
    best = Math.max(best, score);
    if (score < minScore) return;
    const cx = (row[1] + anchors[i][0]) * scale - padX;
    const cy = (row[2] + anchors[i][1]) * scale - padY;
    const width = row[3] * scale;
    const height = row[4] * scale;
    candidates.push({ box: { x: cx - width / 2, y: cy - height / 2, width, height }, score });
  });
  candidates.sort((a, b) => b.score - a.score);
  const faces: BlazeFace[] = [];
  for (const c of candidates) if (faces.every((kept) => iou(kept.box, c.box) <= BLAZEFACE.iouThreshold)) faces.push(c);
  return { faces, best };
}

/** A box grown (or shrunk) by `factor` about its centre. */
export function scaleAboutCentre(box: Box, factor: number): Box {
  const width = box.width * factor;
  const height = box.height * factor;
  return { x: box.x + (box.width - width) / 2, y: box.y + (box.height - height) / 2, width, height };
}

/** The parts of face-api the pass uses: its 68-point landmark net on a face cut out of a box. */
export interface FaceApiLandmarks {
  nets: {
    faceLandmark68TinyNet: {
      detectLandmarks(face: TF.Tensor3D): Promise<{ shiftBy(x: number, y: number): { positions: Point[] } }>;
    };
  };
  Rect: new (x: number, y: number, width: number, height: number) => FaceApiRect;
  extractFaceTensors(input: TF.Tensor3D, boxes: FaceApiRect[]): Promise<TF.Tensor3D[]>;
}

interface FaceApiRect extends Box {
  clipAtImageBorders(width: number, height: number): FaceApiRect;
}

/** A face BlazeFace found, with face-api's 68 landmarks, in the pixels of the picture searched. */
export interface BlazeFaceWithLandmarks extends BlazeFace {
  landmarks: Point[];
}

/**
 * BlazeFace on a picture (`input`, int32 height x width x 3): its faces scoring at least `minScore`, each with
 * face-api's 68 landmarks placed inside its box grown by `boxScale` (as face-api's withFaceLandmarks does inside its
 * own detectors' boxes), and `hint`, the best anchor's score (decodeBlazeFace). `tf` and `faceapi` are the caller's:
 * realfake's tfjs and face-api's node build on the server, the bundled ones in the page.
 */
export async function findBlazeFaces(
  tf: typeof TF,
  faceapi: FaceApiLandmarks,
  model: TF.GraphModel,
  input: TF.Tensor3D,
  minScore: number,
  boxScale: number,
): Promise<{ faces: BlazeFaceWithLandmarks[]; hint: number }> {
  const [height, width] = input.shape;
  const { side, padX, padY } = blazeInputGeometry(width, height);
  const rows = tf.tidy(() => {
    const square = tf.pad(input.toFloat(), [
      [padY, side - height - padY],
      [padX, side - width - padX],
      [0, 0],
    ]);
    const size = BLAZEFACE.inputSize;
    const scaled = tf.image
      .resizeBilinear(square.expandDims(0) as TF.Tensor4D, [size, size])
      .div(127.5)
      .sub(1);
    // Four outputs (scores and boxes of each feature map); smallest first they are 384x1, 512x1, 384x16, 512x16.
    const outputs = (model.execute(scaled) as TF.Tensor[]).slice().sort((a, b) => a.size - b.size);
    const rows512 = tf.concat([outputs[1], outputs[3]], 2);
    const rows384 = tf.concat([outputs[0], outputs[2]], 2);
    return tf.concat([rows512, rows384], 1).squeeze([0]).arraySync() as number[][];
  });
  const { faces: boxes, best } = decodeBlazeFace(rows, { width, height }, minScore);
  const faces: BlazeFaceWithLandmarks[] = [];
  for (const { box, score } of boxes) {
    const grown = scaleAboutCentre(box, boxScale);
    const rect = new faceapi.Rect(grown.x, grown.y, grown.width, grown.height).clipAtImageBorders(width, height);
    if (rect.width < 1 || rect.height < 1) continue;
    const [face] = await faceapi.extractFaceTensors(input, [rect]);
    try {
      const landmarks = await faceapi.nets.faceLandmark68TinyNet.detectLandmarks(face);
      faces.push({ box, score, landmarks: landmarks.shiftBy(rect.x, rect.y).positions });
    } finally {
      face.dispose();
    }
  }
  return { faces, hint: best };
}
