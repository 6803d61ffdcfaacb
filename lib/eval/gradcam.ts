/**
 * Grad-CAM (Selvaraju et al. 2017): where in the image the model's evidence for its verdict lies.
 * For the last convolution's activations A (h x w x K), the target score y, the channel weights are
 * alpha_k = mean over (i, j) of dy / dA_ijk, and the map is ReLU(sum_k alpha_k A_k), bilinearly up-sampled to the
 * input size and scaled to [0, 1] by its maximum.
 *
 * Target score: the log-odds of the verdict. For the study's two-sigmoid head, logit(pFake) = ln p1 - ln p0
 * (see lib/eval/calibration.ts); for a one-unit sigmoid head, ln p - ln(1 - p). Explaining "Fake" uses
 * +logit, explaining "Real" uses -logit; by default the verdict the model gave is explained.
 *
 * The small API other callers use (e.g. a web page): explainImage(model, pixels, size) takes a loaded tfjs model
 * and one preprocessed image (RGB uint8, size x size, as lib/data/images.ts loadImageRgb returns) and gives the
 * heatmap and a PNG overlay.
 */
import * as tf from '@tensorflow/tfjs';
import * as fs from 'fs';
import * as path from 'path';
import sharp from 'sharp';
import type { Predictor } from '../infer/predict';

export type CamTarget = 'predicted' | 'fake' | 'real';

export interface GradCamResult {
  /** size x size values in [0, 1], row-major. */
  heatmap: Float32Array;
  size: number;
  pFake: number;
  /** The verdict explained. */
  target: 'fake' | 'real';
  layer: string;
}

const CONV_CLASSES = new Set(['Conv2D', 'DilatedConv2D', 'SeparableConv2D', 'DepthwiseConv2D']);

function applicableLayers(model: tf.LayersModel): tf.layers.Layer[] {
  return model.layers.filter((l) => l.getClassName() !== 'InputLayer');
}

/** Name of the model's last convolution layer. */
export function lastConvLayerName(model: tf.LayersModel): string {
  const convs = applicableLayers(model).filter((l) => CONV_CLASSES.has(l.getClassName()));
  if (!convs.length) throw new Error(`gradcam: model ${model.name} has no convolution layer`);
  return convs[convs.length - 1].name;
}

/** log-odds of "fake" from the model output (two sigmoids [p0, p1], or one sigmoid). */
function fakeLogit(output: tf.Tensor): tf.Tensor {
  const logp = (t: tf.Tensor) => t.clipByValue(1e-7, 1 - 1e-7).log();
  const units = output.shape[output.shape.length - 1];
  if (units === 2) {
    const [p0, p1] = tf.split(output, 2, -1);
    return logp(p1).sub(logp(p0)).sum();
  }
  if (units === 1)
    return logp(output)
      .sub(logp(tf.scalar(1).sub(output)))
      .sum();
  throw new Error(`gradcam: expected 1 or 2 output units, got ${units}`);
}

/**
 * Grad-CAM of one image (size x size x 3 floats in [0, 1], as the model takes it). The model must be a chain
 * of layers (the study's Sequential CNN and other Sequential models); `layer` defaults to the last convolution.
 */
export function gradCam(
  model: tf.LayersModel,
  image: Float32Array,
  size: number,
  options: { layer?: string; target?: CamTarget; threshold?: number } = {},
): GradCamResult {
  if (image.length !== size * size * 3)
    throw new Error(`gradcam: expected ${size * size * 3} values (${size}x${size}x3), got ${image.length}`);
  const layers = applicableLayers(model);
  const layer = options.layer ?? lastConvLayerName(model);
  const k = layers.findIndex((l) => l.name === layer);
  if (k < 0) throw new Error(`gradcam: no layer named ${layer} (layers: ${layers.map((l) => l.name).join(', ')})`);
  const run = (x: tf.Tensor, from: number, to: number) => {
    let h = x;
    for (let i = from; i < to; i++) h = layers[i].apply(h, { training: false }) as tf.Tensor;
    return h;
  };
  const result = tf.tidy(() => {
    const activations = run(tf.tensor4d(image, [1, size, size, 3]), 0, k + 1);
    const output = run(activations, k + 1, layers.length);
    const probs = Array.from(output.dataSync());
    const pFake = probs.length === 2 ? probs[1] / Math.max(probs[0] + probs[1], 1e-12) : probs[0];
    const explainFake = options.target === 'fake' || (options.target !== 'real' && pFake >= (options.threshold ?? 0.5));
    const sign = explainFake ? 1 : -1;
    const grads = tf.grad((a: tf.Tensor) => fakeLogit(run(a, k + 1, layers.length)).mul(sign))(activations);
    const channels = activations.shape[3] as number;
    const weights = grads.mean([1, 2]).reshape([1, 1, 1, channels]);
    const cam = activations.mul(weights).sum(-1, true).relu() as tf.Tensor4D;
    const up = tf.image.resizeBilinear(cam, [size, size], true);
    const max = up.max();
    const scaled = up.div(max.maximum(1e-12));
    return {
      heatmap: scaled.dataSync() as Float32Array,
      pFake,
      target: (explainFake ? 'fake' : 'real') as 'fake' | 'real',
    };
  });
  return { heatmap: Float32Array.from(result.heatmap), size, pFake: result.pFake, target: result.target, layer };
}

