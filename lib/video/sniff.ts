/**
 * Whether a file is a video: by extension (mp4, m4v, mov, mkv, webm), else by its first bytes (an ISO media
 * 'ftyp' box that is not an AVIF/HEIF image, an older QuickTime atom, or Matroska/WebM's EBML header).
 */
import * as fs from 'fs';
import * as path from 'path';

export const VIDEO_EXTENSIONS: readonly string[] = ['.mp4', '.m4v', '.mov', '.mkv', '.webm'];
const IMAGE_BRANDS = ['avif', 'avis', 'heic', 'heix', 'hevc', 'heim', 'heis', 'mif1', 'msf1'];

export type VideoContainer = 'mp4' | 'matroska';

export function sniffVideoType(bytes: Uint8Array): VideoContainer | null {
  const ascii = (from: number, to: number) => String.fromCharCode(...bytes.subarray(from, to));
  if (bytes.length >= 12 && ascii(4, 8) === 'ftyp') return IMAGE_BRANDS.includes(ascii(8, 12)) ? null : 'mp4';
  if (bytes.length >= 8 && ['moov', 'mdat', 'wide', 'free'].includes(ascii(4, 8))) return 'mp4';
  if (bytes.length >= 4 && bytes[0] === 0x1a && bytes[1] === 0x45 && bytes[2] === 0xdf && bytes[3] === 0xa3)
    return 'matroska';
  return null;
}

/** True for a video file (by extension, else by content); false for anything unreadable. */
export function isVideoFile(file: string): boolean {
  if (VIDEO_EXTENSIONS.includes(path.extname(file).toLowerCase())) return true;
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const head = Buffer.alloc(16);
      const n = fs.readSync(fd, head, 0, 16, 0);
      return sniffVideoType(head.subarray(0, n)) !== null;
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return false;
  }
}
