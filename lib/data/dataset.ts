/**
 * A preprocessed dataset folder, as written by preprocessFolders (lib/data/preprocess.ts):
 *   X.npy        uint8 N x H x W x 3, real images first, then fake, each class in sorted file order
 *   Y.npy        uint8 N, 0 = real, 1 = fake
 *   manifest.csv path,label,status,reason,relative_path,source, then the image's audit columns
 *                (lib/data/image-facts.ts AUDIT_COLUMNS), for every file tried; the status=ok rows are X's rows, in
 *                order; relative_path is the file's path inside its class folder (subfolders are read); source is
 *                where the image came from (see sourceOf); with alignFaces, FACE_COLUMNS
 *                follow: how the row was framed ('aligned' on its largest face, or 'whole') and the face's square
 *   dataset.json DatasetInfo; written last, so its presence means the other three are complete
 * Paths in manifest.csv and dataset.json are stored relative to the dataset folder and resolved on read, so a
 * dataset made from the project root (the CLI) loads the same from notebooks/ or anywhere else.
 * Pixels stay uint8 on disk and in memory (a 6000-image float32 copy would be 4x larger); scaling to [0, 1]
 * happens batch by batch where tensors are made.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { DecodeMode, ResizeMethod } from '../config';
import { readJson, resolveStoredPath } from '../files';
import { parseFacts } from './image-facts';
import type { ImageFacts } from './image-facts';
import type { Box } from '../faces/crop';
import { readNpy } from './npy';

export const DATASET_VERSION = 4; // 4: manifest `source` column, dataset.json `sourceCounts`; 3: audit columns, `harmonize`

export const DATASET_FILES = {
  x: 'X.npy',
  y: 'Y.npy',
  manifest: 'manifest.csv',
  info: 'dataset.json',
} as const;

export interface ClassCounts {
  real: number;
  fake: number;
}

/** Usable images of one source (dataset.json `sourceCounts`). */
export interface SourceCount {
  source: string;
  label: number;
  count: number;
}

/**
 * Where an image came from: a class folder may hold one subfolder per source (data/real/ffhq/...,
 * data/fake/sd14_blonde_woman/...), and an image's source is the first folder of its path inside the class folder;
 * an image lying directly in the class folder has the class's name ('real' or 'fake') as its source.
 */
export function sourceOf(relativePath: string, className: string): string {
  const parts = relativePath.split(/[\\/]/);
  return parts.length > 1 && parts[0] !== '' ? parts[0] : className;
}

/** Images per (label, source), in order of first appearance (real sources first, as rows are ordered). */
export function countSources(labels: ArrayLike<number>, sources: string[]): SourceCount[] {
  const counts = new Map<string, SourceCount>();
  sources.forEach((source, row) => {
    const key = `${labels[row]}\u0000${source}`;
    const entry = counts.get(key) ?? counts.set(key, { source, label: labels[row], count: 0 }).get(key)!;
    entry.count++;
  });
  return [...counts.values()];
}

/** dataset.json */
export interface DatasetInfo {
  format: 'realfake-dataset';
  /**
   * 3: manifest.csv carries each image's audit columns, dataset.json `harmonize`; 2: paths stored relative to the
   * dataset folder, content fingerprint (1 stored paths relative to the cwd).
   */
  version: typeof DATASET_VERSION;
  /** Images are size x size x 3. */
  size: number;
  resize: ResizeMethod;
  /** How JPEGs were decoded ('fast': shrink-on-load, an opt-in); absent in datasets made before it existed: 'full'. */
  decode?: DecodeMode;
  /** Both classes' sources were harmonised before the resize (lib/data/harmonize.ts). */
  harmonize: boolean;
  /**
   * Each image was framed on its largest face as prediction frames faces (config alignFaces); absent in
   * datasets made before it existed: false.
   */
  alignFaces?: boolean;
  /** With alignFaces: the rows framed on a detected face, per class (the others are the whole image resized). */
  aligned?: ClassCounts;
  /** At most this many usable images per class were taken (null: all). Skipped files do not count. */
  limitPerClass: number | null;
  /** Rows of X.npy. */
  count: number;
  counts: ClassCounts;
  /** Files tried but not usable (listed in manifest.csv with the reason). */
  skipped: number;
  skippedPerClass: ClassCounts;
  /** Usable images per source (see sourceOf), real sources first. */
  sourceCounts: SourceCount[];
  /** Source folders (relative to the dataset folder on disk; absolute once read by readDatasetInfo). */
  sources: { real: string; fake: string };
  /** Hash of the source folders' image file names, sizes and modification times (see datasetCacheIsFresh). */
  sourceFingerprint: string;
  /** sha256 of X.npy's and Y.npy's contents: what a run records, to recognise the data it trained on. */
  fingerprint: string;
  /** ISO time the dataset was written. */
  created: string;
}