// The "jet" colour map as five stops (blue > cyan > green > yellow > red), linearly interpolated.
const JET: Array<[number, number, number]> = [
  [0, 0, 143],
  [0, 128, 255],
  [0, 255, 0],
  [255, 255, 0],
  [200, 0, 0],
];

function jet(v: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, v)) * (JET.length - 1);
  const i = Math.min(JET.length - 2, Math.floor(x));
  const t = x - i;
  return [0, 1, 2].map((c) => JET[i][c] + t * (JET[i + 1][c] - JET[i][c])) as [number, number, number];
}

/**
 * The image with the heatmap blended over it (jet colours, `alpha` of the colour where the map is 1, less
 * where it is weaker), enlarged `scale` times with nearest neighbour so pixels stay visible; as a PNG.
 */
export async function overlayPng(
  pixels: Uint8Array,
  heatmap: Float32Array,
  size: number,
  options: { alpha?: number; scale?: number } = {},
): Promise<Buffer> {
  const alpha = options.alpha ?? 0.6;
  const scale = options.scale ?? Math.max(1, Math.round(256 / size));
  const out = Buffer.alloc(size * size * 3);
  for (let i = 0; i < size * size; i++) {
    const colour = jet(heatmap[i]);
    const a = alpha * (0.25 + 0.75 * heatmap[i]);
    for (let c = 0; c < 3; c++) out[3 * i + c] = Math.round((1 - a) * pixels[3 * i + c] + a * colour[c]);
  }
  return sharp(out, { raw: { width: size, height: size, channels: 3 } })
    .resize(size * scale, size * scale, { kernel: 'nearest' })
    .png()
    .toBuffer();
}

/** Grad-CAM of one preprocessed image (RGB uint8) and its PNG overlay. */
export async function explainImage(
  model: tf.LayersModel,
  pixels: Uint8Array,
  size: number,
  options: { target?: CamTarget; threshold?: number; alpha?: number; scale?: number } = {},
): Promise<GradCamResult & { overlay: Buffer }> {
  const image = Float32Array.from(pixels, (v) => v / 255);
  const cam = gradCam(model, image, size, options);
  return { ...cam, overlay: await overlayPng(pixels, cam.heatmap, size, options) };
}

/** NAME.gradcam.png for an image; a second image of the same name (another folder) gets NAME-2.gradcam.png. */
export function overlayName(file: string, used: Map<string, number>): string {
  const stem = path.basename(file).replace(/\.[^.]+$/, '');
  const count = (used.get(stem) ?? 0) + 1;
  used.set(stem, count);
  return `${stem}${count > 1 ? `-${count}` : ''}.gradcam.png`;
}

/** Grad-CAM overlay PNG of one file, framed as `predictor` frames it, into `out`; returns the line to report. */
export async function explainFile(
  model: tf.LayersModel,
  predictor: Predictor,
  file: string,
  out: string,
  threshold: number,
): Promise<string> {
  const pixels = await predictor.loadPixels(file);
  const cam = await explainImage(model, pixels, predictor.config.imageSize, { threshold });
  fs.writeFileSync(out, cam.overlay);
  return `explained ${file} (${cam.target}): ${out}`;
}
