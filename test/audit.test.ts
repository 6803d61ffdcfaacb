import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { auditFindings, auditFolders, auditSummary } from '../lib/audit/audit';
import { bootstrapAccuracyAuc } from '../lib/eval/bootstrap';
import { imageFacts } from '../lib/data/image-facts';
import { estimateJpegQuality, ijgTable, readQuantTables } from '../lib/data/jpeg-quality';
import { fitLogistic } from '../lib/audit/logistic';
import { runProbes } from '../lib/audit/probes';
import { azimuthalSpectrum } from '../lib/eval/spectrum';
import { initBackend } from '../lib/backend/backend';
import { resolveConfig } from '../lib/config';
import { loadDataset, readManifest } from '../lib/data/dataset';
import { harmonizedJpeg, HARMONIZED_SOURCE } from '../lib/data/harmonize';
import { datasetCacheIsFresh, preprocessFolders } from '../lib/data/preprocess';
import { generateSynthDataset } from '../lib/data/synth';
import { rocAuc } from '../lib/metrics/metrics';

const tmpDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'realfake-audit-'));

function noise(side: number, seed: number): Buffer {
  const data = Buffer.alloc(side * side * 3);
  let s = seed;
  for (let i = 0; i < data.length; i++) data[i] = (s = (s * 1103515245 + 12345) >>> 0) >>> 24;
  return data;
}

test('JPEG quality: the IJG quality libjpeg-turbo encoded with is recovered exactly from the DQT tables', async () => {
  const raw = { raw: { width: 32, height: 32, channels: 3 as const } };
  for (const quality of [10, 50, 75, 90, 97]) {
    const jpeg = await sharp(noise(32, quality), raw).jpeg({ quality, mozjpeg: false }).toBuffer();
    assert.deepEqual(estimateJpegQuality(jpeg), { quality, exact: true }, `q${quality}`);
  }
  // mozjpeg's own tables are not IJG's: an estimate, flagged as not exact.
  const moz = await sharp(noise(32, 1), raw).jpeg({ quality: 80, mozjpeg: true }).toBuffer();
  assert.equal(estimateJpegQuality(moz)?.exact, false);
  // Not a JPEG, or cut short before its tables: no estimate, no exception.
  const png = await sharp(noise(32, 2), raw).png().toBuffer();
  assert.equal(estimateJpegQuality(png), null);
  const jpeg = await sharp(noise(32, 3), raw).jpeg({ quality: 60 }).toBuffer();
  assert.equal(readQuantTables(jpeg.subarray(0, 30)).size, 0);
  // Annex K's luminance table at q50 is the table itself.
  assert.deepEqual(ijgTable([16, 11, 10], 50), [16, 11, 10]);
  assert.deepEqual(ijgTable([16, 11, 10], 100), [1, 1, 1]);
});

test('image facts: format, size, bytes per pixel, quality, colour mode, EXIF', async () => {
  const rgb = sharp(noise(40, 4), { raw: { width: 40, height: 20, channels: 3 } });
  const jpeg = await rgb
    .clone()
    .jpeg({ quality: 85 })
    .withExif({ IFD0: { Software: 'test' } })
    .toBuffer();
  const facts = await imageFacts(jpeg, 'x.jpg');
  assert.equal(facts.format, 'jpeg');
  assert.deepEqual(
    [facts.width, facts.height, facts.jpegQuality, facts.exif, facts.colourMode],
    [40, 20, 85, true, 'srgb'],
  );
  assert.equal(facts.bytesPerPixel, jpeg.length / 800);
  const png = await rgb.clone().ensureAlpha().png().toBuffer();
  const pngFacts = await imageFacts(png, 'x.png');
  assert.deepEqual(
    [pngFacts.format, pngFacts.jpegQuality, pngFacts.exif, pngFacts.colourMode],
    ['png', null, false, 'srgb+alpha'],
  );
  await assert.rejects(
    imageFacts(Buffer.from('not an image'), 'bad.png'),
    /^Error: bad\.png: cannot read image header/,
  );
});

