/**
 * The one frequency view of images in realfake: a 2D DFT that is exact at every size (fft.js, radix-4, when the
 * side is a power of two, else a direct O(N^2)-per-row transform: never zero-padding, which would change the
 * frequencies measured), and the two views built on it.
 *
 * Class spectra (lib/eval/analyze.ts): class-mean log-magnitude 2D spectra, their difference, and azimuthally
 * averaged 1D spectra. Up-sampling in a generator leaves periodic traces that show as peaks or a raised tail at
 * high spatial frequencies (Durall et al. 2020, "Watch your up-convolution"; Frank et al. 2020); here a
 * researcher sees whether the two classes differ there at all. Per image: luma Y = 0.299 R + 0.587 G + 0.114 B in
 * [0, 1], minus its mean (so the DC term does not swamp the plot), 2D DFT, log(1 + |F|), shifted so frequency 0
 * is at the centre (numpy's fftshift). Spectra are then averaged per class. The 1D spectrum averages the 2D one
 * over rings of equal radius (rounded to whole frequency bins) from 0 to size/2.
 *
 * The audit's spectrum profile (lib/audit/probes.ts, azimuthalSpectrum): Durall et al.'s feature for a linear
 * classifier, one vector per image.
 */
import FFT from 'fft.js';
import type { Figure } from '../viz/plots';

const isPowerOfTwo = (n: number) => n >= 2 && (n & (n - 1)) === 0;

/** In-place 1D DFT of `n` complex values (separate re, im arrays). */
function makeLineTransform(n: number): (re: Float64Array, im: Float64Array) => void {
  if (isPowerOfTwo(n)) {
    const fft = new FFT(n);
    const input = fft.createComplexArray();
    const output = fft.createComplexArray();
    return (re, im) => {
      for (let i = 0; i < n; i++) {
        input[2 * i] = re[i];
        input[2 * i + 1] = im[i];
      }
      fft.transform(output, input);
      for (let i = 0; i < n; i++) {
        re[i] = output[2 * i];
        im[i] = output[2 * i + 1];
      }
    };
  }
  const cos = Float64Array.from({ length: n }, (_, k) => Math.cos((-2 * Math.PI * k) / n));
  const sin = Float64Array.from({ length: n }, (_, k) => Math.sin((-2 * Math.PI * k) / n));
  const outRe = new Float64Array(n);
  const outIm = new Float64Array(n);
  return (re, im) => {
    for (let k = 0; k < n; k++) {
      let sr = 0;
      let si = 0;
      for (let t = 0; t < n; t++) {
        const w = (k * t) % n;
        sr += re[t] * cos[w] - im[t] * sin[w];
        si += re[t] * sin[w] + im[t] * cos[w];
      }
      outRe[k] = sr;
      outIm[k] = si;
    }
    re.set(outRe);
    im.set(outIm);
  };
}

/**
 * A reusable in-place 2D DFT of size x size complex images (row-major re, im): rows, then columns. Index (y, x)
 * holds frequency (y, x) unshifted; frequencies above size/2 are the negative ones.
 */
export function dft2dFunction(size: number): (re: Float64Array, im: Float64Array) => void {
  const line = makeLineTransform(size);
  const lineRe = new Float64Array(size);
  const lineIm = new Float64Array(size);
  return (re, im) => {
    if (re.length !== size * size || im.length !== size * size)
      throw new Error(`dft2d: expected ${size * size} values, got ${re.length} and ${im.length}`);
    for (let pass = 0; pass < 2; pass++) {
      // pass 0: rows, pass 1: columns.
      for (let a = 0; a < size; a++) {
        for (let b = 0; b < size; b++) {
          const i = pass === 0 ? a * size + b : b * size + a;
          lineRe[b] = re[i];
          lineIm[b] = im[i];
        }
        line(lineRe, lineIm);
        for (let b = 0; b < size; b++) {
          const i = pass === 0 ? a * size + b : b * size + a;
          re[i] = lineRe[b];
          im[i] = lineIm[b];
        }
      }
    }
  };
}

