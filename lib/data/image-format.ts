/**
 * What a file is, from its first bytes (never its name): realfake reads raster photos only. Vector and
 * document formats (SVG, PDF, PostScript, WMF/EMF) are refused everywhere with one reason, even when named
 * .png: rendered, they would be pictures of drawings at a size the renderer picks, not photos, and their
 * renderers are a large attack surface.
 */

/** Raster formats realfake decodes (sharp's names, as in sharp's metadata().format). */
export const RASTER_FORMATS: ReadonlySet<string> = new Set(['jpeg', 'png', 'webp', 'gif', 'tiff', 'heif', 'avif', 'jp2', 'jxl']);

/** Bytes to read from the start of a file to recognise it. */
export const SNIFF_BYTES = 4096;

/** The one reason for every non-raster input, wherever it is met. */
export function notRasterReason(format: string): string {
  return `not a raster image (${format} is a vector or document format; realfake reads photos only)`;
}

/** The vector or document format the bytes start with, or null (raster, or unknown: the decoder decides). */
export function sniffNonRaster(head: Buffer): string | null {
  const ascii = head.toString('latin1');
  if (ascii.startsWith('%PDF-')) return 'PDF';
  if (ascii.startsWith('%!PS')) return 'PostScript';
  if (head.length >= 4 && head.readUInt32BE(0) === 0xc5d0d3c6) return 'EPS';
  if (head.length >= 4 && head.readUInt32BE(0) === 0xd7cdc69a) return 'WMF';
  if (head.length >= 44 && head.readUInt32LE(0) === 1 && ascii.slice(40, 44) === ' EMF') return 'EMF';
  // gzip: an SVGZ, which SVG renderers open transparently; no raster format realfake reads is gzip.
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'SVGZ (gzip-compressed)';
  // SVG is XML text: after an optional BOM, whitespace, <?xml ...?>, comments and a DOCTYPE comes <svg.
  const text = head.toString('utf8').replace(/^\uFEFF/, '');
  if (/^\s*</.test(text) && /<svg[\s>:]/i.test(text)) return 'SVG';
  return null;
}
