/**
 * Frequency view, Grad-CAM and the robustness perturbations against known answers: a synthetic image with one
 * known frequency peaks at that frequency; Grad-CAM on a hand-built model whose answer depends on one known
 * region highlights that region; the perturbations change images the way their names say.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { initBackend } from '../lib/backend/backend';
import { explainImage, gradCam, lastConvLayerName } from '../lib/eval/gradcam';
import { applyPerturbation, DEFAULT_PERTURBATIONS, robustnessFigure, robustnessGrid } from '../lib/eval/robustness';
import {
  azimuthalAverage,
  azimuthalSpectrum,
  classSpectra,
  dft2dFunction,
  logMagnitudeSpectrum,
} from '../lib/eval/spectrum';
import { buildModel } from '../lib/model/model';
import { makeRng } from '../lib/random';

function argmax(values: ArrayLike<number>, skip: (i: number) => boolean = () => false): number {
  let best = -1;
  for (let i = 0; i < values.length; i++) if (!skip(i) && (best < 0 || values[i] > values[best])) best = i;
  return best;
}

/** The 2D DFT by its definition, F(u, v) = sum_y sum_x f(y, x) e^{-2 pi i (u y + v x) / N}, for checking. */
function directDft2d(re: Float64Array, im: Float64Array, n: number): [Float64Array, Float64Array] {
  const outRe = new Float64Array(n * n);
  const outIm = new Float64Array(n * n);
  for (let u = 0; u < n; u++)
    for (let v = 0; v < n; v++)
      for (let y = 0; y < n; y++)
        for (let x = 0; x < n; x++) {
          const a = (-2 * Math.PI * (u * y + v * x)) / n;
          const [c, s] = [Math.cos(a), Math.sin(a)];
          const i = y * n + x;
          outRe[u * n + v] += re[i] * c - im[i] * s;
          outIm[u * n + v] += re[i] * s + im[i] * c;
        }
  return [outRe, outIm];
}

for (const size of [1, 2, 3, 5, 8, 9, 12, 16]) {
  test(`the 2D DFT of a ${size} x ${size} complex image equals the direct sum (no padding at odd or even sizes)`, () => {
    const rng = makeRng(size);
    const re = Float64Array.from({ length: size * size }, () => rng() - 0.5);
    const im = Float64Array.from({ length: size * size }, () => rng() - 0.5);
    const [wantRe, wantIm] = directDft2d(re, im, size);
    dft2dFunction(size)(re, im);
    for (let i = 0; i < size * size; i++) {
      assert.ok(
        Math.abs(re[i] - wantRe[i]) < 1e-9 && Math.abs(im[i] - wantIm[i]) < 1e-9,
        `F[${i}]: ${re[i]}, ${im[i]}`,
      );
    }
  });
}

for (const size of [16, 15]) {
  test(`the audit's ${size} px spectrum profile is the ring mean of 20 ln|F| of the direct DFT, min-max scaled`, () => {
    const rng = makeRng(100 + size);
    const pixels = Uint8Array.from({ length: size * size * 3 }, () => Math.floor(rng() * 256));
    const grey = Float64Array.from(
      { length: size * size },
      (_, i) => (pixels[3 * i] + pixels[3 * i + 1] + pixels[3 * i + 2]) / 3,
    );
    const [re, im] = directDft2d(grey, new Float64Array(size * size), size);
    const bins = Math.floor(size / 2);
    const sums = new Array<number>(bins).fill(0);
    const counts = new Array<number>(bins).fill(0);
    const signed = (k: number) => (k <= (size - 1) / 2 ? k : k - size); // frequency of DFT index k
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) {
        const r = Math.floor(Math.hypot(signed(y), signed(x)));
        if (r >= bins) continue;
        sums[r] += 20 * Math.log(Math.hypot(re[y * size + x], im[y * size + x]) + 1e-8);
        counts[r]++;
      }
    const means = sums.map((v, r) => v / counts[r]);
    const [lo, hi] = [Math.min(...means), Math.max(...means)];
    const got = azimuthalSpectrum(pixels, size);
    assert.equal(got.length, bins);
    means.forEach((m, r) => assert.ok(Math.abs(got[r] - (m - lo) / (hi - lo)) < 1e-5, `ring ${r}: ${got[r]}`));
  });
}

for (const size of [64, 48]) {
  test(`a ${size} px image of vertical stripes at 8 cycles peaks at horizontal frequency 8 (${size === 64 ? 'fft.js' : 'direct DFT'})`, () => {
    const k = 8;
    const image = new Float64Array(size * size);
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) image[y * size + x] = 0.5 + 0.4 * Math.cos((2 * Math.PI * k * x) / size);
    const s = logMagnitudeSpectrum(image, size);
    const half = size / 2;
    const peak = argmax(s);
    const [py, px] = [Math.floor(peak / size), peak % size];
    assert.equal(py, half, 'on the horizontal axis through the centre');
    assert.equal(Math.abs(px - half), k, `at +-${k} cycles`);
    // |F| at the peak is 0.4 / 2 * size^2 (half the amplitude goes to each of +-k).
    assert.ok(Math.abs(s[peak] - Math.log1p(0.2 * size * size)) < 1e-6, 'peak magnitude');
    const radial = azimuthalAverage(s, size);
    assert.equal(argmax(radial), k, 'the 1D spectrum peaks at radius k');
  });
}