/** Luma in [0, 1] of an RGB uint8 image. */
export function toLuma(pixels: Uint8Array, size: number): Float64Array {
  const out = new Float64Array(size * size);
  for (let i = 0; i < out.length; i++)
    out[i] = (0.299 * pixels[3 * i] + 0.587 * pixels[3 * i + 1] + 0.114 * pixels[3 * i + 2]) / 255;
  return out;
}

/** A reusable 2D spectrum function for size x size images: log(1 + |DFT|), zero frequency at the centre. */
export function spectrumFunction(size: number): (image: Float64Array) => Float64Array {
  const dft2d = dft2dFunction(size);
  const re = new Float64Array(size * size);
  const im = new Float64Array(size * size);
  return (image) => {
    if (image.length !== size * size) throw new Error(`spectrum: expected ${size * size} values, got ${image.length}`);
    let mean = 0;
    for (let i = 0; i < image.length; i++) mean += image[i];
    mean /= image.length;
    for (let i = 0; i < image.length; i++) {
      re[i] = image[i] - mean;
      im[i] = 0;
    }
    dft2d(re, im);
    const out = new Float64Array(size * size);
    const half = Math.floor(size / 2);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const i = y * size + x;
        const j = ((y + half) % size) * size + ((x + half) % size);
        out[j] = Math.log1p(Math.hypot(re[i], im[i]));
      }
    }
    return out;
  };
}

export function logMagnitudeSpectrum(image: Float64Array, size: number): Float64Array {
  return spectrumFunction(size)(image);
}

/** Mean of a centred 2D spectrum over rings of radius r = 0 .. size/2 (rounded distance to the centre). */
export function azimuthalAverage(spectrum: Float64Array, size: number): Float64Array {
  const half = Math.floor(size / 2);
  const sum = new Float64Array(half + 1);
  const count = new Float64Array(half + 1);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const r = Math.round(Math.hypot(y - half, x - half));
      if (r <= half) {
        sum[r] += spectrum[y * size + x];
        count[r]++;
      }
    }
  }
  return sum.map((s, r) => s / count[r]);
}

/**
 * The audit's profile of one square RGB image (size x size x 3 uint8, row-major; Durall, Keuper and Keuper,
 * CVPR 2020): grey (R + G + B) / 3 > 2D DFT > 20 ln|F| > mean over rings floor(|f|) = 0 .. size/2 - 1 > min-max
 * scaled to [0, 1]. size/2 values, from the lowest spatial frequency to the highest. Up-sampling (a GAN's, or a
 * nearest resize's) leaves its mark at high frequencies, where this profile makes it visible to a linear
 * classifier.
 */
