/**
 * The native libjpeg-turbo decoder (native/src/jpeg_decode.cc, lib/data/jpeg-native.ts) against PIL and against
 * sharp: PIL's pixels bit for bit (full decodes and the nearest-sampled rows it keeps, with and without skipping the
 * rows nobody reads), the same arrays as the sharp path, and the same errors for bad files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { loadNativeAddon } from '../lib/backend/native-addon';
import { decodeImageRgb, loadImageRgb, loadImageRgbFromBuffer, pilNearestIndices } from '../lib/data/images';
import { imageFacts, jpegHeaderFacts } from '../lib/data/image-facts';
import { describeJpegDecoder, jpegHeaderNative, setJpegDecoder } from '../lib/data/jpeg-native';
import { synthImage } from '../lib/data/synth';
import { SHARED } from './fixtures/faces';
import { pythonSkip, runPython } from './fixtures/python';
import { toolSkip } from './helpers/tools';

interface JpegAddon {
  decodeJpeg(
    jpeg: Uint8Array,
    out: Uint8Array,
    params: Float64Array,
    xs: Int32Array | null,
    ys: Int32Array | null,
  ): Promise<void>;
}
const loaded = loadNativeAddon();
const addon =
  'addon' in loaded && typeof (loaded.addon as unknown as Partial<JpegAddon>).decodeJpeg === 'function'
    ? (loaded.addon as unknown as JpegAddon)
    : undefined;
const nativeSkip = toolSkip(
  addon
    ? false
    : `native JPEG decoder not built (${'missing' in loaded ? loaded.missing : 'libjpeg62-turbo-dev absent at npm ci'})`,
);
const pilSkip = pythonSkip('PIL');
const skip = nativeSkip || pilSkip;
const STUDY_FAKES = path.join(SHARED, 'study-like', 'fake');
const SIZES = [128, 64, 29, 300];

/**
 * JPEGs of every kind the decoder takes, written by PIL (chroma 4:4:4, 4:2:2, 4:2:0; baseline and progressive; grey;
 * odd sizes; EXIF orientation 6) and by sharp (mozjpeg: trellis quantisation, its own tables), plus CMYK (sharp path).
 */
async function corpus(dir: string): Promise<string[]> {
  const face = await sharp(await synthImage(3, 1, 5, 256, 0.5))
    .resize(640, 480)
    .png()
    .toBuffer();
  fs.writeFileSync(path.join(dir, 'face.png'), face);
  runPython(
    `
import sys
from PIL import Image
d = sys.argv[1]
src = Image.open(f'{d}/face.png').convert('RGB')
for w, h in [(1024, 1024), (1023, 767), (37, 29), (255, 129), (8, 8), (17, 300)]:
    im = src.resize((w, h), Image.BILINEAR)
    for sub in (0, 1, 2):
        for prog in (False, True):
            im.save(f'{d}/pil-{w}x{h}-s{sub}-p{int(prog)}.jpg', quality=85 + 5 * sub, subsampling=sub, progressive=prog)
    im.convert('L').save(f'{d}/pil-{w}x{h}-grey.jpg', quality=90)
    im.convert('CMYK').save(f'{d}/pil-{w}x{h}-cmyk.jpg', quality=90)
exif = Image.Exif()
exif[0x0112] = 6
src.save(f'{d}/pil-orientation6.jpg', quality=90, exif=exif.tobytes())
`,
    dir,
  );
  const base = sharp(face);
  await base.clone().jpeg({ quality: 97, chromaSubsampling: '4:4:4' }).toFile(path.join(dir, 'sharp-444.jpg'));
  await base
    .clone()
    .resize(1024, 1024)
    .jpeg({ quality: 90, mozjpeg: true })
    .toFile(path.join(dir, 'sharp-mozjpeg.jpg'));
  await base
    .clone()
    .resize(333, 517)
    .jpeg({ quality: 75, progressive: true })
    .toFile(path.join(dir, 'sharp-progressive.jpg'));
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.jpg'))
    .sort()
    .map((f) => path.join(dir, f));
}

