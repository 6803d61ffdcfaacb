/** Which files are images, and how folders of them are listed (sorted, so every run sees the same order). */
import * as fs from 'fs';
import * as path from 'path';

/**
 * Extensions tried as images (case-insensitive). BMP is listed although sharp cannot decode it, so BMP files
 * show up as skipped with a reason instead of being silently ignored.
 */
export const IMAGE_EXTENSIONS: readonly string[] = ['.png', '.jpg', '.jpeg', '.webp', '.gif', '.tif', '.tiff', '.avif', '.bmp'];

export function isImageFile(file: string): boolean {
  return IMAGE_EXTENSIONS.includes(path.extname(file).toLowerCase());
}

function readFolder(dir: string): fs.Dirent[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`${dir}: folder not found`);
    if (code === 'ENOTDIR') throw new Error(`${dir}: not a folder`);
    throw new Error(`${dir}: cannot list folder (${code ?? (err as Error).message})`);
  }
}

/**
 * Image files in `dir` (and its subfolders when `recursive`; hidden ones skipped), sorted by path in code point
 * order: the same on every machine and locale. Throws one line when `dir` is missing or not a folder.
 */
export function listImageFiles(dir: string, options: { recursive?: boolean } = {}): string[] {
  const found: string[] = [];
  for (const entry of readFolder(dir)) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (options.recursive && !entry.name.startsWith('.')) found.push(...listImageFiles(full, options));
    } else if ((entry.isFile() || entry.isSymbolicLink()) && isImageFile(entry.name)) {
      found.push(full);
    }
  }
  return found.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
