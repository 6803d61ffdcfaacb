/**
 * The page in Debian's Chromium (playwright-core): a real and a fake face photo, a photo with two faces, one that
 * only the finder's BlazeFace pass finds and one only its first SSD pass finds (which runs only after BlazeFace's
 * hint), uploaded in server mode and in in-browser mode; the verdicts shown
 * match the API's, the browser's face boxes and crops are the server's, its scores within 1e-3, and in-browser
 * mode sends no image anywhere (every request is recorded). Then the exported static page, opened as a file.
 * Screenshots: outputs/serve/*.png. Skipped with a message when playwright-core or Chromium is missing.
 *
 * The model is an untrained (random) one: the verdicts say nothing about the faces, only that the page shows
 * what the model says. Images are PNG, so the browser decodes exactly the pixels sharp does.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { initBackend } from '../lib/backend/backend';
import { createServer, RealfakeServer } from '../lib/serve/server';
import { exportWebPage } from '../lib/serve/web-export';
import { decodeImageRgb } from '../lib/data/images';
import { Box } from '../lib/faces/crop';
import { detectFaces, FACE_DETECTOR, FacePass } from '../lib/faces/detector';
import sharp from 'sharp';
import {
  BLAZE_ONLY_REAL,
  facesDevPng,
  facesDevSkip,
  facesDiffusionDevSkip,
  SSD_AFTER_HINT,
  twoFacePhoto,
} from './fixtures/faces';
import { toolSkip } from './helpers/tools';
import { createFacesPresetRun, createRandomRun } from './fixtures/runs';
import { CHROMIUM_FLAGS, chromiumPath } from '../lib/viz/plots';

const ROOT = path.join(__dirname, '..', '..');
const SHOTS = path.join(ROOT, 'outputs', 'serve');
const CHROMIUM = chromiumPath();

function browserSkip(): string | false {
  const missing = !fs.existsSync(CHROMIUM) ? `${CHROMIUM} not found (apt-get install chromium)` : null;
  let playwright: string | null = null;
  try {
    require.resolve('playwright-core');
  } catch {
    playwright = 'playwright-core is not installed';
  }
  const reason = missing ?? playwright;
  return reason ? toolSkip(`${reason}: browser tests skipped`) : facesDevSkip() || facesDiffusionDevSkip();
}

const skip = browserSkip();
const KEYS = ['real', 'fake', 'two', 'blaze', 'ssd'];
let tmp: string;
let runDir: string;
let server: RealfakeServer;
let base: string;
const files: Record<string, string> = {};

before(async () => {
  if (skip) return;
  await initBackend('wasm');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'realfake-browser-'));
  runDir = await createRandomRun(tmp);
  server = await createServer({ runDir });
  base = await server.app.listen({ host: '127.0.0.1', port: 0 });
  files.real = path.join(tmp, 'real-face.png');
  files.fake = path.join(tmp, 'fake-face.png');
  files.two = path.join(tmp, 'two-faces.png');
  files.blaze = path.join(tmp, 'blaze-only-face.png');
  files.ssd = path.join(tmp, 'ssd-after-hint-face.png');
  fs.writeFileSync(files.real, await facesDevPng('real', 1));
  fs.writeFileSync(files.fake, await facesDevPng('fake', 1));
  fs.writeFileSync(files.two, (await twoFacePhoto()).png);
  fs.writeFileSync(files.blaze, await facesDevPng('real', BLAZE_ONLY_REAL));
  fs.writeFileSync(files.ssd, await sharp(SSD_AFTER_HINT).png().toBuffer());
  fs.mkdirSync(SHOTS, { recursive: true });
});

after(async () => {
  await server?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

interface Shown {
  status: string;
  /** The page's error message, if it shows one. */
  error?: string;
  verdicts: string[];
  faces: Array<{ box: Box; crop: Box; pFake: number; verdict: string }>;
}

/** Uploads one file through the file input and waits for its result item. */
async function upload(page: import('playwright-core').Page, file: string, mode: string): Promise<Shown> {
  const name = path.basename(file);
  const count = await page.locator(`#results > li[data-file="${name}"][data-mode="${mode}"]`).count();
  await page.setInputFiles('#file', file);
  const item = page.locator(`#results > li[data-file="${name}"][data-mode="${mode}"]`).nth(0);
  await page.waitForFunction(
    ([n, m, c]) => {
      const items = document.querySelectorAll(`#results > li[data-file="${n}"][data-mode="${m}"]`);
      return items.length > Number(c) && items[0].getAttribute('data-status') !== 'working';
    },
    [name, mode, String(count)],
    { timeout: 180_000 },
  );
  return item.evaluate((li) => ({
    status: li.getAttribute('data-status')!,
    error: li.querySelector('.error')?.textContent ?? undefined,
    verdicts: Array.from(li.querySelectorAll('.face')).map((f) => f.getAttribute('data-verdict')!),
    faces: ((li as unknown as { realfakeResult?: { faces: Shown['faces'] } }).realfakeResult?.faces ?? []).map((f) => ({
      box: f.box,
      crop: f.crop,
      pFake: f.pFake,
      verdict: f.verdict,
    })),
  }));
}