export interface Dataset {
  /** N x size x size x 3 uint8 RGB, row-major. */
  x: Uint8Array;
  /** N labels: 0 = real, 1 = fake. */
  y: Uint8Array;
  /** The source file of each row (the manifest's ok rows, in order). */
  files: string[];
  /** The source of each row (see sourceOf), e.g. 'ffhq' or 'sd14_blonde_woman'. */
  sources: string[];
  n: number;
  size: number;
  info: DatasetInfo;
  manifestPath: string;
}

/** One line of manifest.csv. */
export interface ManifestRow {
  path: string;
  label: number;
  status: 'ok' | 'skipped';
  reason: string;
  /** The file's path inside its class folder (absent in manifests written before subfolders were read). */
  relativePath?: string;
  /** Where the image came from (see sourceOf). */
  source: string;
  /** The image's audit columns (lib/data/image-facts.ts); null for skipped files. */
  facts?: ImageFacts | null;
  /** With alignFaces (usable files only): framed on its largest face, or the whole image (no face found). */
  face?: FaceFraming;
  /** With face 'aligned': the FFHQ-style square that was cut out, in the photo's pixels (may pass its edges). */
  faceBox?: Box;
}

export type FaceFraming = 'aligned' | 'whole';

/** Columns written after the audit columns when the dataset was made with alignFaces; face_box is "x y width height". */
export const FACE_COLUMNS = ['face', 'face_box'] as const;

/** A manifest face_box field: "x y width height" > Box; '' > undefined. */
export function parseFaceBox(field: string | undefined): Box | undefined {
  if (!field) return undefined;
  const [x, y, width, height] = field.split(' ').map(Number);
  return { x, y, width, height };
}

/** A Box as a manifest face_box field. */
export function faceBoxField(box: Box | undefined): string {
  return box ? `${box.x} ${box.y} ${box.width} ${box.height}` : '';
}

/** manifest.csv's first columns, in order; lib/data/image-facts.ts's AUDIT_COLUMNS follow. Readers find columns by name. */
export const MANIFEST_HEADER = ['path', 'label', 'status', 'reason', 'relative_path', 'source'] as const;

/**
 * Parses manifest.csv (RFC 4180 quoting: fields with commas, quotes or newlines are double-quoted); paths come
 * back absolute, resolved from the manifest's folder.
 */
