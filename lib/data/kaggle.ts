/**
 * Gets the study's two Kaggle datasets onto disk: real FFHQ thumbnails and thispersondoesnotexist fakes.
 * Downloads each zip through Kaggle's public API (resumable, see download.ts), checks it, and extracts the
 * images of its class folder into `<out>/real` and `<out>/fake` (see unzip.ts). Every failure becomes one
 * line that says what to do, and nothing already downloaded or extracted is thrown away.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { SingleBar } from 'cli-progress';
import { DownloadInterruptedError, DownloadStatusError, downloadResumable, redactUrl } from './download';
import { InterruptedError, onInterrupt } from '../interrupt';
import { ZipError, extractClassImages, verifyZip, type ExtractResult } from './unzip';

export type ImageClass = 'real' | 'fake';

export interface KaggleDataset {
  owner: string;
  slug: string;
  /** Folder inside the zip that holds this class's images (possibly in subfolders). */
  classFolder: string;
  description: string;
}

export const KAGGLE_DATASETS: Readonly<Record<ImageClass, KaggleDataset>> = Object.freeze({
  real: {
    owner: 'greatgamedota',
    slug: 'ffhq-face-data-set',
    classFolder: 'thumbnails128x128',
    description: 'FFHQ thumbnails, 128x128 PNG',
  },
  fake: {
    owner: 'almightyj',
    slug: 'person-face-dataset-thispersondoesnotexist',
    classFolder: 'thispersondoesnotexist.10k',
    description: 'thispersondoesnotexist.com faces, 1024x1024 JPEG',
  },
});

/** Kaggle "140k Real and Fake Faces": 70k FFHQ + 70k StyleGAN faces, 256 px JPEG, in one zip with its own splits. */
export type Kaggle140kSplit = 'train' | 'valid' | 'test';
export const KAGGLE_140K_SPLITS: readonly Kaggle140kSplit[] = ['train', 'valid', 'test'];

export function kaggle140kDatasets(split: Kaggle140kSplit = 'train'): Record<ImageClass, KaggleDataset> {
  const one = (imageClass: ImageClass): KaggleDataset => ({
    owner: 'xhlulu',
    slug: '140k-real-and-fake-faces',
    classFolder: `real_vs_fake/real-vs-fake/${split}/${imageClass}`,
    description: `140k Real and Fake Faces, ${split} split, ${imageClass === 'real' ? 'FFHQ' : 'StyleGAN'} 256 px JPEG`,
  });
  return { real: one('real'), fake: one('fake') };
}

/** The dataset sources `realfake data kaggle --dataset` knows. */
export type KaggleSource = 'study' | '140k';
export const KAGGLE_SOURCES: readonly KaggleSource[] = ['study', '140k'];

export const DEFAULT_KAGGLE_API_BASE = 'https://www.kaggle.com/api/v1';
const DEFAULT_OUT = path.join('data', 'kaggle');
const logToStderr = (line: string) => void process.stderr.write(`${line}\n`);

export function datasetPageUrl(dataset: KaggleDataset): string {
  return `https://www.kaggle.com/datasets/${dataset.owner}/${dataset.slug}`;
}

/** `<out>/downloads/<owner>__<slug>.zip` (the download streams to the same name plus `.part`). */
export function datasetZipPath(out: string, dataset: KaggleDataset): string {
  return path.join(out, 'downloads', `${dataset.owner}__${dataset.slug}.zip`);
}

export interface KaggleCredentials {
  username: string;
  key: string;
  /** Where they came from, for error messages. */
  source: string;
}

const WHERE_TO_PUT_CREDENTIALS =
  'put {"username","key"} in ~/.kaggle/kaggle.json (kaggle.com > Settings > API > Create New Token) or set KAGGLE_USERNAME and KAGGLE_KEY';

