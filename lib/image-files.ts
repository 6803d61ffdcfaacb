/** Which files are images, and how folders of them are listed (sorted, so every run sees the same order). */
import * as fs from 'fs';
import * as path from 'path';

/** Formats sharp decodes that face data sets come in. */
export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set(['.png', '.jpg', '.jpeg', '.webp', '.bmp', '.gif', '.tif', '.tiff', '.avif']);

export function isImageFile(file: string): boolean {
  return IMAGE_EXTENSIONS.has(path.extname(file).toLowerCase());
}

/** Image files under `dir` (recursively), sorted by path. Throws one line when `dir` is missing. */
export function listImageFiles(dir: string, recursive = true): string[] {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(dir);
  } catch {
    throw new Error(`${dir}: folder not found`);
  }
  if (!stat.isDirectory()) throw new Error(`${dir}: not a folder`);
  const found: string[] = [];
  const walk = (d: string) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) {
        if (recursive && !entry.name.startsWith('.')) walk(full);
      } else if (isImageFile(entry.name) && !entry.name.startsWith('.')) {
        found.push(full);
      }
    }
  };
  walk(dir);
  // Plain code-unit order, not locale order: the same on every machine.
  return found.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
