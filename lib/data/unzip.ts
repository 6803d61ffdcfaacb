/**
 * Reads the image files of one class folder out of a zip: lists them from the central directory (which
 * also proves the download is a complete zip), picks the first N in path order, and extracts them flat
 * into one folder, checking each entry's CRC-32 (yauzl does not) and writing via a temporary name so an
 * interrupted extraction never leaves a truncated image that a re-run would skip.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { Transform } from 'stream';
import { pipeline } from 'stream/promises';
import * as yauzl from 'yauzl';
import { isImageFile } from './image-files';
import { releaseTempPath, removeStaleTempFiles, tempPathFor, writeJsonAtomic } from '../files';


export interface ZipImage {
  entry: yauzl.Entry;
  /** Path inside the zip. */
  zipPath: string;
  /** File name in the flat output folder. */
  outName: string;
}

export interface ExtractOptions {
  /** Folder name that holds the class's images; it may sit at any depth, images may be in subfolders of it. */
  classFolder: string;
  destDir: string;
  /** Only the first `limit` images in path order (undefined/null: all). */
  limit?: number | null;
  /** Rewrite files that already exist. */
  overwrite?: boolean;
  onProgress?: (done: number, total: number) => void;
  /** Checked before each file: when it returns true, extraction stops (the files written so far are complete). */
  stopped?: () => boolean;
}

/**
 * Written beside the class folder (`<dir>.extracted.json`) when every chosen image is extracted, removed when
 * extraction starts: a folder without it (an interrupted extraction) is never taken for a finished dataset
 * (see lib/data/sources.ts). Beside, not inside, so the class folder holds images only.
 */
export function extractedMarkerPath(dir: string): string {
  return `${path.resolve(dir)}.extracted.json`;
}

/** True when `dir` holds a finished extraction. */
export function extractionIsComplete(dir: string): boolean {
  return fs.existsSync(extractedMarkerPath(dir));
}

export interface ExtractResult {
  /** Images in the class folder of the zip. */
  available: number;
  extracted: number;
  /** Already present with the right size. */
  skipped: number;
  destDir: string;
  /** False when `stopped` ended the extraction early. */
  complete: boolean;
}

/** The one-line reason a zip cannot be used; carries the zip's path. */
export class ZipError extends Error {}

function openZip(zipPath: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.open(zipPath, { lazyEntries: true, autoClose: false, validateEntrySizes: true }, (err, zip) => {
      if (err) reject(new ZipError(`${zipPath}: not a readable zip (${err.message})`));
      else resolve(zip);
    });
  });
}

/** Reads the whole central directory. Failing here means a truncated or corrupt download. */
function readEntries(zip: yauzl.ZipFile, zipPath: string): Promise<yauzl.Entry[]> {
  return new Promise((resolve, reject) => {
    const entries: yauzl.Entry[] = [];
    zip.on('entry', (entry: yauzl.Entry) => {
      entries.push(entry);
      zip.readEntry();
    });
    zip.on('end', () => resolve(entries));
    zip.on('error', (err: Error) => reject(new ZipError(`${zipPath}: corrupt zip central directory (${err.message})`)));
    zip.readEntry();
  });
}

/** Images under `classFolder` (one or more path segments, at any depth), sorted by path, with collision-free flat names. */
export function selectClassImages(entries: yauzl.Entry[], classFolder: string, limit?: number | null): ZipImage[] {
  const images = entries
    .filter((e) => !e.fileName.endsWith('/'))
    .filter((e) => isImageFile(e.fileName))
    .map((entry) => ({ entry, zipPath: entry.fileName, inside: pathInsideFolder(entry.fileName, classFolder) }))
    .filter((x): x is typeof x & { inside: string } => x.inside !== null)
    .sort((a, b) => (a.zipPath < b.zipPath ? -1 : a.zipPath > b.zipPath ? 1 : 0));
  // Flatten to the base name when that is unique within the folder (FFHQ's numbered files are);
  // otherwise keep the subfolders in the name so two images never overwrite each other.
  const baseCounts = new Map<string, number>();
  for (const x of images) baseCounts.set(path.posix.basename(x.inside), (baseCounts.get(path.posix.basename(x.inside)) ?? 0) + 1);
  const named = images.map(({ entry, zipPath, inside }) => {
    const base = path.posix.basename(inside);
    return { entry, zipPath, outName: baseCounts.get(base) === 1 ? base : inside.split('/').join('__') };
  });
  return limit == null ? named : named.slice(0, limit);
}