/** Like the official kaggle CLI: KAGGLE_USERNAME/KAGGLE_KEY, else `$KAGGLE_CONFIG_DIR/kaggle.json` or `~/.kaggle/kaggle.json`. */
export function readKaggleCredentials(env: NodeJS.ProcessEnv = process.env): KaggleCredentials {
  if (env.KAGGLE_USERNAME && env.KAGGLE_KEY) {
    return { username: env.KAGGLE_USERNAME, key: env.KAGGLE_KEY, source: 'KAGGLE_USERNAME/KAGGLE_KEY' };
  }
  const file = path.join(env.KAGGLE_CONFIG_DIR || path.join(os.homedir(), '.kaggle'), 'kaggle.json');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new Error(`Kaggle credentials not found (no ${file}, no KAGGLE_USERNAME/KAGGLE_KEY): ${WHERE_TO_PUT_CREDENTIALS}`);
  }
  let parsed: { username?: unknown; key?: unknown };
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`${file}: not valid JSON; expected {"username": "...", "key": "..."}`);
  }
  if (typeof parsed?.username !== 'string' || typeof parsed?.key !== 'string' || !parsed.username || !parsed.key) {
    throw new Error(`${file}: needs string fields "username" and "key"`);
  }
  return { username: parsed.username, key: parsed.key, source: file };
}

export type ProgressMode = 'auto' | 'bar' | 'lines' | 'none';

export interface DownloadStudyDataOptions {
  /** Output folder. Default: data/kaggle. */
  out?: string;
  /** Extract only the first N images of each class in zip path order (default: all). */
  realLimit?: number | null;
  fakeLimit?: number | null;
  /** Download the zips again and overwrite extracted images. */
  force?: boolean;
  /** Default: readKaggleCredentials(), asked for only when a zip actually has to be downloaded. */
  credentials?: KaggleCredentials;
  /** Default: env KAGGLE_API_BASE, else https://www.kaggle.com/api/v1. */
  apiBase?: string;
  /** 'auto': a bar when stderr is a terminal, otherwise a plain line every few seconds. */
  progress?: ProgressMode;
  /** Where progress lines and status messages go. Default: stderr. */
  log?: (line: string) => void;
  /** Which datasets: the study's two (default), or another source's real and fake folders (kaggle140kDatasets). */
  datasets?: Record<ImageClass, KaggleDataset>;
  /** Extract into <out>/<subdir>/{real,fake} (e.g. the 140k split), the zip staying in <out>/downloads. */
  subdir?: string;
}

export interface ClassData extends ExtractResult {
  dataset: KaggleDataset;
  zipPath: string;
  /** Bytes fetched over the network in this call (0 when the zip was already complete). */
  fetchedBytes: number;
}

/** Downloads and extracts both classes. Returns per-class counts; throws one-line errors. */
export async function downloadStudyData(options: DownloadStudyDataOptions = {}): Promise<Record<ImageClass, ClassData>> {
  const out = options.out ?? DEFAULT_OUT;
  const log = options.log ?? logToStderr;
  let credentials = options.credentials;
  const getCredentials = () => (credentials ??= readKaggleCredentials());
  const limits: Record<ImageClass, number | null | undefined> = { real: options.realLimit, fake: options.fakeLimit };
  const result = {} as Record<ImageClass, ClassData>;
  // Ctrl-C: the download stops and keeps its .part; extraction stops after the file in progress; exit 130.
  const abort = new AbortController();
  const stopListening = onInterrupt(() => abort.abort());
  try {
    for (const imageClass of ['real', 'fake'] as const) {
      result[imageClass] = await fetchAndExtract(imageClass, { ...options, out, log, getCredentials, signal: abort.signal, datasets: options.datasets, subdir: options.subdir }, limits[imageClass]);
    }
  } finally {
    stopListening();
  }
  return result;
}