test('bootstrap: seeded, percentile intervals around the point estimates', () => {
  const labels = [0, 0, 0, 0, 1, 1, 1, 1, 0, 1];
  const scores = [0.1, 0.4, 0.35, 0.8, 0.9, 0.7, 0.2, 0.6, 0.3, 0.55];
  const a = bootstrapAccuracyAuc(labels, scores, { seed: 3 });
  assert.deepEqual(a, bootstrapAccuracyAuc(labels, scores, { seed: 3 }));
  assert.equal(a.accuracy.value, 0.8); // hand count: 0.8 (fake at 0.8) and 0.2 (real at 0.2) are wrong
  assert.equal(a.auc.value, rocAuc(labels, scores));
  for (const i of [a.accuracy, a.auc]) assert.ok(i.lo <= i.value && i.value <= i.hi && i.lo >= 0 && i.hi <= 1);
  assert.ok(a.accuracy.hi - a.accuracy.lo > 0.2, 'ten images cannot give a narrow interval');
  const perfect = bootstrapAccuracyAuc([0, 1, 0, 1], [0.1, 0.9, 0.2, 0.8], { seed: 1 });
  assert.deepEqual([perfect.accuracy.lo, perfect.accuracy.hi, perfect.auc.lo, perfect.auc.hi], [1, 1, 1, 1]);
});

test('spectrum: stripes of period 4 peak at radius side / 4; profiles are min-max scaled; any side works', () => {
  const size = 32;
  const stripes = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) stripes.fill(x % 4 < 2 ? 200 : 50, (y * size + x) * 3, (y * size + x) * 3 + 3);
  const s = azimuthalSpectrum(stripes, size);
  assert.equal(s.length, size / 2);
  assert.equal(Math.max(...s), 1);
  assert.equal(Math.min(...s), 0);
  assert.ok(
    s[8] > s[7] && s[8] > s[9],
    `period-4 stripes should peak at radius 32 / 4 = 8: ${Array.from(s, (v) => v.toFixed(2))}`,
  );
  assert.ok(azimuthalSpectrum(new Uint8Array(size * size * 3).fill(128), size).every((v) => Number.isFinite(v)));
  assert.equal(azimuthalSpectrum(new Uint8Array(24 * 24 * 3).fill(7), 24).length, 12); // no padding (test/eval-views)
});

test('logistic regression (tfjs): separates separable data, and its weight follows the informative feature', async () => {
  await initBackend();
  const rows = Array.from({ length: 40 }, (_, i) => [i % 2 ? 2 + (i % 5) * 0.1 : -2 - (i % 3) * 0.1, (i * 7) % 5]);
  const labels = rows.map((_, i) => i % 2);
  const model = await fitLogistic(rows, labels);
  const p = model.predict(rows);
  assert.ok(labels.every((l, i) => (p[i] >= 0.5 ? 1 : 0) === l));
  assert.ok(Math.abs(model.weights[0]) > 5 * Math.abs(model.weights[1]));
  await assert.rejects(fitLogistic([], []), /no training rows/);
});

test('harmonised source: every image becomes a 128 px JPEG of the same quality, whatever it was', async () => {
  const png = await sharp(noise(64, 5), { raw: { width: 64, height: 64, channels: 3 } })
    .png()
    .toBuffer();
  const big = await sharp(noise(300, 6), { raw: { width: 300, height: 200, channels: 3 } })
    .jpeg({ quality: 99 })
    .toBuffer();
  for (const input of [png, big]) {
    const facts = await imageFacts(await harmonizedJpeg(input), 'h');
    assert.deepEqual(
      [facts.format, facts.width, facts.height, facts.jpegQuality],
      ['jpeg', HARMONIZED_SOURCE.side, HARMONIZED_SOURCE.side, HARMONIZED_SOURCE.quality],
    );
  }
});

/** Synthetic folders; 'study' formats make the files alone give the label away, difficulty 1 makes the pixels say nothing. */
async function synth(formats: 'same' | 'study', difficulty: number, count = 60) {
  const out = tmpDir();
  return generateSynthDataset({ out, count, size: 64, seed: 11, difficulty, formats });
}

