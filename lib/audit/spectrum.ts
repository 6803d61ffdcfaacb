/**
 * The azimuthally averaged log power spectrum of an image (Durall, Keuper and Keuper, "Watch your up-convolution:
 * CNN based generative deep neural networks are failing to reproduce spectral distributions", CVPR 2020):
 * grey image > 2D FFT > 20 log|F| > mean over rings of equal spatial frequency > min-max scaled to [0, 1].
 * Up-sampling (a GAN's, or a nearest resize's) leaves its mark at high frequencies, where this 1D profile
 * makes it visible to a linear classifier.
 */
import FFT from 'fft.js';

const ffts = new Map<number, FFT>();
function fftOf(n: number): FFT {
  let fft = ffts.get(n);
  if (!fft) ffts.set(n, (fft = new FFT(n)));
  return fft;
}

function nextPowerOfTwo(n: number): number {
  let p = 2;
  while (p < n) p *= 2;
  return p;
}

/**
 * The profile of one square RGB image (size x size x 3 uint8, row-major): size/2 values, from the lowest
 * spatial frequency to the highest. fft.js needs a power-of-two side: other sizes are zero-padded (the same
 * for every image, so comparisons stay fair).
 */
export function azimuthalSpectrum(pixels: Uint8Array, size: number): Float32Array {
  const n = nextPowerOfTwo(size);
  const fft = fftOf(n);
  // Rows, then columns, of the complex 2D transform (interleaved re, im).
  const grid: number[][] = [];
  const row = new Array<number>(n).fill(0);
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      const p = (y * size + x) * 3;
      row[x] = y < size && x < size ? (pixels[p] + pixels[p + 1] + pixels[p + 2]) / 3 : 0;
    }
    const out = fft.createComplexArray();
    fft.realTransform(out, row);
    fft.completeSpectrum(out);
    grid.push(out);
  }
  const column = fft.createComplexArray();
  const columnOut = fft.createComplexArray();
  const bins = Math.floor(size / 2);
  const sums = new Float64Array(bins);
  const counts = new Float64Array(bins);
  const half = n / 2;
  for (let x = 0; x < n; x++) {
    for (let y = 0; y < n; y++) {
      column[2 * y] = grid[y][2 * x];
      column[2 * y + 1] = grid[y][2 * x + 1];
    }
    fft.transform(columnOut, column);
    // fftshift: frequency (fx, fy) in [-n/2, n/2); the radius is measured in the image's own frequency units.
    const fx = x < half ? x : x - n;
    for (let y = 0; y < n; y++) {
      const fy = y < half ? y : y - n;
      const r = Math.floor((Math.sqrt(fx * fx + fy * fy) * size) / n);
      if (r >= bins) continue;
      const magnitude = Math.hypot(columnOut[2 * y], columnOut[2 * y + 1]);
      sums[r] += 20 * Math.log(magnitude + 1e-8);
      counts[r]++;
    }
  }
  const profile = new Float32Array(bins);
  let lo = Infinity;
  let hi = -Infinity;
  for (let r = 0; r < bins; r++) {
    profile[r] = counts[r] ? sums[r] / counts[r] : 0;
    lo = Math.min(lo, profile[r]);
    hi = Math.max(hi, profile[r]);
  }
  for (let r = 0; r < bins; r++) profile[r] = hi > lo ? (profile[r] - lo) / (hi - lo) : 0;
  return profile;
}