async function fetchAndExtract(
  imageClass: ImageClass,
  options: FetchDatasetOptions & { out: string; log: (line: string) => void; signal: AbortSignal; datasets?: Record<ImageClass, KaggleDataset>; subdir?: string },
  limit: number | null | undefined,
): Promise<ClassData> {
  const { out, log } = options;
  // Both classes may come from one zip (140k): the second fetch finds it complete and does not download again.
  const dataset = (options.datasets ?? KAGGLE_DATASETS)[imageClass];
  const download = await fetchKaggleDataset(dataset, options);
  const destDir = path.join(out, options.subdir ?? '', imageClass);
  const progress = createProgress(`${imageClass}: extract`, 'files', options.progress ?? 'auto', log);
  let extracted: ExtractResult;
  try {
    extracted = await extractClassImages(download.zipPath, {
      classFolder: dataset.classFolder,
      destDir,
      limit,
      overwrite: options.force,
      onProgress: progress.update,
      stopped: () => options.signal.aborted,
    });
  } catch (err) {
    if (err instanceof ZipError) throw new Error(`${err.message}: delete the zip and re-run (or use --force)`);
    throw explainLocalError(err, `extracting into ${destDir}`, 'already extracted images are skipped');
  } finally {
    progress.stop();
  }
  if (!extracted.complete) {
    throw new InterruptedError(`${imageClass}: extraction interrupted (Ctrl-C) after ${extracted.extracted + extracted.skipped} files; ${destDir} is marked incomplete: re-running resumes`);
  }
  log(`${imageClass}: ${extracted.extracted} extracted, ${extracted.skipped} already present ` +
    `(${limit == null ? 'all' : `first ${limit}`} of ${extracted.available}) in ${destDir}`);
  return { ...extracted, dataset, zipPath: download.zipPath, fetchedBytes: download.fetchedBytes };
}

export interface FetchDatasetOptions extends Omit<DownloadStudyDataOptions, 'realLimit' | 'fakeLimit' | 'datasets' | 'subdir'> {
  /** Asked only when a download is needed (downloadStudyData reads credentials once for both datasets). */
  getCredentials?: () => KaggleCredentials;
  /** Aborting it stops the download, keeping the .part file. */
  signal?: AbortSignal;
}

/** Makes sure `<out>/downloads/<owner>__<slug>.zip` is a complete zip, downloading or resuming it if needed. */
export async function fetchKaggleDataset(
  dataset: KaggleDataset,
  options: FetchDatasetOptions = {},
): Promise<{ zipPath: string; fetchedBytes: number }> {
  const zipPath = datasetZipPath(options.out ?? DEFAULT_OUT, dataset);
  const name = `${dataset.owner}/${dataset.slug}`;
  const log = options.log ?? logToStderr;
  if (options.force) {
    fs.rmSync(zipPath, { force: true });
    fs.rmSync(`${zipPath}.part`, { force: true });
  }
  let fetchedBytes = 0;
  if (fs.existsSync(zipPath)) {
    log(`${name}: already downloaded (${zipPath})`);
  } else {
    const credentials = options.getCredentials?.() ?? options.credentials ?? readKaggleCredentials();
    const apiBase = (options.apiBase ?? process.env.KAGGLE_API_BASE ?? DEFAULT_KAGGLE_API_BASE).replace(/\/+$/, '');
    const url = `${apiBase}/datasets/download/${dataset.owner}/${dataset.slug}`;
    fs.mkdirSync(path.dirname(zipPath), { recursive: true });
    const partBytes = fs.existsSync(`${zipPath}.part`) ? fs.statSync(`${zipPath}.part`).size : 0;
    log(partBytes > 0 ? `${name}: resuming at ${megabytes(partBytes)} → ${zipPath}` : `${name}: downloading → ${zipPath}`);
    const progress = createProgress(`${name}`, 'bytes', options.progress ?? 'auto', log);
    try {
      const result = await downloadResumable({
        url,
        dest: zipPath,
        originHeaders: { Authorization: `Basic ${Buffer.from(`${credentials.username}:${credentials.key}`).toString('base64')}` },
        onProgress: progress.update,
        signal: options.signal,
      });
      fetchedBytes = result.bytes - result.resumedFrom;
    } catch (err) {
      if (options.signal?.aborted) throw new InterruptedError(`${name}: download interrupted (Ctrl-C); ${zipPath}.part is kept: re-running resumes`);
      throw explainDownloadError(err, dataset, credentials, `${zipPath}.part`);
    } finally {
      progress.stop();
    }
  }
  try {
    await verifyZip(zipPath);
  } catch (err) {
    throw new Error(`${(err as Error).message}: delete it and re-run (or use --force)`);
  }
  return { zipPath, fetchedBytes };
}

