/**
 * JPEG quality estimated from the file's quantisation tables, the way ImageMagick's `identify -format %Q`
 * does it in spirit: read the DQT segments and find the IJG quality whose scaled standard tables (ITU-T T.81
 * Annex K, scaled as libjpeg's jpeg_quality_scaling does) are closest to the file's. Encoders built on
 * libjpeg/libjpeg-turbo (PIL, sharp without mozjpeg, cameras using IJG tables) match one quality exactly;
 * others (Photoshop, mozjpeg's tuned tables) give the nearest IJG equivalent, flagged as not exact.
 */

/** Annex K.1, luminance, in natural (row-major) order. */
const IJG_LUMINANCE = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51,
  87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101,
  72, 92, 95, 98, 112, 100, 103, 99,
];
/** Annex K.2, chrominance, natural order. */
const IJG_CHROMINANCE = [
  17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99,
  99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
  99, 99, 99, 99, 99, 99,
];
/** DQT stores coefficients in zigzag order: ZIGZAG[k] is the natural index of the k-th stored value. */
const ZIGZAG = [
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
  35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47,
  55, 62, 63,
];

export interface JpegQuality {
  /** 1..100, the IJG quality whose tables are closest. */
  quality: number;
  /** True when the file's tables are exactly IJG's at that quality. */
  exact: boolean;
}

/** libjpeg's jpeg_quality_scaling + jpeg_add_quant_table with force_baseline: the table for `quality`. */
export function ijgTable(base: readonly number[], quality: number): number[] {
  const q = Math.min(100, Math.max(1, Math.round(quality)));
  const scale = q < 50 ? Math.floor(5000 / q) : 200 - 2 * q;
  return base.map((v) => Math.min(255, Math.max(1, Math.floor((v * scale + 50) / 100))));
}

/** ijgTable for every quality 1..100 (index = quality), computed once: estimateJpegQuality runs once per image. */
const IJG_TABLES = {
  luma: Array.from({ length: 101 }, (_, q) => (q ? ijgTable(IJG_LUMINANCE, q) : [])),
  chroma: Array.from({ length: 101 }, (_, q) => (q ? ijgTable(IJG_CHROMINANCE, q) : [])),
};

/**
 * The quantisation tables of a JPEG file, by table id (0 is luminance for every common encoder), in natural
 * order. Empty when the bytes are not a JPEG or hold no DQT before the image data; never throws.
 */
export function readQuantTables(bytes: Uint8Array): Map<number, number[]> {
  const tables = new Map<number, number[]>();
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return tables;
  let at = 2;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) return tables; // lost sync: stop rather than guess
    const marker = bytes[at + 1];
    if (marker === 0xff) {
      at++; // fill byte
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return tables; // end of image / start of scan: tables come before
    const length = (bytes[at + 2] << 8) | bytes[at + 3];
    const end = at + 2 + length;
    if (length < 2 || end > bytes.length) return tables;
    if (marker === 0xdb) {
      let p = at + 4;
      while (p < end) {
        const precision = bytes[p] >> 4; // 0: 8-bit entries, 1: 16-bit
        const id = bytes[p] & 0x0f;
        p++;
        const natural = new Array<number>(64);
        for (let k = 0; k < 64; k++) {
          if (p + (precision ? 2 : 1) > end) return tables;
          natural[ZIGZAG[k]] = precision ? (bytes[p] << 8) | bytes[p + 1] : bytes[p];
          p += precision ? 2 : 1;
        }
        tables.set(id, natural);
      }
    }
    at = end;
  }
  return tables;
}

/** The estimated quality of a JPEG file's bytes, or null when it has no readable quantisation tables. */
export function estimateJpegQuality(bytes: Uint8Array): JpegQuality | null {
  const tables = readQuantTables(bytes);
  const luma = tables.get(0);
  if (!luma) return null;
  const chroma = tables.get(1);
  let best: JpegQuality = { quality: 0, exact: false };
  let bestError = Infinity;
  for (let q = 1; q <= 100; q++) {
    let error = 0;
    const expectedLuma = IJG_TABLES.luma[q];
    for (let i = 0; i < 64; i++) error += Math.abs(luma[i] - expectedLuma[i]);
    if (chroma) {
      const expectedChroma = IJG_TABLES.chroma[q];
      for (let i = 0; i < 64; i++) error += Math.abs(chroma[i] - expectedChroma[i]);
    }
    // Ties (several qualities can give the same clamped tables, e.g. all-ones at 98-100) go to the lower quality.
    if (error < bestError) {
      bestError = error;
      best = { quality: q, exact: error === 0 };
    }
  }
  return best;
}
