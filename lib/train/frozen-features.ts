/**
 * Training a family whose plan is 'frozen-backbone' (lib/model/families/family.ts; facefeat) fast: its backbone
 * is frozen, so each image's features are computed once (and once more mirrored, when augment.flip > 0), and the
 * head (the layers after the backbone) trains on those cached rows. The head's layers are the full model's own,
 * so the checkpoint (the full model) always holds the trained head.
 * Other augmentations would need the backbone per step; they are refused here with a clear message.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { readNpy, writeNpy } from '../data/npy';
import { interruptRequested, InterruptedError } from '../interrupt';
import type { Config } from '../config';
import { BatchMaker, makeBatch, oneHotLabels } from './train';
import { ImageData } from '../data/pixels';
import { augmentRng } from '../data/augment';
import { flipHorizontal } from '../data/augment';
import { fakeScores } from '../model/model';
import { familyOf } from '../model/families';

export interface FeatureCache {
  /** Length of one feature vector (the backbone's output width: it depends on its pooling). */
  width: number;
  /** Features of every cached row, by dataset row; mirrored features where computed. */
  plain: Map<number, Float32Array>;
  flipped: Map<number, Float32Array>;
}

/**
 * Features already computed in this process, by key (the dataset's fingerprint and the family's feature tag, e.g.
 * facefeat's input size and pooling: the backbone's weights are fixed, so these decide its output). Runs that share a dataset (the folds of a
 * cross-validation, a sweep over head settings) compute each image's features once. Float32, so 4,000 images
 * and their mirrors at 1,472 features take 47 MB.
 */
const computed = new Map<string, FeatureCache>();

/** What names a config's features: the family's feature tag (facefeat: `224px-meanstd`). */
function featureTag(config: Config): string {
  const plan = familyOf(config).training;
  if (plan.kind !== 'frozen-backbone') throw new Error(`model ${config.model} has no frozen backbone to cache`);
  return plan.featureTag(config);
}

/** The key of a dataset's features under a config: the backbone's weights are fixed, so these decide its output. */
export function featureKey(fingerprint: string, config: Config): string {
  return `${fingerprint}:${featureTag(config)}`;
}

/**
 * Where a dataset's features are kept between processes: beside its X.npy, named by its fingerprint and the
 * feature tag (so a dataset written again never meets stale features). float32 [2, N, width]: plain, then mirrored;
 * a row not computed yet is NaN. 4,053 images at 1,472 features: 48 MB.
 */
export function featureFile(dataDir: string, fingerprint: string, config: Config): string {
  return path.join(dataDir, `features-${fingerprint.slice(0, 12)}-${featureTag(config)}.npy`);
}

/** The model's frozen backbone: the layer named so, or else its last layer that does not train. */
export function frozenBackbone(model: tf.LayersModel, name?: string): tf.layers.Layer {
  const layer = name ? model.getLayer(name) : model.layers.filter((l) => !l.trainable && l.weights.length).pop();
  if (!layer) throw new Error(`model ${model.name} has no frozen backbone layer`);
  return layer;
}

/** The layers after the backbone as a model of their own, from its features: they share the model's weights. */
export function headAfter(model: tf.LayersModel, backbone: tf.layers.Layer): tf.LayersModel {
  const input = tf.input({ shape: [(backbone.outputShape as number[])[1]] });
  let x = input as tf.SymbolicTensor;
  for (const layer of model.layers.slice(model.layers.indexOf(backbone) + 1)) x = layer.apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: x });
}

function loadFeatureFile(file: string, n: number, width: number): FeatureCache | null {
  if (!fs.existsSync(file)) return null;
  let saved;
  try {
    saved = readNpy(file);
  } catch {
    return null; // unreadable (an interrupted write is never under this name): computed again
  }
  if (saved.dtype !== 'float32' || saved.shape.join() !== [2, n, width].join()) return null;
  const cache: FeatureCache = { width, plain: new Map(), flipped: new Map() };
  const data = saved.data as Float32Array;
  for (const [k, map] of [cache.plain, cache.flipped].entries()) {
    for (let row = 0; row < n; row++) {
      const start = (k * n + row) * width;
      if (!Number.isNaN(data[start])) map.set(row, data.slice(start, start + width));
    }
  }
  return cache;
}

function saveFeatureFile(file: string, cache: FeatureCache, n: number): void {
  const data = new Float32Array(2 * n * cache.width).fill(NaN);
  for (const [k, map] of [cache.plain, cache.flipped].entries()) {
    for (const [row, features] of map) data.set(features, (k * n + row) * cache.width);
  }
  writeNpy(file, data, [2, n, cache.width]);
}

/** Saves, or says nothing when it cannot: a dataset folder we may not write to only means computing them again next time. */
function saveFeatureFileQuietly(file: string, cache: FeatureCache, n: number): void {
  try {
    saveFeatureFile(file, cache, n);
  } catch {
    // read-only or full: see above
  }
}

/** Forgets the features kept for reuse (tests, or to free memory). */
export function clearFeatureMemo(): void {
  computed.clear();
}

/**
 * Backbone features (frozenBackbone: the layer named `backbone`, or the model's frozen one) for `rows`, in
 * batches; mirrored too if asked. With `key`, features computed before under the same key in this process are
 * reused and new ones kept; with `file` (featureFile), also those saved by earlier processes, and the new ones
 * are saved there.
 */