async function apiResult(file: string, server = base) {
  const response = await fetch(`${server}/api/v1/predict`, { method: 'POST', body: fs.readFileSync(file) });
  return (await response.json()) as { faces: Shown['faces'] };
}

/** Debian's Chromium with one page, and the page's uncaught errors and CSP violations as they come. */
async function openBrowser() {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
  const page = await browser.newPage({ viewport: { width: 1100, height: 1000 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // The server's Content-Security-Policy (lib/serve/security.ts) must allow everything the page does.
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) errors.push(m.text());
  });
  return { browser, page, errors };
}

/** The server's finder with only some of its passes (FACE_DETECTOR is read at each call). */
async function withPasses<T>(passes: readonly FacePass[], run: () => Promise<T>): Promise<T> {
  const finder = FACE_DETECTOR as unknown as { passes: readonly FacePass[] };
  const all = finder.passes;
  finder.passes = passes;
  try {
    return await run();
  } finally {
    finder.passes = all;
  }
}

test('the blaze and ssd photos are found by that pass: the passes before it find no face', { skip }, async () => {
  const first = {
    blaze: FACE_DETECTOR.passes.findIndex((p) => p.detector === 'blaze'),
    ssd: FACE_DETECTOR.passes.findIndex((p) => p.detector === 'ssd'),
  };
  for (const key of ['blaze', 'ssd'] as const) {
    assert.ok(first[key] > 0, `the finder has a ${key} pass after others`);
    const rgb = await decodeImageRgb(files[key]);
    const before = FACE_DETECTOR.passes.slice(0, first[key]);
    assert.deepEqual(await withPasses(before, () => detectFaces(rgb)), [], `${key}: the passes before find no face`);
    // With the next pass the finder finds it: for ssd, after BlazeFace's hint let it run.
    const upTo = FACE_DETECTOR.passes.slice(0, first[key] + 1);
    assert.equal((await withPasses(upTo, () => detectFaces(rgb))).length, 1, `${key}: that pass finds the face`);
  }
});

test(
  'the page in Chromium: server and in-browser modes agree with the API, and in-browser mode uploads nothing',
  { skip, timeout: 600_000 },
  async () => {
    const { browser, page, errors } = await openBrowser();
    try {
      const requests: Array<{ method: string; url: string; body: number }> = [];
      page.on('request', (r) =>
        requests.push({ method: r.method(), url: r.url(), body: r.postDataBuffer()?.length ?? 0 }),
      );
      await page.goto(`${base}/`);
      assert.equal(
        await page.isChecked('#mode-server'),
        true,
        'served by realfake serve, the page starts in server mode',
      );
      // Keyboard: the photo picker is a focusable, labelled button; the modes are labelled radio buttons.
      assert.equal(await page.getByRole('button', { name: 'Choose photos…' }).count(), 1);
      assert.equal(await page.getByLabel('In this browser (the photo never leaves this device)').count(), 1);

      const shown: Record<string, Record<string, Shown>> = { server: {}, browser: {} };
      for (const mode of ['server', 'browser']) {
        await page
          .getByLabel(
            mode === 'server'
              ? 'On the server (the photo is uploaded)'
              : 'In this browser (the photo never leaves this device)',
          )
          .check();
        const before = requests.length;
        for (const key of KEYS) shown[mode][key] = await upload(page, files[key], mode);
        await page.screenshot({ path: path.join(SHOTS, `page-${mode}-mode.png`), fullPage: true });
        const sent = requests.slice(before);
        if (mode === 'browser') {
          // No request may carry the image: no POST/PUT at all, no request body, only GETs of the page's own assets.
          assert.deepEqual(
            sent.filter((r) => r.method !== 'GET' || r.body > 0),
            [],
            'in-browser mode sent a request with a body',
          );
          assert.ok(
            sent.every((r) => r.url.startsWith(base) && !r.url.includes('/api/')),
            JSON.stringify(sent.map((r) => r.url)),
          );
        } else {
          // One POST per photo (with ?gradcam=1 when the run's model has a convolution to explain).
          const posts = sent.filter((r) => r.method === 'POST' && new URL(r.url).pathname === '/api/v1/predict');
          assert.equal(posts.length, KEYS.length);
          assert.equal((await page.locator('img.gradcam').count()) > 0, true, 'server mode shows Grad-CAM overlays');
        }
      }
      assert.deepEqual(errors, []);

      for (const key of KEYS) {
        const api = await apiResult(files[key]);
        assert.equal(shown.server[key].status, 'done', `${key}: server mode: ${shown.server[key].error}`);
        assert.equal(shown.browser[key].status, 'done', `${key}: browser mode: ${shown.browser[key].error}`);
        assert.equal(api.faces.length, key === 'two' ? 2 : 1, `${key}: faces found by the API`);
        // The verdicts shown are the API's, in both modes; the browser's boxes and crops are the server's, its
        // scores within 1e-3.
        assert.deepEqual(
          shown.server[key].verdicts,
          api.faces.map((f) => f.verdict),
          `${key}: server mode`,
        );
        assert.deepEqual(
          shown.browser[key].verdicts,
          api.faces.map((f) => f.verdict),
          `${key}: browser mode`,
        );
        shown.browser[key].faces.forEach((f, i) => {
          assert.deepEqual(f.box, api.faces[i].box, `${key} face ${i + 1}: box`);
          assert.deepEqual(f.crop, api.faces[i].crop, `${key} face ${i + 1}: crop`);
          assert.ok(
            Math.abs(f.pFake - api.faces[i].pFake) < 1e-3,
            `${key} face ${i + 1}: browser ${f.pFake} vs server ${api.faces[i].pFake}`,
          );
        });
      }
    } finally {
      await browser.close();
    }
  },
);

