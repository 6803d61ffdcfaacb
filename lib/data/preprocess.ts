/**
 * Two image folders (real, fake) -> one dataset folder (X.npy, Y.npy, manifest.csv, dataset.json; see
 * lib/data/dataset.ts). Like the study's preprocessing, but reproducible and robust:
 * - Files are taken in sorted (code point) order; the study used os.listdir order, which is arbitrary.
 * - The first `limitPerClass` USABLE images per class are kept: a broken file is skipped, recorded in the
 *   manifest with its reason, and the next file takes its place. Files after the limit are not read.
 * - Images are decoded concurrently but committed in file order, so the output is byte-identical whatever
 *   the concurrency.
 * - Pixels go straight into one preallocated uint8 buffer (N x size x size x 3), never a float copy.
 * - Every output is written to a temporary name and renamed; dataset.json goes last, so an interrupted run
 *   never leaves a dataset that looks complete. Ctrl-C stops before anything is written (lib/interrupt.ts).
 * - Class folders are walked with their subfolders (lib/data/image-files.ts); manifest.csv records each file's
 *   path inside its class folder (relative_path). The two class folders may not be the same or overlap.
 * - With `alignFaces`, each image is framed on its largest face as prediction frames faces
 *   (lib/data/align-faces.ts); an image where no face is found is resized whole, as without it. The manifest
 *   says which (FACE_COLUMNS), dataset.json how many were aligned.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import type { DecodeMode, ResizeMethod } from '../config';
import { countSources, DATASET_FILES, DATASET_VERSION, FACE_COLUMNS, faceBoxField, MANIFEST_HEADER, readDatasetInfo, sourceOf } from './dataset';
import type { ClassCounts, DatasetInfo, FaceFraming, ManifestRow } from './dataset';
import { initBackend } from '../backend/backend';
import type { Box } from '../faces/crop';
import { alignedFace } from './align-faces';
import { tryInspectPath, FileAccessError } from '../file-access';
import { csvField, removeStaleTempFiles, storedPath, writeFileAtomic, writeJsonAtomic } from '../files';
import { interruptRequested, InterruptedError, onInterrupt } from '../interrupt';
import { IMAGE_EXTENSIONS, scanImageFolder } from './image-files';
import { AUDIT_COLUMNS, factsFields, imageFacts, ImageFacts, jpegHeaderFacts } from './image-facts';
import { loadHarmonizedRgb } from './harmonize';
import { loadImageRgbAndBytes } from './images';
import { describeJpegDecoder } from './jpeg-native';
import { writeNpy } from './npy';

const CLASSES = [
  { name: 'real', label: 0 },
  { name: 'fake', label: 1 },
] as const;
type ClassName = (typeof CLASSES)[number]['name'];

export interface PreprocessOptions {
  realDir: string;
  fakeDir: string;
  /** Output folder (created if missing). */
  out: string;
  /** Side of the square output images. Default 128, as in the study. */
  size?: number;
  /** Default 'nearest' (PIL NEAREST, Keras load_img's default), as in the study. */
  resize?: ResizeMethod;
  /** Default 'full' (decode every pixel, as Keras does); 'fast' lets libjpeg shrink JPEGs while decoding. */
  decode?: DecodeMode;
  /** At most this many usable images per class (null: all). */
  limitPerClass?: number | null;
  /** Harmonise both classes' sources first (lib/data/harmonize.ts). Default false, as in the study. */
  harmonize?: boolean;
  /**
   * Frame each image on its largest face as `predict --faces` does (lib/data/align-faces.ts); images without a
   * face found are resized whole. Default false, as in the study. Initialises a tfjs backend for the detector.
   */
  alignFaces?: boolean;
  /** Images decoded at once. Default: the number of CPU cores. */
  concurrency?: number;
  onProgress?: (progress: PreprocessProgress) => void;
}

export interface PreprocessProgress {
  className: ClassName;
  file: string;
  status: 'ok' | 'skipped';
  reason?: string;
  /** Files handled so far, both classes. */
  done: number;
  /** Files that will be handled in all; grows by one when a skipped file is replaced by the next one. */
  total: number;
}

export interface PreprocessResult {
  out: string;
  info: DatasetInfo;
  seconds: number;
  /** One line for the user, e.g. "6000 images (real 3000, fake 3000) 128x128 nearest -> data/ in 9.1 s; 0 skipped". */
  summary: string;
}