export function readManifest(file: string): ManifestRow[] {
  const text = fs.readFileSync(file, 'utf8');
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      record.push(field);
      field = '';
    } else if (ch === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
    } else if (ch !== '\r') field += ch;
  }
  if (field !== '' || record.length) {
    record.push(field);
    records.push(record);
  }
  const [header, ...rows] = records;
  const column = Object.fromEntries((header ?? []).map((name, i) => [name, i]));
  if (!['path', 'label', 'status', 'reason'].every((name) => name in column)) throw new Error(`${file}: not a realfake manifest (header ${header?.join()})`);
  const dir = path.dirname(file);
  return rows.map((r) => ({
    path: resolveStoredPath(r[column.path], dir),
    label: Number(r[column.label]),
    status: r[column.status] as ManifestRow['status'],
    reason: r[column.reason] ?? '',
    ...('relative_path' in column ? { relativePath: r[column.relative_path] ?? '' } : {}),
    source: 'source' in column ? r[column.source] : sourceOf(r[column.relative_path] ?? '', Number(r[column.label]) ? 'fake' : 'real'),
    facts: parseFacts(Object.fromEntries(header.map((name, i) => [name, r[i]]))),
    ...(r[column.face] ? { face: r[column.face] as FaceFraming } : {}),
    ...(r[column.face_box] ? { faceBox: parseFaceBox(r[column.face_box]) } : {}),
  }));
}

const HOW_TO_MAKE = 'run `realfake preprocess` (or `npm start`) first';

/**
 * dataset.json of a dataset folder with its source folders resolved to absolute paths, or null when there is
 * none (never written, or writing was interrupted). A dataset written by an older realfake is an error.
 */
export function readDatasetInfo(dir: string): DatasetInfo | null {
  const file = path.join(dir, DATASET_FILES.info);
  if (!fs.existsSync(file)) return null;
  let info: DatasetInfo;
  try {
    info = readJson<DatasetInfo>(file, 'dataset description');
  } catch (err) {
    throw new Error(`${(err as Error).message}; ${HOW_TO_MAKE} again`);
  }
  if (info.format !== 'realfake-dataset') throw new Error(`${file}: not a realfake dataset.json; ${HOW_TO_MAKE} again`);
  if (info.version !== DATASET_VERSION) {
    throw new Error(`${file}: dataset format version ${info.version}, this realfake reads ${DATASET_VERSION}; ${HOW_TO_MAKE} again`);
  }
  return { ...info, sources: { real: resolveStoredPath(info.sources.real, dir), fake: resolveStoredPath(info.sources.fake, dir) } };
}

/** Loads a preprocessed dataset folder, checking that X, Y and dataset.json agree. */
export function loadDataset(dir: string): Dataset {
  const info = readDatasetInfo(dir);
  if (!info) throw new Error(`${dir}: no preprocessed dataset here (missing ${DATASET_FILES.info}); ${HOW_TO_MAKE}`);
  const xFile = path.join(dir, DATASET_FILES.x);
  const yFile = path.join(dir, DATASET_FILES.y);
  const x = readNpy(xFile);
  const y = readNpy(yFile);
  const n = info.count;
  const expectedShape = [n, info.size, info.size, 3];
  if (x.dtype !== 'uint8' || x.shape.join() !== expectedShape.join()) {
    throw new Error(`${xFile}: expected uint8 [${expectedShape.join(', ')}], found ${x.dtype} [${x.shape.join(', ')}]; ${HOW_TO_MAKE} again`);
  }
  if (y.dtype !== 'uint8' || y.shape.join() !== String(n)) {
    throw new Error(`${yFile}: expected uint8 [${n}], found ${y.dtype} [${y.shape.join(', ')}]; ${HOW_TO_MAKE} again`);
  }
  const manifestPath = path.join(dir, DATASET_FILES.manifest);
  const usable = readManifest(manifestPath).filter((row) => row.status === 'ok');
  const files = usable.map((row) => row.path);
  const sources = usable.map((row) => row.source);
  if (files.length !== n) throw new Error(`${manifestPath}: lists ${files.length} usable images but X.npy has ${n}; ${HOW_TO_MAKE} again`);
  return { x: x.data as Uint8Array, y: y.data as Uint8Array, files, sources, n, size: info.size, info, manifestPath };
}

/** The pixels of one row (a view, not a copy): size x size x 3 uint8 RGB. */
export function datasetImage(dataset: Pick<Dataset, 'x' | 'size'>, row: number): Uint8Array {
  const bytes = dataset.size * dataset.size * 3;
  return dataset.x.subarray(row * bytes, (row + 1) * bytes);
}
