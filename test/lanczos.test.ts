/**
 * lib/faces/lanczos.ts against sharp itself: the page's in-browser shrink must give the pixels the server's
 * sharp (lanczos3) gives, up to libvips' fixed-point rounding.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { shrinkLanczos3 } from '../lib/faces/lanczos';
import { noiseRgba, fromRaw } from './fixtures/images';

/** A smooth picture with edges and noise: gradients, a disc, and fine grain (all three stress a resampler). */
async function picture(width: number, height: number): Promise<Uint8Array> {
  const noise = await fromRaw(noiseRgba(width, height), width, height, 4).removeAlpha().raw().toBuffer();
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const disc = (x - width / 2) ** 2 + (y - height / 3) ** 2 < (width / 5) ** 2 ? 120 : 0;
      data[i] = Math.min(255, (x * 255) / width + noise[i] * 0.1);
      data[i + 1] = Math.min(255, (y * 200) / height + disc * 0.3);
      data[i + 2] = (disc + noise[i + 2] * 0.5) & 255;
    }
  return data;
}

for (const [width, height, outWidth, outHeight] of [
  [300, 300, 224, 224],
  [256, 256, 224, 224],
  [601, 590, 224, 224],
  [1000, 1000, 224, 224],
  [500, 260, 128, 128],
  [224, 300, 224, 224],
]) {
  test(`shrinkLanczos3 ${width}x${height} to ${outWidth}x${outHeight} gives sharp's lanczos3 pixels (within 3 levels)`, async () => {
    const src = await picture(width, height);
    const expected = await sharp(src, { raw: { width, height, channels: 3 } })
      .resize({ width: outWidth, height: outHeight, fit: 'fill', kernel: 'lanczos3' })
      .raw()
      .toBuffer();
    const got = shrinkLanczos3(src, width, height, outWidth, outHeight);
    assert.equal(got.length, expected.length);
    let max = 0;
    let sumDiff = 0;
    for (let i = 0; i < got.length; i++) {
      const d = Math.abs(got[i] - expected[i]);
      max = Math.max(max, d);
      sumDiff += d;
    }
    assert.ok(max <= 3, `largest difference ${max}`);
    assert.ok(sumDiff / got.length < 0.25, `mean difference ${sumDiff / got.length}`);
  });
}

test('shrinkLanczos3 refuses to enlarge (sharp enlarges another way)', () => {
  assert.throws(() => shrinkLanczos3(new Uint8Array(10 * 10 * 3), 10, 10, 20, 20), /only shrinks/);
});
