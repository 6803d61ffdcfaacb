/**
 * BENCHMARKS.md's blocks: each bench that owns a section writes it between `<!-- bench:NAME -->` and
 * `<!-- /bench:NAME -->`, in place when it is there, else just before the bench:real section (which runs to the
 * end of the file, rows appended by `npm run bench:real`), else at the end.
 */
import * as fs from 'fs';
import * as path from 'path';
import { projectRoot, writeFileAtomic } from '../lib/files';

const REAL_MARKER = '<!-- bench:real -->';

/** The block NAME holding `body`, between its two markers. */
export function markedBlock(name: string, body: string): string {
  return `<!-- bench:${name} -->\n${body.trimEnd()}\n<!-- /bench:${name} -->`;
}

/** `text` with the block NAME holding `body` (see the module comment). */
export function withSection(text: string, name: string, body: string): string {
  const begin = `<!-- bench:${name} -->`;
  const end = `<!-- /bench:${name} -->`;
  const block = markedBlock(name, body);
  const at = text.indexOf(begin);
  const stop = text.indexOf(end);
  if (at >= 0 && stop > at) return text.slice(0, at) + block + text.slice(stop + end.length);
  if (text.includes(REAL_MARKER)) return text.replace(REAL_MARKER, `${block}\n\n${REAL_MARKER}`);
  return `${text.trimEnd()}\n\n${block}\n`;
}

/** Writes the block NAME into the project's BENCHMARKS.md; returns the file. */
export function writeSection(name: string, body: string): string {
  const file = path.join(projectRoot(), 'BENCHMARKS.md');
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Benchmarks\n';
  writeFileAtomic(file, withSection(text, name, body));
  return file;
}