/** "x/thumbnails128x128/00000/1.png" with folder "thumbnails128x128" → "00000/1.png"; null when outside. */
function pathInsideFolder(zipPath: string, folder: string): string | null {
  const parts = zipPath.split('/');
  // A folder may be several segments ("real_vs_fake/real-vs-fake/train/real"); it matches at any depth.
  const want = folder.split('/').filter(Boolean);
  for (let at = 0; at + want.length < parts.length; at++) {
    if (want.every((segment, k) => parts[at + k] === segment)) return parts.slice(at + want.length).join('/');
  }
  return null;
}

/** Opens the zip and reads its central directory: resolves with the entry count, rejects with a ZipError. */
export async function verifyZip(zipPath: string): Promise<number> {
  const zip = await openZip(zipPath);
  try {
    return (await readEntries(zip, zipPath)).length;
  } finally {
    zip.close();
  }
}

export async function extractClassImages(zipPath: string, options: ExtractOptions): Promise<ExtractResult> {
  const zip = await openZip(zipPath);
  try {
    const all = await readEntries(zip, zipPath);
    const available = selectClassImages(all, options.classFolder).length;
    if (available === 0) throw new ZipError(`${zipPath}: no images in a folder named "${options.classFolder}"`);
    const chosen = selectClassImages(all, options.classFolder, options.limit);
    fs.mkdirSync(options.destDir, { recursive: true });
    fs.rmSync(extractedMarkerPath(options.destDir), { force: true });
    removeStaleTempFiles(options.destDir);
    let extracted = 0;
    let skipped = 0;
    for (const [i, image] of chosen.entries()) {
      if (options.stopped?.()) return { available, extracted, skipped, destDir: options.destDir, complete: false };
      const outPath = path.join(options.destDir, image.outName);
      if (!options.overwrite && sizeOf(outPath) === image.entry.uncompressedSize) {
        skipped++;
      } else {
        await extractEntry(zip, image, outPath, zipPath);
        extracted++;
      }
      options.onProgress?.(i + 1, chosen.length);
    }
    writeJsonAtomic(extractedMarkerPath(options.destDir), { zip: path.basename(zipPath), classFolder: options.classFolder, limit: options.limit ?? null, images: chosen.length });
    return { available, extracted, skipped, destDir: options.destDir, complete: true };
  } finally {
    zip.close();
  }
}

async function extractEntry(zip: yauzl.ZipFile, image: ZipImage, outPath: string, zipPath: string): Promise<void> {
  const tmpPath = tempPathFor(outPath);
  const stream = await new Promise<NodeJS.ReadableStream>((resolve, reject) =>
    zip.openReadStream(image.entry, (err, s) => (err ? reject(new ZipError(`${zipPath}: ${image.zipPath}: ${err.message}`)) : resolve(s))),
  );
  let crc = 0;
  const crcCheck = new Transform({
    transform(chunk: Buffer, _enc, done) {
      crc = zlib.crc32(chunk, crc);
      done(null, chunk);
    },
    flush(done) {
      done(crc >>> 0 === image.entry.crc32 >>> 0 ? null : new ZipError(`${zipPath}: CRC mismatch in ${image.zipPath}`));
    },
  });
  try {
    await pipeline(stream, crcCheck, fs.createWriteStream(tmpPath));
  } catch (err) {
    fs.rmSync(tmpPath, { force: true });
    releaseTempPath(tmpPath);
    // File-system errors (ENOSPC…) are explained by the caller; yauzl's and zlib's checks get the zip's name.
    if (err instanceof ZipError || (err as NodeJS.ErrnoException).syscall) throw err;
    throw new ZipError(`${zipPath}: ${image.zipPath}: ${(err as Error).message}`);
  }
  fs.renameSync(tmpPath, outPath);
  releaseTempPath(tmpPath);
}

function sizeOf(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return -1;
  }
}
