/**
 * Robustness grid: re-score a run's held-back images after common degradations and see how accuracy and AUC
 * fall with severity (CNNDetection, Wang et al. 2020, showed detectors collapsing on re-saved JPEGs and resized
 * images). Each perturbation is applied to the image exactly as the model sees it (the preprocessed
 * imageSize x imageSize RGB pixels), then scored by the same engine and threshold:
 *   jpeg q      re-encode as JPEG at quality q (sharp/libjpeg-turbo, 4:2:0 chroma subsampling, sharp's default);
 *   resize s    down to round(s * size) and back up, both with bilinear interpolation (sharp 'linear');
 *   blur s      Gaussian blur with sigma s pixels (sharp);
 *   noise s     additive Gaussian noise with standard deviation s (of 255), seeded, clipped to [0, 255];
 * and combinations, applied left to right (e.g. resize 0.5 > jpeg 75, the path of a photo re-shared online).
 */
import sharp from 'sharp';
import type { Sharp } from 'sharp';
import { gaussian, makeRng } from '../random';
import { computeMetrics } from '../metrics/metrics';
import type { Figure } from '../viz/plots';

export type Step =
  | { kind: 'jpeg'; quality: number }
  | { kind: 'resize'; scale: number }
  | { kind: 'blur'; sigma: number }
  | { kind: 'noise'; sigma: number };

export interface Perturbation {
  /** Row of the grid: jpeg, resize, blur, noise, or a combination. */
  family: string;
  /** Column label within the family, e.g. "q75". */
  level: string;
  steps: Step[];
}

const jpeg = (quality: number): Step => ({ kind: 'jpeg', quality });
const resize = (scale: number): Step => ({ kind: 'resize', scale });
const blur = (sigma: number): Step => ({ kind: 'blur', sigma });
const noise = (sigma: number): Step => ({ kind: 'noise', sigma });

export function stepLabel(step: Step): string {
  switch (step.kind) {
    case 'jpeg':
      return `jpeg q${step.quality}`;
    case 'resize':
      return `resize ${step.scale}x`;
    case 'blur':
      return `blur σ${step.sigma}`;
    case 'noise':
      return `noise σ${step.sigma}`;
  }
}

/** The grid: JPEG 95/75/50/30, resize 0.75/0.5, blur 1/2, noise 2/5/10, and three combinations. */
export const DEFAULT_PERTURBATIONS: Perturbation[] = [
  ...[95, 75, 50, 30].map((q) => ({ family: 'jpeg', level: `q${q}`, steps: [jpeg(q)] })),
  ...[0.75, 0.5].map((s) => ({ family: 'resize', level: `${s}x`, steps: [resize(s)] })),
  ...[1, 2].map((s) => ({ family: 'blur', level: `σ${s}`, steps: [blur(s)] })),
  ...[2, 5, 10].map((s) => ({ family: 'noise', level: `σ${s}`, steps: [noise(s)] })),
  ...[95, 75, 50].map((q) => ({ family: 'resize 0.5x > jpeg', level: `q${q}`, steps: [resize(0.5), jpeg(q)] })),
  ...[95, 75, 50].map((q) => ({ family: 'blur σ1 > jpeg', level: `q${q}`, steps: [blur(1), jpeg(q)] })),
  ...[2, 5].map((s) => ({ family: 'jpeg q75 > noise', level: `σ${s}`, steps: [jpeg(75), noise(s)] })),
];

/** A short grid for smoke runs: one level of each family and one combination. */
export const QUICK_PERTURBATIONS: Perturbation[] = [
  { family: 'jpeg', level: 'q75', steps: [jpeg(75)] },
  { family: 'resize', level: '0.5x', steps: [resize(0.5)] },
  { family: 'blur', level: 'σ1', steps: [blur(1)] },
  { family: 'noise', level: 'σ5', steps: [noise(5)] },
  { family: 'resize 0.5x > jpeg', level: 'q75', steps: [resize(0.5), jpeg(75)] },
];

const raw = (size: number) => ({ raw: { width: size, height: size, channels: 3 as const } });

async function toPixels(image: Sharp): Promise<Uint8Array> {
  const { data, info } = await image.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`robustness: expected 3 channels, got ${info.channels}`);
  return new Uint8Array(data.buffer, data.byteOffset, data.length);
}