test('class spectra: fakes with a periodic trace differ from reals at that frequency', () => {
  const size = 64;
  const rng = makeRng(1);
  const n = 8;
  const x = new Uint8Array(n * size * size * 3);
  const labels = [0, 0, 0, 0, 1, 1, 1, 1];
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < size * size; p++) {
      const col = p % size;
      const trace = labels[i] === 1 ? 20 * (col % 2 === 0 ? 1 : -1) : 0; // Nyquist-frequency checkerboard columns
      for (let c = 0; c < 3; c++)
        x[(i * size * size + p) * 3 + c] = Math.max(0, Math.min(255, Math.round(128 + 30 * (rng() - 0.5) + trace)));
    }
  }
  const s = classSpectra(x, labels, [0, 1, 2, 3, 4, 5, 6, 7], size);
  assert.deepEqual(s.counts, { real: 4, fake: 4 });
  const peak = argmax(s.difference);
  assert.deepEqual(
    [Math.floor(peak / size), peak % size],
    [size / 2, 0],
    'the difference peaks at the horizontal Nyquist frequency',
  );
  assert.equal(s.fakeRadial.length, size / 2 + 1, '1D spectra from radius 0 to size / 2');
});

/**
 * A model whose answer depends on one known region: only red light counts as evidence for "fake", and the
 * test images carry red only in their top-left 8 x 8 corner (green elsewhere). Layers: conv "evidence" (1x1:
 * channel 0 = red, channel 1 = green) > max-pool 2 > conv "last" (1x1 identity, the last convolution) >
 * global average pool > dense 2 (fake unit reads red, real unit reads green) > sigmoid.
 */
function regionModel(size: number): tf.LayersModel {
  const model = tf.sequential();
  model.add(
    tf.layers.conv2d({
      inputShape: [size, size, 3],
      filters: 2,
      kernelSize: 1,
      activation: 'relu',
      name: 'evidence',
      weights: [tf.tensor4d([1, 0, 0, 1, 0, 0], [1, 1, 3, 2]), tf.zeros([2])],
    }),
  );
  model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  model.add(
    tf.layers.conv2d({
      filters: 2,
      kernelSize: 1,
      activation: 'relu',
      name: 'last',
      weights: [tf.tensor4d([1, 0, 0, 1], [1, 1, 2, 2]), tf.zeros([2])],
    }),
  );
  model.add(tf.layers.globalAveragePooling2d({}));
  model.add(
    tf.layers.dense({
      units: 2,
      activation: 'sigmoid',
      weights: [
        tf.tensor2d([
          [0, 8],
          [8, 0],
        ]),
        tf.tensor1d([-1, -1]),
      ],
    }),
  );
  return model;
}

test('Grad-CAM on a model whose answer depends on one known region highlights that region', async () => {
  await initBackend('cpu');
  const size = 32;
  const model = regionModel(size);
  assert.equal(lastConvLayerName(model), 'last');
  const pixels = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const inRegion = y < 8 && x < 8;
      pixels[(y * size + x) * 3 + (inRegion ? 0 : 1)] = inRegion ? 255 : 60;
    }
  const image = Float32Array.from(pixels, (v) => v / 255);
  const cam = gradCam(model, image, size, { target: 'fake' });
  assert.equal(cam.heatmap.length, size * size);
  let inside = 0;
  let outside = 0;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      if (y < 8 && x < 8) inside += cam.heatmap[y * size + x];
      else outside += cam.heatmap[y * size + x];
    }
  }
  const peak = argmax(cam.heatmap);
  assert.ok(
    Math.floor(peak / size) < 8 && peak % size < 8,
    `the peak (${Math.floor(peak / size)}, ${peak % size}) is in the top-left region`,
  );
  assert.ok(
    inside / (inside + outside) > 0.9,
    `the map's mass is in the region (${(inside / (inside + outside)).toFixed(3)})`,
  );
  assert.ok(Math.abs(Math.max(...cam.heatmap) - 1) < 1e-6, 'scaled to a maximum of 1');
  // Explaining "real" instead points at the green area.
  const real = gradCam(model, image, size, { target: 'real' });
  assert.equal(real.target, 'real');
  assert.ok(
    real.heatmap[(size - 1) * size + size - 1] > 0.5 && real.heatmap[0] < 0.5,
    'real evidence is outside the region',
  );
  // The overlay is a PNG of the enlarged image.
  const explained = await explainImage(model, pixels, size, { target: 'fake', scale: 4 });
  const meta = await sharp(explained.overlay).metadata();
  assert.deepEqual([meta.format, meta.width, meta.height], ['png', 128, 128]);
  model.dispose();
});