test('preprocess --harmonize: recorded in dataset.json and the cache key; manifest gains audit columns', async () => {
  const { realDir, fakeDir } = await synth('study', 1, 4);
  const out = path.join(tmpDir(), 'ds');
  const base = { realDir, fakeDir, out, size: 64 };
  const plain = await preprocessFolders(base);
  assert.equal(plain.info.harmonize, false);
  const rows = readManifest(path.join(out, 'manifest.csv'));
  assert.deepEqual(
    rows.map((r) => `${r.facts?.format} ${r.facts?.width}`),
    [...Array(4).fill('png 64'), ...Array(4).fill('jpeg 256')],
  );
  assert.ok(
    fs
      .readFileSync(path.join(out, 'manifest.csv'), 'utf8')
      .startsWith(
        'path,label,status,reason,relative_path,source,format,width,height,file_bytes,bytes_per_pixel,jpeg_quality,colour_mode,exif\n',
      ),
  );
  assert.equal(datasetCacheIsFresh(base), true);
  assert.equal(datasetCacheIsFresh({ ...base, harmonize: true }), false);
  const harmonized = await preprocessFolders({ ...base, harmonize: true });
  assert.equal(harmonized.info.harmonize, true);
  assert.equal(datasetCacheIsFresh({ ...base, harmonize: true }), true);
  // The facts describe what the resize received: every image now a 128 px JPEG q90.
  const facts = readManifest(path.join(out, 'manifest.csv')).map(
    (r) => `${r.facts?.format} ${r.facts?.width} q${r.facts?.jpegQuality}`,
  );
  assert.deepEqual(new Set(facts), new Set(['jpeg 128 q90']));
  assert.equal(loadDataset(out).n, 8);
});

test('audit: the study-format synthetic set is flagged in plain words; a same-format set is not', async () => {
  const study = await synth('study', 0.3, 6);
  const rows = await auditFolders({ realDir: study.realDir, fakeDir: study.fakeDir });
  const findings = auditFindings(rows);
  assert.equal(findings[0], 'every fake is a 256x256 px JPEG; every real a 64x64 px PNG');
  assert.ok(
    findings.some((f) => f.startsWith('JPEG quality: every real is not a JPEG; every fake is JPEG quality 95')),
    findings.join('\n'),
  );
  const summary = auditSummary(rows);
  assert.deepEqual(
    summary.map((s) => [s.class, s.images, s.format, s['width x height']]),
    [
      ['real', 6, 'png', '64x64'],
      ['fake', 6, 'jpeg', '256x256'],
    ],
  );
  const same = await synth('same', 0.3, 6);
  const sameFindings = auditFindings(await auditFolders({ realDir: same.realDir, fakeDir: same.fakeDir }));
  assert.ok(!sameFindings.some((f) => /format|size:|JPEG/.test(f)), sameFindings.join('\n'));
  // A broken file is skipped with its reason; the audit goes on.
  fs.writeFileSync(path.join(same.realDir, 'zz-broken.png'), 'not a png');
  const skipped: string[] = [];
  const withBad = await auditFolders({
    realDir: same.realDir,
    fakeDir: same.fakeDir,
    onSkip: (f) => skipped.push(path.basename(f)),
  });
  assert.deepEqual(skipped, ['zz-broken.png']);
  assert.equal(withBad.filter((r) => r.status === 'ok').length, 12);
});

const probeConfig = resolveConfig({ overrides: { imageSize: 64, limitPerClass: 80, valFraction: 0.3, seed: 5 } });

test('probes, known answers: metadata-separable files score ~1.0', async () => {
  const { realDir, fakeDir } = await synth('study', 1, 80); // pixels alike (difficulty 1); files differ
  const out = path.join(tmpDir(), 'ds');
  await preprocessFolders({ realDir, fakeDir, out, size: 64 });
  const [metadata] = await runProbes(out, probeConfig, { probes: ['metadata'] });
  assert.equal(metadata.evalN, 48);
  assert.ok(metadata.accuracy.value >= 0.95 && metadata.auc.value >= 0.99, JSON.stringify(metadata));
});

test('probes, known answers: when only the label differs, every probe is at chance', async () => {
  const { realDir, fakeDir } = await synth('same', 1, 80); // one process for both classes, same format
  const out = path.join(tmpDir(), 'ds');
  await preprocessFolders({ realDir, fakeDir, out, size: 64 });
  const results = await runProbes(out, probeConfig, { cnn: { epochs: 3 } });
  assert.deepEqual(
    results.map((r) => r.probe),
    ['metadata', 'spectrum', 'cnn'],
  );
  for (const r of results) {
    assert.ok(
      r.auc.lo <= 0.5 && r.auc.hi >= 0.5,
      `${r.probe}: AUC interval ${JSON.stringify(r.auc)} should contain 0.5`,
    );
    assert.ok(r.accuracy.value < 0.7, `${r.probe}: accuracy ${r.accuracy.value}`);
  }
});