function explainDownloadError(err: unknown, dataset: KaggleDataset, credentials: KaggleCredentials, partPath: string): Error {
  const name = `${dataset.owner}/${dataset.slug}`;
  const page = datasetPageUrl(dataset);
  if (err instanceof DownloadStatusError) {
    if (err.fromOrigin && err.status === 401) {
      return new Error(`Kaggle rejected the credentials from ${credentials.source} (HTTP 401): check the username and key; ${WHERE_TO_PUT_CREDENTIALS}`);
    }
    if (err.fromOrigin && err.status === 403) {
      return new Error(`Kaggle refused ${name} for user "${credentials.username}" (HTTP 403): the credentials were accepted, so sign in and accept the dataset's terms at ${page}, then re-run`);
    }
    if (err.fromOrigin && err.status === 404) {
      return new Error(`Kaggle has no dataset ${name} (HTTP 404): check ${page}`);
    }
    if (!err.fromOrigin) {
      return new Error(`${name}: the storage server answered HTTP ${err.status} (${redactUrl(err.url)}); signed links expire, so re-run to get a fresh one (${partPath} is kept and resumed)`);
    }
    return new Error(`${name}: Kaggle answered HTTP ${err.status}; re-run later (${partPath} is kept and resumed)`);
  }
  if (err instanceof DownloadInterruptedError) return new Error(`${name}: ${err.message}`);
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code && ['ENOTFOUND', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH'].includes(code)) {
    return new Error(`${name}: network error (${code}: ${(err as Error).message}); re-running resumes from ${partPath}`);
  }
  return explainLocalError(err, `writing ${partPath}`, 're-running resumes the download');
}

/** File-system errors while writing: say which file and that nothing was lost. */
function explainLocalError(err: unknown, doing: string, resumeNote: string): Error {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOSPC') return new Error(`disk full while ${doing}: free some space and re-run (${resumeNote})`);
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return new Error(`no permission while ${doing} (${code}): choose another --out folder`);
  }
  return err instanceof Error ? err : new Error(String(err));
}

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

interface Progress {
  update: (done: number, total: number | null) => void;
  stop: () => void;
}

/** A cli-progress bar on a terminal; elsewhere (pipes, notebooks, CI logs) a plain line at most every 5 s. */
function createProgress(label: string, unit: 'bytes' | 'files', mode: ProgressMode, log: (line: string) => void): Progress {
  const show = unit === 'bytes' ? megabytes : (n: number) => `${n} files`;
  const resolved = mode === 'auto' ? (process.stderr.isTTY ? 'bar' : 'lines') : mode;
  if (resolved === 'none') return { update: () => {}, stop: () => {} };
  if (resolved === 'bar') {
    const bar = new SingleBar({
      stream: process.stderr,
      format: `${label} [{bar}] {percentage}% | {shown} | ETA {eta_formatted}`,
      hideCursor: true,
      clearOnComplete: false,
    });
    let started = false;
    return {
      update(done, total) {
        const shown = total ? `${show(done)} / ${show(total)}` : show(done);
        // One call per value: a repeated value within the same millisecond makes cli-progress's ETA NaN.
        if (!started) bar.start(total ?? 0, done, { shown });
        else bar.update(done, { shown });
        started = true;
      },
      stop: () => started && bar.stop(),
    };
  }
  let lastAt = 0;
  let latest = '';
  let logged = '';
  const emit = () => {
    lastAt = Date.now();
    logged = latest;
    log(latest);
  };
  return {
    update(done, total) {
      latest = total ? `${label}: ${show(done)} / ${show(total)} (${Math.floor((100 * done) / total)}%)` : `${label}: ${show(done)}`;
      if (Date.now() - lastAt >= 5000) emit();
    },
    // The final state, unless the last periodic line already showed it.
    stop: () => {
      if (latest !== logged) emit();
    },
  };
}
