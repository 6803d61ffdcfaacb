/**
 * The preprocessed-dataset cache under data/cache/: one folder per distinct input, named by a key that covers
 * everything that changes the dataset's bytes (the source files' names, sizes and times; image size; resize
 * method; harmonisation; face alignment; limit; the dataset format). The CLI's pipeline and the notebooks find datasets through these
 * functions only, so they always agree on which folder holds what.
 */
import { createHash } from 'crypto';
import { FACE_DETECTOR } from '../faces/detector';
import * as fs from 'fs';
import * as path from 'path';
import type { Config } from '../config';
import { DATASET_VERSION } from './dataset';
import { listImageFiles } from './image-files';
import { datasetCacheIsFresh, preprocessFolders, sourceFingerprint } from './preprocess';
import { currentDataSource, type DataSource } from './sources';

type DatasetSettings = Pick<Config, 'imageSize' | 'resize' | 'limitPerClass'> & Partial<Pick<Config, 'decode' | 'harmonize' | 'alignFaces'>>;

/** The cache key: a hash of every input that changes the dataset's bytes. Throws when a source folder is missing. */
export function datasetCacheKey(source: DataSource, settings: DatasetSettings): string {
  const files = [...listImageFiles(source.realDir), ...listImageFiles(source.fakeDir)];
  const inputs = {
    version: DATASET_VERSION,
    sources: sourceFingerprint(files),
    size: settings.imageSize,
    resize: settings.resize,
    limitPerClass: settings.limitPerClass,
    // Only the opt-in joins the key, so full-decode caches keep the keys they had.
    ...(settings.decode === 'fast' ? { decode: 'fast' } : {}),
    harmonize: settings.harmonize ?? false,
    // Like decode: only the opt-in joins the key, so existing caches keep theirs. The face finder's settings join
    // it too: a finder that finds other faces frames other crops, so its datasets are other datasets.
    ...(settings.alignFaces ? { alignFaces: true, faceFinder: FACE_DETECTOR } : {}),
  };
  return createHash('sha256').update(JSON.stringify(inputs)).digest('hex').slice(0, 12);
}

/** data/cache/<kind>-<size>px-<resize>-<limit>-<key>: readable, and distinct for distinct inputs. */
export function datasetCacheDir(source: DataSource, settings: DatasetSettings, dataRoot: string): string {
  const limit = settings.limitPerClass === null ? 'all' : `${settings.limitPerClass}`;
  const decode = settings.decode === 'fast' ? '-fastdecode' : '';
  const harmonized = settings.harmonize ? '-harmonized' : '';
  const aligned = settings.alignFaces ? '-aligned' : '';
  const name = `${source.kind}-${settings.imageSize}px-${settings.resize}${decode}${harmonized}${aligned}-${limit}-${datasetCacheKey(source, settings)}`;
  return path.join(dataRoot, 'cache', name);
}

function preprocessOptions(source: DataSource, settings: DatasetSettings, out: string) {
  return {
    realDir: source.realDir,
    fakeDir: source.fakeDir,
    out,
    size: settings.imageSize,
    resize: settings.resize,
    decode: settings.decode ?? 'full',
    harmonize: settings.harmonize ?? false,
    alignFaces: settings.alignFaces ?? false,
    limitPerClass: settings.limitPerClass,
  };
}

/** The complete, current cached dataset of `source` with these settings, or null. */
export function findCachedDataset(source: DataSource, settings: DatasetSettings, dataRoot: string): string | null {
  let out: string;
  try {
    out = datasetCacheDir(source, settings, dataRoot);
  } catch {
    return null; // a source folder is missing
  }
  return datasetCacheIsFresh(preprocessOptions(source, settings, out)) ? out : null;
}

/** A preprocessed copy of `source` for these settings, made now unless the cache already holds it. */
export async function ensureDataset(source: DataSource, settings: DatasetSettings, dataRoot: string, log: (line: string) => void): Promise<string> {
  const found = findCachedDataset(source, settings, dataRoot);
  if (found) {
    log(`preprocessed data: ${found} (cached)`);
    return found;
  }
  const out = datasetCacheDir(source, settings, dataRoot);
  const result = await preprocessFolders({
    ...preprocessOptions(source, settings, out),
    onProgress: (p) => p.status === 'skipped' && log(`skipped ${p.file}: ${p.reason}`),
  });
  log(result.summary);
  return out;
}

/**
 * The cached dataset of the images under dataRoot (yours, Kaggle's, else the synthetic set) for these settings,
 * or an error naming the settings and saying what to run to make it.
 */
export function requireCachedDataset(settings: DatasetSettings, dataRoot: string): string {
  const source = currentDataSource(dataRoot);
  const found = findCachedDataset(source, settings, dataRoot);
  if (found) return found;
  const limit = settings.limitPerClass === null ? 'all images' : `${settings.limitPerClass} per class`;
  const cache = path.join(dataRoot, 'cache');
  const what = fs.existsSync(source.realDir) ? `${source.realDir} + ${source.fakeDir}` : `${source.kind} images (${source.realDir} does not exist yet)`;
  throw new Error(
    `no preprocessed dataset of ${what} at ${settings.imageSize}px (${settings.resize}, ${limit}) in ${cache}: ` +
      'run notebooks/01_preprocessing.ipynb first with the same parameters (or `realfake run` / `realfake preprocess`)',
  );
}