test('Grad-CAM runs on the study model (last convolution: the dilated conv6)', async () => {
  await initBackend('wasm');
  const model = buildModel({ imageSize: 64, dropout: 0.5, seed: 3 });
  assert.equal(lastConvLayerName(model), 'conv6');
  const rng = makeRng(2);
  const image = Float32Array.from({ length: 64 * 64 * 3 }, () => rng());
  const cam = gradCam(model, image, 64);
  assert.equal(cam.heatmap.length, 64 * 64);
  assert.ok(cam.heatmap.every((v) => Number.isFinite(v) && v >= 0 && v <= 1 + 1e-6));
  const expected = (model.predict(tf.tensor4d(image, [1, 64, 64, 3])) as tf.Tensor).dataSync();
  assert.ok(Math.abs(cam.pFake - expected[1] / (expected[0] + expected[1])) < 1e-5, 'pFake as the model computes it');
  model.dispose();
});

test('perturbations: JPEG and blur change the image, noise is seeded, resize keeps the size', async () => {
  const size = 64;
  const rng = makeRng(4);
  const pixels = Uint8Array.from({ length: size * size * 3 }, () => Math.floor(rng() * 256));
  const meanAbs = (a: Uint8Array, b: Uint8Array) => a.reduce((s, v, i) => s + Math.abs(v - b[i]), 0) / a.length;
  const q95 = await applyPerturbation(pixels, size, [{ kind: 'jpeg', quality: 95 }], rng);
  const q30 = await applyPerturbation(pixels, size, [{ kind: 'jpeg', quality: 30 }], rng);
  assert.equal(q30.length, pixels.length);
  assert.ok(meanAbs(q30, pixels) > meanAbs(q95, pixels), 'lower JPEG quality, larger change');
  const blurred = await applyPerturbation(pixels, size, [{ kind: 'blur', sigma: 2 }], rng);
  assert.ok(meanAbs(blurred, pixels) > 20, 'blur smooths white noise a lot');
  const resized = await applyPerturbation(pixels, size, [{ kind: 'resize', scale: 0.5 }], rng);
  assert.equal(resized.length, pixels.length);
  const a = await applyPerturbation(pixels, size, [{ kind: 'noise', sigma: 5 }], makeRng(9));
  const b = await applyPerturbation(pixels, size, [{ kind: 'noise', sigma: 5 }], makeRng(9));
  assert.deepEqual(a, b, 'seeded noise');
  assert.ok(
    Math.abs(meanAbs(a, pixels) - 5 * Math.sqrt(2 / Math.PI)) < 0.5,
    'noise of sigma 5 (mean |N(0, 5)| = 3.99, less clipping)',
  );
  const families = new Set(DEFAULT_PERTURBATIONS.map((p) => p.family));
  for (const f of ['jpeg', 'resize', 'blur', 'noise']) assert.ok(families.has(f));
  assert.ok(
    DEFAULT_PERTURBATIONS.some((p) => p.steps.length > 1),
    'combinations are in the grid',
  );
});

test('robustness grid: a scorer that reads pixel noise loses its edge under blur', async () => {
  const size = 64;
  const rng = makeRng(5);
  // Fakes are smooth, reals noisy; the scorer calls smooth images fake.
  const images: Uint8Array[] = [];
  const labels: number[] = [];
  for (let i = 0; i < 16; i++) {
    const fake = i % 2;
    labels.push(fake);
    images.push(Uint8Array.from({ length: size * size * 3 }, () => 128 + (fake ? 0 : Math.round(40 * (rng() - 0.5)))));
  }
  const roughness = (img: Uint8Array) =>
    img.reduce((s, v, i) => (i >= 3 ? s + Math.abs(v - img[i - 3]) : s), 0) / img.length;
  const score = async (imgs: Uint8Array[]) => imgs.map((img) => 1 / (1 + roughness(img)));
  const rows = await robustnessGrid(images, labels, size, score, {
    perturbations: [{ family: 'blur', level: 'σ2', steps: [{ kind: 'blur', sigma: 2 }] }],
  });
  assert.deepEqual(
    rows.map((r) => r.family),
    ['clean', 'blur'],
  );
  assert.equal(rows[0].accuracy, 1);
  assert.equal(rows[0].auc, 1);
  assert.ok(rows[1].accuracy < 1, `blur makes the reals look smooth (accuracy ${rows[1].accuracy})`);
  const fig = robustnessFigure(rows, 'accuracy');
  assert.deepEqual(fig.data[0].y, ['clean', 'blur']);
});
