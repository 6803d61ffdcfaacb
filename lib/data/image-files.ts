/**
 * Which files are images, and how folders of them are listed: the same rule for every command (preprocess,
 * predict, run, the audit): subfolders are walked (hidden ones skipped), symbolic links are followed, and the
 * result is sorted so every run sees the same order.
 */
import * as path from 'path';
import { FileAccessError, readFolder, tryInspectPath } from '../file-access';

/**
 * Extensions tried as images (case-insensitive). BMP is listed although sharp cannot decode it, so BMP files
 * show up as skipped with a reason instead of being silently ignored. Whether a listed file really is a
 * raster image is decided by its content (lib/data/images.ts), not by this name.
 */
export const IMAGE_EXTENSIONS: readonly string[] = ['.png', '.jpg', '.jpeg', '.webp', '.gif', '.tif', '.tiff', '.avif', '.bmp'];

export function isImageFile(file: string): boolean {
  return IMAGE_EXTENSIONS.includes(path.extname(file).toLowerCase());
}

/** Something under a listed folder that could not be looked into: an unreadable subfolder, a looping link. */
export interface ListingProblem {
  path: string;
  reason: string;
}

export interface FolderListing {
  /**
   * Image-named files, sorted by path in code point order (the same on every machine and locale). Includes
   * image-named links that cannot be followed: loading them then fails with the true reason.
   */
  files: string[];
  /** Entries that could not be listed, with the reason; the rest of the folder is listed anyway. */
  problems: ListingProblem[];
}

const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Lists `dir` and its subfolders. Throws one line (FileAccessError) only when `dir` itself cannot be
 * listed; a subfolder or link that cannot be followed becomes a problem and the walk goes on. A folder
 * reached twice (a link cycle) is walked once.
 */
export function scanImageFolder(dir: string): FolderListing {
  const files: string[] = [];
  const problems: ListingProblem[] = [];
  const visited = new Set<string>();
  const top = tryInspectPath(dir);
  if (top instanceof FileAccessError) throw top.code === 'ENOENT' ? new FileAccessError(dir, 'folder not found', 'ENOENT') : top;
  if (top.kind !== 'folder') throw new FileAccessError(dir, 'not a folder', 'ENOTDIR');
  visited.add(`${top.dev}:${top.ino}`);
  const walk = (folder: string) => {
    for (const entry of readFolder(folder)) {
      const full = path.join(folder, entry.name);
      if (entry.isFile()) {
        if (isImageFile(entry.name)) files.push(full);
        continue;
      }
      if (entry.isDirectory()) {
        if (!entry.name.startsWith('.')) enter(full);
        continue;
      }
      // A symbolic link (or a file system that does not say): look at what it points to.
      const info = tryInspectPath(full);
      if (info instanceof FileAccessError) {
        if (isImageFile(entry.name)) files.push(full);
        else problems.push({ path: full, reason: info.reason });
      } else if (info.kind === 'folder') {
        if (entry.name.startsWith('.')) continue;
        if (visited.has(`${info.dev}:${info.ino}`)) problems.push({ path: full, reason: 'symbolic link cycle (this folder is already listed)' });
        else enter(full, info);
      } else if (isImageFile(entry.name)) {
        files.push(full);
      }
    }
  };
  const enter = (folder: string, known?: { dev: number; ino: number }) => {
    const info = known ?? tryInspectPath(folder);
    if (info instanceof FileAccessError) return void problems.push({ path: folder, reason: info.reason });
    visited.add(`${info.dev}:${info.ino}`);
    try {
      walk(folder);
    } catch (err) {
      if (!(err instanceof FileAccessError)) throw err;
      problems.push({ path: folder, reason: `folder not listed: ${err.reason}` });
    }
  };
  walk(dir);
  return { files: files.sort(byCodePoint), problems: problems.sort((a, b) => byCodePoint(a.path, b.path)) };
}

/** The image files of scanImageFolder(dir), without the problems. */
export function listImageFiles(dir: string): string[] {
  return scanImageFolder(dir).files;
}
