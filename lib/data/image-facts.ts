/**
 * What a file says about itself before anyone looks at its pixels: format, dimensions, bytes, JPEG quality,
 * colour mode, EXIF. If these differ between the classes, a classifier can read the label off the file
 * instead of the face (the study's real faces are 128 px PNGs, its fakes 1024 px JPEGs).
 * Recorded per image as extra manifest.csv columns (AUDIT_COLUMNS) and summarised by lib/audit/audit.ts.
 */
import * as fs from 'fs';
import sharp from 'sharp';
import type { Metadata } from 'sharp';
import type { JpegHeader } from './jpeg-native';
import { estimateJpegQuality } from './jpeg-quality';

export interface ImageFacts {
  /** sharp/libvips' name for the container: jpeg, png, webp, gif, tiff, heif, ... */
  format: string;
  width: number;
  height: number;
  fileBytes: number;
  /** fileBytes / (width x height): how much the encoder kept per pixel. */
  bytesPerPixel: number;
  /** IJG-equivalent quality from the quantisation tables (JPEG only; null otherwise or unreadable). */
  jpegQuality: number | null;
  /** Colour space and channels, e.g. "srgb", "srgb+alpha", "b-w", "cmyk", "srgb palette". */
  colourMode: string;
  exif: boolean;
}

/** The manifest.csv columns that hold ImageFacts, in order. */
export const AUDIT_COLUMNS = [
  'format',
  'width',
  'height',
  'file_bytes',
  'bytes_per_pixel',
  'jpeg_quality',
  'colour_mode',
  'exif',
] as const;

/** The facts of an encoded image (the bytes of a file, or a re-encoding). Throws '<name>: <reason>'. */
export async function imageFacts(bytes: Buffer, name: string): Promise<ImageFacts> {
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw new Error(`${name}: cannot read image header (${(err as Error).message.split('\n')[0]})`);
  }
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  const format = String(meta.format ?? 'unknown');
  const colourMode = `${meta.space ?? 'unknown'}${meta.hasAlpha ? '+alpha' : ''}${meta.isPalette ? ' palette' : ''}`;
  return {
    format,
    width,
    height,
    fileBytes: bytes.length,
    bytesPerPixel: width && height ? bytes.length / (width * height) : 0,
    jpegQuality: format === 'jpeg' ? (estimateJpegQuality(bytes)?.quality ?? null) : null,
    colourMode,
    exif: !!meta.exif && meta.exif.length > 0,
  };
}

/**
 * imageFacts of a JPEG the native decoder has just decoded cleanly, from what libjpeg read of its header, without
 * asking sharp again (that cost ~0.4-1.7 ms per 1024 px JPEG, a fifth of preprocessing's time beside the decode).
 * The values are the ones sharp gives for such a file (libvips' jpegload: 1 component is "b-w", 3 are "srgb", no
 * alpha, no palette; test/jpeg-native.test.ts compares the two). Undefined when the file has an EXIF segment: sharp
 * then parses it (and refuses the file when that fails), as before.
 */
export function jpegHeaderFacts(bytes: Buffer, header: JpegHeader): ImageFacts | undefined {
  if (header.exif || (header.components !== 1 && header.components !== 3)) return undefined;
  const { width, height } = header;
  return {
    format: 'jpeg',
    width,
    height,
    fileBytes: bytes.length,
    bytesPerPixel: bytes.length / (width * height),
    jpegQuality: estimateJpegQuality(bytes)?.quality ?? null,
    colourMode: header.components === 1 ? 'b-w' : 'srgb',
    exif: false,
  };
}

export async function imageFileFacts(file: string): Promise<ImageFacts> {
  let bytes: Buffer;
  try {
    bytes = await fs.promises.readFile(file);
  } catch (err) {
    throw new Error(`${file}: cannot read file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return imageFacts(bytes, file);
}

/** The AUDIT_COLUMNS values of one image, as CSV-ready strings (empty for a skipped file). */
export function factsFields(facts: ImageFacts | null | undefined): string[] {
  if (!facts) return AUDIT_COLUMNS.map(() => '');
  return [
    facts.format,
    String(facts.width),
    String(facts.height),
    String(facts.fileBytes),
    facts.bytesPerPixel.toFixed(4),
    facts.jpegQuality === null ? '' : String(facts.jpegQuality),
    facts.colourMode,
    facts.exif ? '1' : '0',
  ];
}

/** Parses factsFields' strings back (null when the row has no facts, e.g. a skipped file). */
export function parseFacts(fields: Record<string, string | undefined>): ImageFacts | null {
  if (!fields.format) return null;
  return {
    format: fields.format,
    width: Number(fields.width),
    height: Number(fields.height),
    fileBytes: Number(fields.file_bytes),
    bytesPerPixel: Number(fields.bytes_per_pixel),
    jpegQuality: fields.jpeg_quality ? Number(fields.jpeg_quality) : null,
    colourMode: fields.colour_mode ?? '',
    exif: fields.exif === '1',
  };
}
