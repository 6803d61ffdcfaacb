/**
 * A dataset's pixels as the model sees them: uint8 rows (N x size x size x 3) scaled to [0, 1] float32 only when
 * a batch is used, by training, evaluation, inference and the audit's probes alike.
 */

/** Images (N x size x size x 3, uint8) and labels (0 real, 1 fake). */
export interface ImageData {
  x: Uint8Array;
  y: Uint8Array;
  size: number;
}

/** Copies uint8 pixels into `dst` at `offset`, scaled to [0, 1] as the study's preprocessing does. */
export function scaleToUnit(src: Uint8Array, dst: Float32Array, offset = 0): void {
  for (let p = 0; p < src.length; p++) dst[offset + p] = src[p] / 255;
}

/** The given rows' pixels as one float32 [0, 1] array (rows x pixels). */
export function scaledRows(data: ImageData, rows: ArrayLike<number>): Float32Array {
  const pixels = data.size * data.size * 3;
  const out = new Float32Array(rows.length * pixels);
  for (let i = 0; i < rows.length; i++)
    scaleToUnit(data.x.subarray(rows[i] * pixels, (rows[i] + 1) * pixels), out, i * pixels);
  return out;
}

/** One-hot labels for the given rows; with label smoothing e, the targets are 1 - e/2 and e/2. */