export async function cacheFeatures(
  model: tf.LayersModel,
  data: ImageData,
  rows: number[],
  flippedRows: number[],
  options: { backbone?: string; key?: string; file?: string; onProgress?: (done: number, total: number) => void } = {},
): Promise<FeatureCache> {
  const backbone = frozenBackbone(model, options.backbone);
  const width = (backbone.outputShape as number[])[1];
  const n = data.x.length / (data.size * data.size * 3);
  const kept =
    (options.key === undefined ? undefined : computed.get(options.key)) ??
    (options.file === undefined ? undefined : (loadFeatureFile(options.file, n, width) ?? undefined));
  const cache: FeatureCache = kept && kept.width === width ? kept : { width, plain: new Map(), flipped: new Map() };
  if (options.key !== undefined) computed.set(options.key, cache);
  const jobs: Array<[number, boolean]> = [
    ...rows.filter((r) => !cache.plain.has(r)).map((r) => [r, false] as [number, boolean]),
    ...flippedRows.filter((r) => !cache.flipped.has(r)).map((r) => [r, true] as [number, boolean]),
  ];
  const pixels = data.size * data.size * 3;
  const batch = 16;
  for (let start = 0; start < jobs.length; start += batch) {
    // Ctrl-C: keep what is done (saved below), stop before the next batch; the backbone pass can take many minutes.
    if (interruptRequested()) break;
    const chunk = jobs.slice(start, start + batch);
    const x = new Uint8Array(chunk.length * pixels);
    chunk.forEach(([row, flip], i) => {
      const image = data.x.subarray(row * pixels, (row + 1) * pixels);
      x.set(flip ? flipHorizontal(image, data.size) : image, i * pixels);
    });
    const { xs, ys } = makeBatch(
      data,
      chunk.map(([row]) => row),
      { pixels: x },
    );
    const features = tf.tidy(() => backbone.apply(xs) as tf.Tensor2D);
    const values = (await features.data()) as Float32Array;
    tf.dispose([xs, ys, features]);
    chunk.forEach(([row, flip], i) =>
      (flip ? cache.flipped : cache.plain).set(row, values.slice(i * width, (i + 1) * width)),
    );
    options.onProgress?.(Math.min(start + batch, jobs.length), jobs.length);
  }
  if (interruptRequested()) {
    if (options.file) saveFeatureFileQuietly(options.file, cache, n);
    throw new InterruptedError(
      `interrupted (Ctrl-C) while computing backbone features; those done are kept${options.file ? ` in ${options.file}` : ''}`,
    );
  }
  if (options.file && jobs.length) saveFeatureFileQuietly(options.file, cache, n);
  return cache;
}

/** Features for the rows as a tensor (mirrored ones where `flip` says so). */
export function featureTensor(
  cache: FeatureCache,
  rows: number[],
  flip: (row: number) => boolean = () => false,
): tf.Tensor2D {
  const out = new Float32Array(rows.length * cache.width);
  rows.forEach((row, i) => {
    const f = flip(row) ? cache.flipped.get(row) : cache.plain.get(row);
    if (!f) throw new Error(`feature cache: row ${row} was not computed`);
    out.set(f, i * cache.width);
  });
  return tf.tensor2d(out, [rows.length, cache.width]);
}

/** Training batches from the cache: a seeded coin per (step, row) picks the mirrored features. */
export function featureBatchMaker(
  cache: FeatureCache,
  data: ImageData,
  config: Pick<Config, 'augment' | 'labelSmoothing' | 'seed'>,
): BatchMaker {
  const p = config.augment?.flip ?? 0;
  return async (rows, step) => ({
    xs: featureTensor(cache, rows, (row) => p > 0 && augmentRng(config.seed, step, row)() < p),
    ys: oneHotLabels(data.y, rows, config.labelSmoothing),
  });
}

/** Why a config cannot train on cached features (null: it can). */
export function frozenFeatureProblem(config: Pick<Config, 'model' | 'augment'>): string | null {
  const a = config.augment;
  if (!a) return null;
  const others = (['crop', 'jitter', 'jpeg', 'blur'] as const).filter((k) => a[k] > 0);
  return others.length
    ? `model ${config.model} trains its head on cached features: only augment.flip is supported (got ${others.map((k) => `augment.${k} ${a[k]}`).join(', ')})`
    : null;
}

/**
 * pFake of dataset rows by a saved frozen-backbone model (facefeat), computed from cached backbone features: the model's own
 * layers after the frozen backbone (its head) applied to the features, exactly the full model's arithmetic
 * without the backbone pass. With ttaFlip, the mean of the image's and its mirror image's pFake, as flip
 * averaging does at evaluation (lib/infer/averaging.ts). Cross-validation scores its folds this way: the folds
 * share one dataset, so each image goes through the backbone once instead of once per fold.
 */
export async function featureScores(
  model: tf.LayersModel,
  data: ImageData,
  rows: number[],
  options: { backbone?: string; key?: string; file?: string; ttaFlip: boolean },
): Promise<Float32Array> {
  const cache = await cacheFeatures(model, data, rows, options.ttaFlip ? rows : [], {
    backbone: options.backbone,
    key: options.key,
    file: options.file,
  });
  const head = headAfter(model, frozenBackbone(model, options.backbone));
  const score = async (flip: boolean) => {
    const p = tf.tidy(() => fakeScores(head.predict(featureTensor(cache, rows, () => flip)) as tf.Tensor2D));
    const values = (await p.data()) as Float32Array;
    p.dispose();
    return values;
  };
  const plain = await score(false);
  if (!options.ttaFlip) return plain;
  const mirrored = await score(true);
  return plain.map((p, i) => (p + mirrored[i]) / 2);
}
