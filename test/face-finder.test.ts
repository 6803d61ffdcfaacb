/**
 * The face finder on the shared face folders and on face-free pictures, against issue 20's targets: a face
 * found in >= 99 % of aligned crops and >= 97 % of portraits, false faces on <= 1 % of face-free pictures.
 * CI runs a fixed sample, every 10th file of each folder (sorted), to keep the test near two minutes;
 * `npm run bench:faces` measures whole folders (BENCHMARKS.md). Photos that show no whole face
 * (test/fixtures/no-whole-face.ts, judged by eye) are left out of the rate: there is no face to find.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { initBackend } from '../lib/backend/backend';
import { decodeImageRgb } from '../lib/data/images';
import { detectFaces } from '../lib/faces/detector';
import { SHARED } from './fixtures/faces';
import { noFaceImages } from './fixtures/no-faces';
import { noWholeFace } from './fixtures/no-whole-face';
import { toolSkip } from './helpers/tools';

const EVERY = 10;

/** Folder under ../shared and the target: the share of its photos showing a whole face where one is found. */
const TARGETS: Array<{ folder: string; target: number }> = [
  { folder: 'faces-dev/real', target: 0.99 },
  { folder: 'faces-dev/fake', target: 0.99 },
  { folder: 'study-like/real', target: 0.99 },
  { folder: 'study-like/fake', target: 0.99 },
  { folder: 'faces-diffusion-dev/real/amfd_lab', target: 0.97 },
  { folder: 'faces-diffusion-dev/fake/sd14_blonde_woman', target: 0.97 },
  { folder: 'faces-diffusion-dev/real/unsplash_men', target: 0.97 },
  // 91 of the sample's 92 whole faces (2026-12-06); the miss, 01000, is a face cut by the top edge behind sunglasses.
  { folder: 'faces-diffusion-dev/fake/sd1_eyewear', target: 0.97 },
];

before(() => initBackend('wasm'));

for (const { folder, target } of TARGETS) {
  const dir = path.join(SHARED, folder);
  const skip = fs.existsSync(dir) ? false : toolSkip(`${dir} not found (set REALFAKE_SHARED): finder test skipped`);
  test(
    `the face finder finds a face in >= ${target * 100} % of ${folder}'s whole faces (every ${EVERY}th photo)`,
    { skip },
    async () => {
      const faceless = noWholeFace(folder);
      const sample = fs
        .readdirSync(dir)
        .filter((f) => /\.(jpe?g|png)$/i.test(f))
        .sort()
        .filter((_, i) => i % EVERY === 0);
      const files = sample.filter((f) => !faceless.has(f));
      const missed: string[] = [];
      for (const file of files)
        if (!(await detectFaces(await decodeImageRgb(path.join(dir, file)))).length) missed.push(file);
      const rate = 1 - missed.length / files.length;
      const said = `${folder}: found in ${(rate * 100).toFixed(1)} % of ${files.length}; missed ${missed.join(', ')}`;
      assert.ok(rate >= target, said);
    },
  );
}

test('the face finder sees no face in at least 99 % of 100 face-free pictures', async () => {
  const pictures = await noFaceImages(100);
  const falseFaces: string[] = [];
  for (const p of pictures) if ((await detectFaces(await decodeImageRgb(p.png))).length) falseFaces.push(p.name);
  assert.ok(falseFaces.length <= 1, `false faces in ${falseFaces.join(', ')}`);
});
