/**
 * sharp's `kernel: 'lanczos3'` shrink, in plain arithmetic, so the page's in-browser mode feeds a model the crop
 * the server (sharp) made. NO imports on purpose: the page loads the compiled JavaScript (as lib/faces/crop.ts).
 *
 * What libvips 8.18 (sharp 0.35) does to shrink an axis from n to m pixels (resample/resize.c `vips_resize`,
 * with its default reducing gap of 2): first a block average by the integer factor floor(n / m / 2) when that is
 * 2 or more (`vips_shrinkv` / `vips_shrinkh`, rounded), then `vips_reducev` / `vips_reduceh` by the remaining
 * factor s: output pixel i is centred at (i + 0.5) * s - 0.5 in the input, weighted by the Lanczos-3 kernel
 * stretched by s over 2 * round(3 * s) + 1 taps (edges repeated), weights normalised to sum 1
 * (resample/templates.h `calculate_coefficients`). Rows first, then columns, each rounded to 8 bits.
 * Measured against sharp: equal up to 3 levels on a few pixels (libvips' vector path rounds its fixed-point
 * weights its own way), which moves a model's score by far less than the page's tolerance (test/lanczos.test.ts).
 * Only shrinking is reproduced: sharp enlarges with an affine interpolator this module does not copy.
 */

/** Lanczos-3: sinc(x) * sinc(x / 3) on |x| < 3. */
function lanczos3(x: number): number {
  if (x === 0) return 1;
  if (x <= -3 || x >= 3) return 0;
  const px = Math.PI * x;
  return (3 * Math.sin(px) * Math.sin(px / 3)) / (px * px);
}

/** An image seen along one axis: `lines` lines of `length` pixels each. */
interface Axis {
  length: number;
  lines: number;
  /** Index (in pixels) of pixel `i` of line `line`. */
  at(line: number, i: number): number;
}

/** Block average by `factor` along the axis, rounded (libvips' shrinkh/shrinkv). */
function blockAverage(data: Uint8Array, axis: Axis, factor: number, outAxis: Axis, out: Uint8Array): void {
  for (let line = 0; line < axis.lines; line++)
    for (let o = 0; o < outAxis.length; o++)
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        for (let k = 0; k < factor; k++) sum += data[axis.at(line, o * factor + k) * 3 + c];
        out[outAxis.at(line, o) * 3 + c] = Math.floor((sum + (factor >> 1)) / factor);
      }
}

/** Lanczos-3 reduce along the axis by length / outAxis.length (libvips' reduceh/reducev). */
function reduce(data: Uint8Array, axis: Axis, outAxis: Axis, out: Uint8Array): void {
  const shrink = axis.length / outAxis.length;
  const taps = 2 * Math.round(3 * shrink) + 1;
  for (let o = 0; o < outAxis.length; o++) {
    const centre = (o + 0.5) * shrink - 0.5;
    const first = Math.floor(centre) - (taps >> 1);
    const weights = new Float64Array(taps);
    let total = 0;
    for (let t = 0; t < taps; t++) total += weights[t] = lanczos3((first + t - centre) / shrink);
    const index = new Int32Array(taps);
    for (let t = 0; t < taps; t++) index[t] = Math.min(axis.length - 1, Math.max(0, first + t));
    for (let line = 0; line < axis.lines; line++)
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        for (let t = 0; t < taps; t++) sum += weights[t] * data[axis.at(line, index[t]) * 3 + c];
        out[outAxis.at(line, o) * 3 + c] = Math.min(255, Math.max(0, Math.round(sum / total)));
      }
  }
}

const verticalAxis = (width: number, height: number): Axis => ({
  length: height,
  lines: width,
  at: (x, y) => y * width + x,
});
const horizontalAxis = (width: number, height: number): Axis => ({
  length: width,
  lines: height,
  at: (y, x) => y * width + x,
});

/** One axis from its size to `target` (target <= size): block average, then Lanczos-3. */
function shrinkAxis(
  data: Uint8Array,
  width: number,
  height: number,
  vertical: boolean,
  target: number,
): { data: Uint8Array; width: number; height: number } {
  const make = vertical ? verticalAxis : horizontalAxis;
  const size = vertical ? height : width;
  const sized = (n: number) => (vertical ? { width, height: n } : { width: n, height });
  let current = { data, width, height };
  const factor = Math.floor(size / target / 2);
  if (factor >= 2) {
    const next = sized(Math.floor(size / factor));
    const out = new Uint8Array(next.width * next.height * 3);
    blockAverage(data, make(width, height), factor, make(next.width, next.height), out);
    current = { data: out, ...next };
  }
  if ((vertical ? current.height : current.width) === target) return current;
  const next = vertical ? { width: current.width, height: target } : { width: target, height: current.height };
  const out = new Uint8Array(next.width * next.height * 3);
  reduce(current.data, make(current.width, current.height), make(next.width, next.height), out);
  return { data: out, ...next };
}

/**
 * RGB pixels (row-major, width x height x 3) shrunk to outWidth x outHeight as sharp's lanczos3 does; both
 * target sides must be at most the source's (see the module comment).
 */
export function shrinkLanczos3(
  data: Uint8Array,
  width: number,
  height: number,
  outWidth: number,
  outHeight: number,
): Uint8Array {
  if (outWidth > width || outHeight > height)
    throw new Error(`shrinkLanczos3 only shrinks (${width}x${height} to ${outWidth}x${outHeight})`);
  const tall = shrinkAxis(data, width, height, true, outHeight);
  return shrinkAxis(tall.data, tall.width, tall.height, false, outWidth).data;
}