/** One step on an RGB uint8 size x size image; `rng` feeds the noise. */
export async function applyStep(pixels: Uint8Array, size: number, step: Step, rng: () => number): Promise<Uint8Array> {
  switch (step.kind) {
    case 'jpeg': {
      const encoded = await sharp(pixels, raw(size)).jpeg({ quality: step.quality }).toBuffer();
      return toPixels(sharp(encoded));
    }
    case 'resize': {
      const small = Math.max(1, Math.round(size * step.scale));
      const down = await sharp(pixels, raw(size))
        .resize(small, small, { kernel: 'linear', fit: 'fill' })
        .raw()
        .toBuffer();
      return toPixels(sharp(down, raw(small)).resize(size, size, { kernel: 'linear', fit: 'fill' }));
    }
    case 'blur':
      return toPixels(sharp(pixels, raw(size)).blur(step.sigma));
    case 'noise': {
      const out = new Uint8Array(pixels.length);
      for (let i = 0; i < pixels.length; i++)
        out[i] = Math.min(255, Math.max(0, Math.round(pixels[i] + step.sigma * gaussian(rng))));
      return out;
    }
  }
}

export async function applyPerturbation(
  pixels: Uint8Array,
  size: number,
  steps: Step[],
  rng: () => number,
): Promise<Uint8Array> {
  let out = pixels;
  for (const step of steps) out = await applyStep(out, size, step, rng);
  return out;
}

export interface RobustnessRow {
  family: string;
  level: string;
  perturbation: string;
  n: number;
  accuracy: number;
  auc: number;
}

/**
 * Scores `images` (RGB uint8) clean and under each perturbation with `score` (pFake per image, batched by the
 * caller). Noise is seeded per perturbation, so the grid is reproducible.
 */
export async function robustnessGrid(
  images: Uint8Array[],
  labels: ArrayLike<number>,
  size: number,
  score: (images: Uint8Array[]) => Promise<ArrayLike<number>>,
  options: {
    perturbations?: Perturbation[];
    threshold?: number;
    seed?: number;
    onProgress?: (done: number, total: number) => void;
  } = {},
): Promise<RobustnessRow[]> {
  const perturbations = options.perturbations ?? DEFAULT_PERTURBATIONS;
  const threshold = options.threshold ?? 0.5;
  const rows: RobustnessRow[] = [];
  const measure = (family: string, level: string, perturbation: string, scores: ArrayLike<number>) => {
    const m = computeMetrics(labels, scores, threshold);
    rows.push({ family, level, perturbation, n: m.n, accuracy: m.accuracy, auc: m.auc });
  };
  measure('clean', '-', 'none', await score(images));
  for (const [k, p] of perturbations.entries()) {
    const rng = makeRng((options.seed ?? 0) * 1000 + k);
    const changed: Uint8Array[] = [];
    for (const img of images) changed.push(await applyPerturbation(img, size, p.steps, rng));
    measure(p.family, p.level, p.steps.map(stepLabel).join(' > '), await score(changed));
    options.onProgress?.(k + 1, perturbations.length);
  }
  return rows;
}

/** Heatmap of one metric: a row per family, a column per severity step (mildest first), clean as its own row. */
export function robustnessFigure(rows: RobustnessRow[], metric: 'accuracy' | 'auc'): Figure {
  const families = [...new Set(rows.map((r) => r.family))];
  const width = Math.max(...families.map((f) => rows.filter((r) => r.family === f).length));
  const byFamily = families.map((f) => rows.filter((r) => r.family === f));
  const z = byFamily.map((rs) => Array.from({ length: width }, (_, i) => (rs[i] ? rs[i][metric] : null)));
  const text = byFamily.map((rs) =>
    Array.from({ length: width }, (_, i) =>
      rs[i] ? `${rs[i].level}<br>${Number.isFinite(rs[i][metric]) ? rs[i][metric].toFixed(3) : 'n/a'}` : '',
    ),
  );
  return {
    data: [
      {
        type: 'heatmap',
        x: Array.from({ length: width }, (_, i) => `step ${i + 1}`),
        y: families,
        z,
        text,
        texttemplate: '%{text}',
        // Red at chance (0.5) and below, yellow between, green at 1.
        colorscale: [
          [0, '#d73027'],
          [0.5, '#fee08b'],
          [1, '#1a9850'],
        ],
        zmin: 0.5,
        zmax: 1,
        hovertemplate: '%{y}: %{text}<extra></extra>',
      },
    ],
    layout: {
      title: {
        text: `Robustness: ${metric === 'auc' ? 'ROC AUC' : 'accuracy'} under perturbation (severity grows to the right)`,
      },
      xaxis: { title: { text: 'severity step' } },
      yaxis: { autorange: 'reversed' },
      margin: { l: 160, r: 30, t: 60, b: 60 },
      width: 720,
      height: 120 + 40 * families.length,
    },
  };
}