test(
  'the exported page works opened as a file, in-browser, and sends nothing',
  { skip, timeout: 600_000 },
  async () => {
    const out = path.join(tmp, 'web');
    await exportWebPage(runDir, out);
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
    try {
      const page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
      const requests: Array<{ method: string; url: string }> = [];
      page.on('request', (r) => requests.push({ method: r.method(), url: r.url() }));
      await page.goto(`file://${path.join(out, 'index.html')}`);
      assert.equal(await page.isChecked('#mode-browser'), true, 'a page opened as a file starts in browser mode');
      assert.equal(await page.isDisabled('#mode-server'), true);
      // The blaze and ssd photos too: BlazeFace's model comes from embedded.js here.
      for (const key of ['two', 'blaze', 'ssd']) {
        const shown = await upload(page, files[key], 'browser');
        const api = await apiResult(files[key]);
        assert.deepEqual(
          shown.verdicts,
          api.faces.map((f) => f.verdict),
          key,
        );
        shown.faces.forEach((f, i) => {
          assert.deepEqual(f.box, api.faces[i].box, `${key} face ${i + 1}: box`);
          assert.ok(Math.abs(f.pFake - api.faces[i].pFake) < 1e-3);
        });
      }
      await page.screenshot({ path: path.join(SHOTS, 'exported-page-file.png'), fullPage: true });
      assert.ok(
        requests.every((r) => r.method === 'GET' && /^(file|blob|data):/.test(r.url)),
        JSON.stringify(requests),
      );
    } finally {
      await browser.close();
    }
  },
);

test(
  "the faces preset (facefeat, 224 px, lanczos3) runs in the browser and gives the server's verdicts",
  { skip, timeout: 600_000 },
  async () => {
    // Faces whose crops are at least 224 px, so the page shrinks them as sharp does (lib/faces/lanczos.ts).
    const facesRun = await createFacesPresetRun(path.join(tmp, 'faces-preset'));
    const facesServer = await createServer({ runDir: facesRun });
    const facesBase = await facesServer.app.listen({ host: '127.0.0.1', port: 0 });
    const { browser, page, errors } = await openBrowser();
    try {
      await page.goto(`${facesBase}/`);
      assert.doesNotMatch((await page.textContent('#model-info')) ?? '', /unavailable/);
      await page.getByLabel('In this browser (the photo never leaves this device)').check();
      for (const key of ['real', 'fake']) {
        const shown = await upload(page, files[key], 'browser');
        const api = await apiResult(files[key], facesBase);
        assert.equal(shown.status, 'done');
        assert.equal(api.faces.length, 1, `${key}: faces found by the API`);
        assert.deepEqual(
          shown.verdicts,
          api.faces.map((f) => f.verdict),
        );
        shown.faces.forEach((f, i) => {
          assert.deepEqual(f.crop, api.faces[i].crop);
          assert.ok(
            Math.abs(f.pFake - api.faces[i].pFake) < 1e-3,
            `${key}: browser ${f.pFake} vs server ${api.faces[i].pFake}`,
          );
        });
      }
      await page.screenshot({ path: path.join(SHOTS, 'page-faces-preset-browser-mode.png'), fullPage: true });
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await facesServer.close();
    }
  },
);