/** A hash of file names, sizes and modification times: changes when the source folders change. */
export function sourceFingerprint(files: string[]): string {
  const hash = createHash('sha256');
  for (const file of files) {
    // Any file-system error (a link loop, a locked folder) hashes as "unreadable", never aborts.
    const info = tryInspectPath(file);
    const [size, mtime] = info instanceof FileAccessError ? [-1, -1] : [info.size, info.mtimeMs];
    hash.update(`${path.basename(path.dirname(file))}/${path.basename(file)}\t${size}\t${mtime}\n`);
  }
  return hash.digest('hex');
}

function resolved(options: PreprocessOptions) {
  return {
    ...options,
    size: options.size ?? 128,
    resize: options.resize ?? ('nearest' as ResizeMethod),
    decode: options.decode ?? ('full' as DecodeMode),
    limitPerClass: options.limitPerClass ?? null,
    harmonize: options.harmonize ?? false,
    alignFaces: options.alignFaces ?? false,
    concurrency: Math.max(1, options.concurrency ?? os.availableParallelism()),
  };
}

/**
 * A class folder's image files and the entries its listing could not look into (recorded in `problems`, path to
 * reason), together in sorted order: the files preprocessing tries, each of which gets a manifest row.
 */
function classCandidates(dir: string, problems = new Map<string, string>()): string[] {
  const listing = scanImageFolder(dir);
  listing.problems.forEach((p) => problems.set(p.path, p.reason));
  return [...listing.files, ...listing.problems.map((p) => p.path)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * True when `options.out` holds a complete dataset made with the same size, resize method, limit and source
 * folders, and the source folders' files are unchanged: preprocessing can then be skipped.
 */
export function datasetCacheIsFresh(options: PreprocessOptions): boolean {
  const o = resolved(options);
  let info: DatasetInfo | null;
  try {
    info = readDatasetInfo(o.out);
  } catch {
    return false;
  }
  if (!info) return false;
  if (info.size !== o.size || info.resize !== o.resize || info.limitPerClass !== o.limitPerClass) return false;
  if ((info.decode ?? 'full') !== o.decode) return false;
  if ((info.harmonize ?? false) !== o.harmonize) return false;
  if ((info.alignFaces ?? false) !== o.alignFaces) return false;
  if (info.sources.real !== path.resolve(o.realDir) || info.sources.fake !== path.resolve(o.fakeDir)) return false; // resolved on read
  if (![DATASET_FILES.x, DATASET_FILES.y].every((f) => fs.existsSync(path.join(o.out, f)))) return false;
  try {
    return sourceFingerprint([...classCandidates(o.realDir), ...classCandidates(o.fakeDir)]) === info.sourceFingerprint;
  } catch {
    return false;
  }
}

/**
 * Throws one line when the two class folders are the same folder or one holds the other (folders are walked
 * with their subfolders, so every image there would be labelled both ways). Links are resolved first.
 */
export function checkClassFolders(realDir: string, fakeDir: string): void {
  const resolve = (dir: string) => {
    try {
      return fs.realpathSync(dir);
    } catch {
      return path.resolve(dir); // a missing folder is reported when it is listed
    }
  };
  const real = resolve(realDir);
  const fake = resolve(fakeDir);
  const inside = (child: string, parent: string) => child.startsWith(parent.endsWith(path.sep) ? parent : parent + path.sep);
  if (real === fake) throw new Error(`--real and --fake are the same folder (${real}): every image would be labelled both ways`);
  if (inside(fake, real)) throw new Error(`--fake (${fakeDir}) is inside --real (${realDir}): subfolders are read, so its images would be labelled both ways`);
  if (inside(real, fake)) throw new Error(`--real (${realDir}) is inside --fake (${fakeDir}): subfolders are read, so its images would be labelled both ways`);
}

// Both members carry `reason`, so code reads it without narrowing (tslab compiles notebooks without strict mode).
type Outcome = ({ ok: true; reason: '' } & Loaded) | { ok: false; reason: string };
/** `face`: with alignFaces, how the image was framed (and the face's square when aligned). */
type Loaded = { pixels: Uint8Array; facts: ImageFacts; face?: { framing: FaceFraming; box?: Box } };

/**
 * Loads files[0..] with up to `concurrency` loads running, and hands each outcome to `commit` strictly in
 * file order, until `limit` loads succeeded or the files run out. A file is only started while the successes
 * committed plus the loads not yet committed stay below the limit, so no work is wasted and the set of files
 * tried does not depend on timing. Finished-but-uncommitted results are bounded to keep memory flat.
 */
function loadInOrder(
  files: string[],
  limit: number,
  concurrency: number,
  load: (file: string) => Promise<Loaded>,
  commit: (index: number, outcome: Outcome) => void,
  stopped: () => boolean = () => false,
): Promise<void> {
  const maxUncommitted = concurrency * 4;
  const finished = new Map<number, Outcome>();
  let next = 0;
  let running = 0;
  let uncommitted = 0;
  let committed = 0;
  let succeeded = 0;
  return new Promise((resolve, reject) => {
    const pump = () => {
      while (!stopped() && running < concurrency && uncommitted < maxUncommitted && next < files.length && succeeded + uncommitted < limit) {
        const index = next++;
        running++;
        uncommitted++;
        load(files[index])
          .then(
            (loaded): Outcome => ({ ok: true, ...loaded, reason: '' }),
            (err): Outcome => ({ ok: false, reason: reasonOf(err, files[index]) }),
          )
          .then((outcome) => {
            running--;
            finished.set(index, outcome);
            while (finished.has(committed)) {
              const ready = finished.get(committed)!;
              finished.delete(committed);
              commit(committed, ready);
              if (ready.ok) succeeded++;
              committed++;
              uncommitted--;
            }
            pump();
            if (running === 0) resolve();
          })
          .catch(reject);
      }
    };
    pump();
    if (running === 0) resolve(); // nothing to do
  });
}

/** The loader's message is "<file>: <reason>"; the manifest has the file in its own column. */
function reasonOf(err: unknown, file: string): string {
  const message = (err instanceof Error ? err.message : String(err)).split('\n')[0];
  return message.startsWith(`${file}: `) ? message.slice(file.length + 2) : message;
}


interface DecodedClasses {
  x: Uint8Array;
  y: Uint8Array;
  n: number;
  manifest: ManifestRow[];
  counts: ClassCounts;
  skipped: ClassCounts;
  /** With alignFaces: rows framed on a detected face, per class. */
  aligned: ClassCounts;
}

/** Room for every image that may be kept (the limit, or all candidates), as one uint8 buffer. */
function allocatePixels(capacity: number, size: number): Uint8Array {
  const bytes = capacity * size * size * 3;
  try {
    return new Uint8Array(bytes);
  } catch {
    throw new Error(`cannot allocate ${(bytes / 2 ** 30).toFixed(1)} GiB for ${capacity} images of ${size}px; set a lower limitPerClass or size`);
  }
}

/** Decodes each class's candidates in file order into one buffer, real first, skipping (and recording) bad files. */
async function decodeClasses(
  o: ReturnType<typeof resolved>,
  dirs: Record<ClassName, string>,
  candidates: Record<ClassName, string[]>,
  unlisted: Map<string, string>,
): Promise<DecodedClasses> {
  const limit = o.limitPerClass ?? Infinity;
  const planned = Object.fromEntries(CLASSES.map(({ name }) => [name, Math.min(limit, candidates[name].length)])) as Record<ClassName, number>;
  const imageBytes = o.size * o.size * 3;
  const x = allocatePixels(planned.real + planned.fake, o.size);
  const y = new Uint8Array(planned.real + planned.fake);
  const manifest: ManifestRow[] = [];
  const counts: ClassCounts = { real: 0, fake: 0 };
  const skipped: ClassCounts = { real: 0, fake: 0 };
  const aligned: ClassCounts = { real: 0, fake: 0 };
  let n = 0;
  // The facts (lib/data/image-facts.ts) of what the resize received: the file itself, or its harmonised JPEG.
  const loadWithFacts = async (file: string): Promise<Loaded> => {
    if (o.harmonize) {
      const { pixels, source } = await loadHarmonizedRgb(file, o.size, o.resize);
      return { pixels, facts: await imageFacts(source, file) };
    }
    const face = o.alignFaces ? await alignedFace(file, o.size, o.resize) : null;
    if (face) {
      const facts = await imageFacts(await fs.promises.readFile(file), file);
      return { pixels: face.pixels, facts, face: { framing: 'aligned', box: face.crop } };
    }
    // No face found (or alignFaces off): the whole image, resized exactly as without alignFaces.
    const { pixels, bytes, jpegHeader } = await loadImageRgbAndBytes(file, o.size, o.resize, o.decode);
    const known = bytes && jpegHeader && jpegHeaderFacts(bytes, jpegHeader);
    const facts = known || (await imageFacts(bytes ?? (await fs.promises.readFile(file)), file));
    return { pixels, facts, ...(o.alignFaces ? { face: { framing: 'whole' as const } } : {}) };
  };

  // Parallelism comes from decoding `concurrency` images at once; one libvips thread per image avoids
  // oversubscribing the cores (sharp's default on glibc Linux is already 1).
  const sharpThreads = sharp.concurrency();
  sharp.concurrency(1);
  // Ctrl-C: stop starting files; the ones decoding finish, then nothing is written (see below).
  const stopListening = onInterrupt(() => undefined);
  const load = (file: string) => {
    const problem = unlisted.get(file);
    return problem === undefined ? loadWithFacts(file) : Promise.reject(new Error(`${file}: ${problem}`));
  };
  try {
    for (const { name, label } of CLASSES) {
      const files = candidates[name];
      await loadInOrder(files, limit, o.concurrency, load, (index, outcome) => {
        if (outcome.ok) {
          x.set(outcome.pixels, n * imageBytes);
          y[n++] = label;
          counts[name]++;
          if (outcome.face?.framing === 'aligned') aligned[name]++;
        } else {
          skipped[name]++;
          if (planned[name] < files.length) planned[name]++; // the next file replaces the skipped one
        }
        const relativePath = path.relative(dirs[name], files[index]);
        manifest.push({
          path: files[index],
          label,
          status: outcome.ok ? 'ok' : 'skipped',
          reason: outcome.reason,
          relativePath,
          source: sourceOf(relativePath, name),
          facts: outcome.ok ? outcome.facts : null,
          ...(outcome.ok && outcome.face ? { face: outcome.face.framing, faceBox: outcome.face.box } : {}),
        });
        o.onProgress?.({
          className: name,
          file: files[index],
          status: outcome.ok ? 'ok' : 'skipped',
          ...(outcome.ok ? {} : { reason: outcome.reason }),
          done: manifest.length,
          total: planned.real + planned.fake,
        });
      }, interruptRequested);
      if (interruptRequested()) break;
      if (counts[name] === 0) {
        const first = manifest.find((row) => row.label === label && row.status === 'skipped');
        throw new Error(`${dirs[name]}: no usable images for class ${name} (${skipped[name]} tried, all skipped; first: ${first?.reason})`);
      }
    }
  } finally {
    sharp.concurrency(sharpThreads);
    stopListening();
  }
  if (interruptRequested()) {
    throw new InterruptedError(`preprocessing interrupted (Ctrl-C) after ${manifest.length} files; nothing written to ${o.out}`);
  }
  return { x: x.subarray(0, n * imageBytes), y: y.subarray(0, n), n, manifest, counts, skipped, aligned };
}

/** sha256 of the pixels and labels: the dataset's identity, whatever folder it sits in. */
export function contentFingerprint(x: Uint8Array, y: Uint8Array): string {
  return createHash('sha256').update(x).update(y).digest('hex');
}

/**
 * Writes X.npy, Y.npy, manifest.csv, then dataset.json (the completion marker) into `out`. Paths go in relative
 * to `out` (lib/files.ts storedPath), so the dataset reads the same from any working directory.
 */
function writeDatasetFolder(out: string, decoded: DecodedClasses, info: DatasetInfo): void {
  fs.mkdirSync(out, { recursive: true });
  removeStaleTempFiles(out);
  // Remove the completion marker first: if we are interrupted below, the folder no longer claims to be complete.
  fs.rmSync(path.join(out, DATASET_FILES.info), { force: true });
  writeNpy(path.join(out, DATASET_FILES.x), decoded.x, [decoded.n, info.size, info.size, 3]);
  writeNpy(path.join(out, DATASET_FILES.y), decoded.y, [decoded.n]);
  // The face columns only with alignFaces: other datasets' manifests stay as they were.
  const faceFields = (r: ManifestRow) => (info.alignFaces ? [r.face ?? '', faceBoxField(r.faceBox)] : []);
  const row = (r: ManifestRow) =>
    [storedPath(r.path, out), r.label, r.status, r.reason, r.relativePath ?? '', r.source, ...factsFields(r.facts), ...faceFields(r)].map(csvField).join(',');
  const header = [...MANIFEST_HEADER, ...AUDIT_COLUMNS, ...(info.alignFaces ? FACE_COLUMNS : [])].join(',');
  writeFileAtomic(path.join(out, DATASET_FILES.manifest), [header, ...decoded.manifest.map(row)].join('\n') + '\n');
  const sources = { real: storedPath(info.sources.real, out), fake: storedPath(info.sources.fake, out) };
  writeJsonAtomic(path.join(out, DATASET_FILES.info), { ...info, sources });
}

/** Converts two image folders into a dataset folder; see the module comment. Throws one line on fatal problems. */
export async function preprocessFolders(options: PreprocessOptions): Promise<PreprocessResult> {
  const o = resolved(options);
  if (!Number.isInteger(o.size) || o.size <= 0) throw new Error(`size must be a positive integer (got ${o.size})`);
  if (o.limitPerClass !== null && !(Number.isInteger(o.limitPerClass) && o.limitPerClass > 0)) {
    throw new Error(`limitPerClass must be a positive integer or null (got ${o.limitPerClass})`);
  }
  if (o.alignFaces && o.harmonize) throw new Error('alignFaces cannot be combined with harmonize');
  const started = Date.now();
  const dirs: Record<ClassName, string> = { real: o.realDir, fake: o.fakeDir };
  checkClassFolders(o.realDir, o.fakeDir);
  // Entries the listing could not look into (a locked subfolder, a link loop) are tried like files: they fail
  // with their reason, so they are reported and recorded instead of stopping the run.
  const unlisted = new Map<string, string>();
  const candidates = Object.fromEntries(CLASSES.map(({ name }) => [name, classCandidates(dirs[name], unlisted)])) as Record<ClassName, string[]>;
  for (const { name } of CLASSES) {
    if (candidates[name].length === 0) {
      throw new Error(`${dirs[name]}: no image files for class ${name} (looked for ${IMAGE_EXTENSIONS.join(' ')})`);
    }
  }
  if (o.alignFaces) await initBackend(); // the face detector's
  const decoded = await decodeClasses(o, dirs, candidates, unlisted);
  const { n, counts, skipped, aligned } = decoded;
  const usable = decoded.manifest.filter((r) => r.status === 'ok');
  const info: DatasetInfo = {
    format: 'realfake-dataset',
    version: DATASET_VERSION,
    size: o.size,
    resize: o.resize,
    decode: o.decode,
    harmonize: o.harmonize,
    alignFaces: o.alignFaces,
    ...(o.alignFaces ? { aligned } : {}),
    limitPerClass: o.limitPerClass,
    count: n,
    counts,
    skipped: skipped.real + skipped.fake,
    skippedPerClass: skipped,
    sourceCounts: countSources(usable.map((r) => r.label), usable.map((r) => r.source)),
    sources: { real: path.resolve(o.realDir), fake: path.resolve(o.fakeDir) },
    sourceFingerprint: sourceFingerprint([...candidates.real, ...candidates.fake]),
    fingerprint: contentFingerprint(decoded.x, decoded.y),
    created: new Date().toISOString(),
  };
  writeDatasetFolder(o.out, decoded, info);

  const seconds = (Date.now() - started) / 1000;
  // Which decoder read the JPEGs on the nearest path (the pixels are the same either way; lib/data/jpeg-native.ts).
  const jpegs = o.resize === 'nearest' && o.decode === 'full' ? `, JPEGs by ${describeJpegDecoder().split(' (')[0]}` : '';
  const summary =
    `${n} images (real ${counts.real}, fake ${counts.fake}) ${o.size}x${o.size} ${o.resize}${o.decode === 'fast' ? ' (fast decode)' : ''}${o.harmonize ? ' harmonised' : ''}${o.alignFaces ? `, faces aligned in ${aligned.real + aligned.fake} (real ${aligned.real}, fake ${aligned.fake}; the rest whole)` : ''} -> ${o.out} ` +
    `in ${seconds.toFixed(1)} s (${(decoded.manifest.length / Math.max(seconds, 1e-3)).toFixed(0)} files/s${jpegs}); ` +
    `${info.skipped} skipped${info.skipped ? ` (reasons in ${path.join(o.out, DATASET_FILES.manifest)})` : ''}`;
  return { out: o.out, info, seconds, summary };
}