export function azimuthalSpectrum(pixels: Uint8Array, size: number): Float32Array {
  const re = new Float64Array(size * size);
  const im = new Float64Array(size * size);
  for (let i = 0; i < re.length; i++) re[i] = (pixels[3 * i] + pixels[3 * i + 1] + pixels[3 * i + 2]) / 3;
  dft2dFunction(size)(re, im);
  const bins = Math.floor(size / 2);
  const sums = new Float64Array(bins);
  const counts = new Float64Array(bins);
  // Columns outer, rows inner: the order the sums were always taken in, so power-of-two sizes keep their values.
  for (let x = 0; x < size; x++) {
    const fx = x < size / 2 ? x : x - size;
    for (let y = 0; y < size; y++) {
      const fy = y < size / 2 ? y : y - size;
      const r = Math.floor(Math.sqrt(fx * fx + fy * fy));
      if (r >= bins) continue;
      const i = y * size + x;
      sums[r] += 20 * Math.log(Math.hypot(re[i], im[i]) + 1e-8);
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

export interface ClassSpectra {
  size: number;
  counts: { real: number; fake: number };
  real: Float64Array;
  fake: Float64Array;
  /** fake - real. */
  difference: Float64Array;
  realRadial: Float64Array;
  fakeRadial: Float64Array;
}

/** Class-mean spectra of dataset rows (uint8 RGB images, row-major N x size x size x 3). */
export function classSpectra(x: Uint8Array, labels: ArrayLike<number>, rows: number[], size: number): ClassSpectra {
  const spectrum = spectrumFunction(size);
  const pixels = size * size * 3;
  const sums = [new Float64Array(size * size), new Float64Array(size * size)];
  const counts = [0, 0];
  for (const row of rows) {
    const label = labels[row];
    const s = spectrum(toLuma(x.subarray(row * pixels, (row + 1) * pixels), size));
    for (let i = 0; i < s.length; i++) sums[label][i] += s[i];
    counts[label]++;
  }
  if (counts[0] === 0 || counts[1] === 0) throw new Error('spectrum: need images of both classes');
  const [real, fake] = sums.map((s, label) => s.map((v) => v / counts[label]));
  return {
    size,
    counts: { real: counts[0], fake: counts[1] },
    real,
    fake,
    difference: fake.map((v, i) => v - real[i]),
    realRadial: azimuthalAverage(real, size),
    fakeRadial: azimuthalAverage(fake, size),
  };
}

/** Rows of the spectrum, rounded to 3 decimals (keeps notebook outputs and HTML small; far below what a colour shows). */
function grid(values: Float64Array, size: number): number[][] {
  return Array.from({ length: size }, (_, y) =>
    Array.from(values.subarray(y * size, (y + 1) * size), (v) => Math.round(v * 1000) / 1000),
  );
}

/** Three heatmaps (real, fake, fake - real) and the 1D spectra. */
export function spectrumFigures(s: ClassSpectra): Record<string, Figure> {
  const half = Math.floor(s.size / 2);
  const freqs = Array.from({ length: s.size }, (_, i) => (i - half) / s.size);
  const heat = (title: string, values: Float64Array, diverging: boolean): Figure => {
    const max = diverging ? Math.max(...Array.from(values, Math.abs)) : undefined;
    return {
      data: [
        {
          type: 'heatmap',
          x: freqs,
          y: freqs,
          z: grid(values, s.size),
          colorscale: diverging ? 'RdBu' : 'Viridis',
          reversescale: diverging,
          ...(diverging ? { zmin: -(max ?? 1), zmax: max ?? 1 } : {}),
        },
      ],
      layout: {
        title: { text: title },
        xaxis: { title: { text: 'horizontal frequency (cycles/pixel)' } },
        yaxis: { title: { text: 'vertical frequency' }, scaleanchor: 'x' },
        width: 480,
        height: 460,
        margin: { l: 70, r: 30, t: 60, b: 60 },
      },
    };
  };
  const radius = Array.from(s.realRadial, (_, r) => r / s.size);
  return {
    spectrum_real: heat(`Mean log-magnitude spectrum, real (${s.counts.real} images)`, s.real, false),
    spectrum_fake: heat(`Mean log-magnitude spectrum, fake (${s.counts.fake} images)`, s.fake, false),
    spectrum_difference: heat('Spectrum difference, fake - real', s.difference, true),
    spectrum_radial: {
      data: [
        {
          type: 'scatter',
          mode: 'lines',
          name: 'real',
          x: radius,
          y: Array.from(s.realRadial),
          line: { color: '#1f77b4' },
        },
        {
          type: 'scatter',
          mode: 'lines',
          name: 'fake',
          x: radius,
          y: Array.from(s.fakeRadial),
          line: { color: '#ff7f0e' },
        },
      ],
      layout: {
        title: { text: 'Azimuthally averaged spectrum' },
        xaxis: { title: { text: 'spatial frequency (cycles/pixel)' } },
        yaxis: { title: { text: 'mean log(1 + |F|)' } },
        width: 560,
        height: 420,
        margin: { l: 70, r: 30, t: 60, b: 60 },
      },
    },
  };
}