/** PIL's Keras load_img (open, convert RGB, resize NEAREST) at each size, and its full decode, into files. */
function pilOutputs(files: string[]): Map<string, [number, number]> {
  const out = runPython(
    `
import sys
from PIL import Image
for f in sys.argv[2:]:
    im = Image.open(f)
    if im.mode != 'RGB': im = im.convert('RGB')
    open(f + '.full', 'wb').write(im.tobytes())
    for s in map(int, sys.argv[1].split(',')):
        open(f'{f}.{s}', 'wb').write(im.resize((s, s), Image.NEAREST).tobytes())
    print(f, im.size[0], im.size[1])
`,
    SIZES.join(','),
    ...files,
  );
  return new Map(
    out
      .trim()
      .split('\n')
      .map((line) => {
        const [f, w, h] = line.split(' ');
        return [f, [Number(w), Number(h)]];
      }),
  );
}

const same = (a: Uint8Array, b: Uint8Array) =>
  a.length === b.length && Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

test(
  "native JPEG decode gives PIL's pixels: full decode and nearest sampling, rows skipped or not",
  { skip },
  async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'realfake-jpeg-'));
    const files = (await corpus(dir)).filter((f) => !path.basename(f).startsWith('study-fake-'));
    // Real thispersondoesnotexist JPEGs (q ~97), the study's fakes, when the shared data is there.
    // Copied into the temporary folder: PIL's outputs are written beside each file, never into the shared data.
    const fakes = fs.existsSync(STUDY_FAKES)
      ? fs
          .readdirSync(STUDY_FAKES)
          .filter((f) => f.endsWith('.jpg'))
          .sort()
          .slice(0, 6)
          .map((f) => {
            fs.copyFileSync(path.join(STUDY_FAKES, f), path.join(dir, `study-fake-${f}`));
            return path.join(dir, `study-fake-${f}`);
          })
      : [];
    if (fakes.length === 0) toolSkip(`${STUDY_FAKES} absent (the study-like data; see GUIDE): real JPEGs not checked`);
    const sizes = pilOutputs([...files, ...fakes]);
    assert.ok(files.length >= 40, `corpus has ${files.length} JPEGs`);
    setJpegDecoder('native');
    try {
      let sampled = 0;
      for (const file of [...files, ...fakes]) {
        const name = path.basename(file);
        const [w, h] = sizes.get(file)!;
        const jpeg = fs.readFileSync(file);
        const cmyk = name.includes('cmyk');
        if (!cmyk) {
          // The addon itself: whole image, then each size with and without jpeg_skip_scanlines.
          const full = new Uint8Array(w * h * 3);
          await addon!.decodeJpeg(jpeg, full, Float64Array.of(w, h, 0), null, null);
          assert.ok(same(full, fs.readFileSync(`${file}.full`)), `${name}: full decode differs from PIL`);
          for (const size of SIZES) {
            for (const skipRows of [0, 1]) {
              const out = new Uint8Array(size * size * 3);
              await addon!.decodeJpeg(
                jpeg,
                out,
                Float64Array.of(w, h, skipRows),
                pilNearestIndices(size, w),
                pilNearestIndices(size, h),
              );
              assert.ok(
                same(out, fs.readFileSync(`${file}.${size}`)),
                `${name} at ${size}, skipRows ${skipRows}: differs from PIL`,
              );
              sampled++;
            }
          }
        } else {
          // CMYK is refused (sharp decodes it with PIL's formula).
          await assert.rejects(
            addon!.decodeJpeg(jpeg, new Uint8Array(w * h * 3), Float64Array.of(w, h, 0), null, null),
            /CMYK/,
          );
        }
        // The public loaders, whichever decoder they pick for this file.
        assert.ok(
          same((await decodeImageRgb(file)).data, fs.readFileSync(`${file}.full`)),
          `${name}: decodeImageRgb differs from PIL`,
        );
        for (const size of SIZES) {
          assert.ok(
            same(await loadImageRgb(file, size, 'nearest'), fs.readFileSync(`${file}.${size}`)),
            `${name} at ${size}: loadImageRgb differs`,
          );
        }
      }
      assert.ok(sampled >= 300, `${sampled} sampled decodes checked`);
    } finally {
      setJpegDecoder(undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
);

test('the native and sharp JPEG paths give identical arrays', { skip: nativeSkip }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'realfake-jpeg-'));
  try {
    const files: string[] = [];
    for (const [i, [w, h, chroma, progressive]] of (
      [
        [1024, 1024, '4:2:0', false],
        [501, 333, '4:4:4', true],
        [64, 97, '4:2:0', true],
      ] as const
    ).entries()) {
      const file = path.join(dir, `${i}.jpg`);
      await sharp(await synthImage(9, (i % 2) as 0 | 1, i, 256, 0.5))
        .resize(w, h, { fit: 'fill' })
        .jpeg({ quality: 92, chromaSubsampling: chroma, progressive })
        .toFile(file);
      files.push(file);
    }
    const decodeAll = async (decoder: 'native' | 'sharp') => {
      setJpegDecoder(decoder);
      const out: Uint8Array[] = [];
      for (const file of files) {
        out.push((await decodeImageRgb(file)).data);
        for (const size of [128, 64]) out.push(await loadImageRgb(file, size, 'nearest'));
        out.push(await loadImageRgbFromBuffer(fs.readFileSync(file), 128, 'nearest', file));
      }
      return out;
    };
    const native = await decodeAll('native');
    assert.match(describeJpegDecoder(), /^libjpeg-turbo \d/);
    const viaSharp = await decodeAll('sharp');
    assert.match(describeJpegDecoder(), /^sharp/);
    assert.equal(native.length, viaSharp.length);
    native.forEach((a, i) => assert.ok(same(a, viaSharp[i]), `array ${i} differs between decoders`));
  } finally {
    setJpegDecoder(undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('bad JPEGs fail (or pass) with the same message whichever decoder is in use', { skip: nativeSkip }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'realfake-jpeg-'));
  try {
    const good = await sharp(await synthImage(4, 0, 1, 256, 0.5))
      .jpeg({ quality: 90 })
      .toBuffer();
    const corrupt = Buffer.from(good);
    for (let i = Math.floor(good.length / 2); i < Math.floor(good.length / 2) + 64; i++) corrupt[i] = 0xff;
    const cases: Record<string, Buffer> = {
      'truncated-half.jpg': good.subarray(0, Math.floor(good.length / 2)),
      'truncated-header.jpg': good.subarray(0, 40),
      'no-eoi.jpg': good.subarray(0, good.length - 2),
      'corrupt-middle.jpg': corrupt,
      'soi-only.jpg': Buffer.from([0xff, 0xd8, 0xff]),
      'tiny.jpg': await sharp(await synthImage(4, 0, 1, 256, 0.5))
        .resize(5, 5)
        .jpeg()
        .toBuffer(),
    };
    const outcome = async (file: string) => {
      try {
        return `ok ${Buffer.from(await loadImageRgb(file, 32, 'nearest')).toString('base64')}`;
      } catch (err) {
        return (err as Error).message;
      }
    };
    const outcomes: string[] = [];
    for (const [name, bytes] of Object.entries(cases)) {
      const file = path.join(dir, name);
      fs.writeFileSync(file, bytes);
      setJpegDecoder('sharp');
      const expected = await outcome(file);
      setJpegDecoder('native');
      assert.equal(await outcome(file), expected, name);
      outcomes.push(`${name}: ${expected.slice(0, 80)}`);
      if (!expected.startsWith('ok ')) assert.ok(expected.startsWith(`${file}: `), `${name}: ${expected}`);
    }
    // Truncated data is an error (sharp's failOn 'error'); a smudge libjpeg only warns about passes, as in PIL.
    assert.equal(outcomes.filter((o) => !/: ok /.test(o)).length >= 4, true, outcomes.join('\n'));
  } finally {
    setJpegDecoder(undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("image facts from the native decoder's header are sharp's", { skip }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'realfake-jpeg-'));
  try {
    const files = await corpus(dir);
    const face = fs.readFileSync(path.join(dir, 'face.png'));
    const icc = path.join(dir, 'sharp-icc-xmp.jpg');
    await sharp(face)
      .withIccProfile('p3')
      .withXmp('<x:xmpmeta xmlns:x="adobe:ns:meta/"></x:xmpmeta>')
      .jpeg({ quality: 80 })
      .toFile(icc);
    files.push(icc);
    let compared = 0;
    let exif = 0;
    for (const file of files) {
      const bytes = fs.readFileSync(file);
      const header = jpegHeaderNative(bytes);
      if (!header) {
        assert.match(path.basename(file), /cmyk/, `${file}: the native decoder should take it`);
        continue;
      }
      const facts = jpegHeaderFacts(bytes, header);
      if (header.exif) {
        assert.equal(facts, undefined, `${file}: EXIF is left to sharp`);
        exif++;
        continue;
      }
      assert.deepEqual(facts, await imageFacts(bytes, file), file);
      compared++;
    }
    assert.ok(compared >= 40 && exif === 1, `compared ${compared}, EXIF ${exif}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
