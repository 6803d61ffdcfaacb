/**
 * The page in Debian's Chromium (playwright-core) with a video: the 12 s two-face clip uploaded in server mode
 * shows exactly two tracked faces with the API's verdicts and a timeline each; in in-browser mode the page says
 * videos are checked on the server only and uploads nothing. Screenshot: outputs/serve/page-video.png.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { initBackend } from '../lib/backend/backend';
import { createServer, RealfakeServer } from '../lib/serve/server';
import { makeFaceClip } from '../lib/video/make-clip';
import { CHROMIUM_FLAGS, chromiumPath } from '../lib/viz/plots';
import { clipFaces, videoFacesSkip } from './fixtures/videos';
import { toolSkip } from './helpers/tools';
import { createRandomRun } from './fixtures/runs';

const SHOTS = path.join(__dirname, '..', '..', 'outputs', 'serve');
const CHROMIUM = chromiumPath();

function browserSkip(): string | false {
  if (!fs.existsSync(CHROMIUM))
    return toolSkip(`${CHROMIUM} not found (apt-get install chromium): browser tests skipped`);
  try {
    require.resolve('playwright-core');
  } catch {
    return toolSkip('playwright-core is not installed: browser tests skipped');
  }
  return videoFacesSkip();
}

const skip = browserSkip();
let tmp: string;
let server: RealfakeServer;
let base: string;
let clip: string;

before(async () => {
  if (skip) return;
  await initBackend('wasm');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'realfake-video-browser-'));
  const runDir = await createRandomRun(tmp);
  clip = path.join(tmp, 'two-faces.mp4');
  await makeFaceClip(clipFaces(), clip);
  server = await createServer({ runDir });
  base = await server.app.listen({ host: '127.0.0.1', port: 0 });
  fs.mkdirSync(SHOTS, { recursive: true });
});

after(async () => {
  await server?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

test(
  'the page in Chromium: a video shows one verdict and timeline per tracked face, as the API says',
  { skip, timeout: 300_000 },
  async () => {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
    try {
      const page = await browser.newPage({ viewport: { width: 1100, height: 1000 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      const posts: string[] = [];
      page.on('request', (r) => r.method() === 'POST' && posts.push(new URL(r.url()).pathname));
      await page.goto(`${base}/`);
      assert.match(
        (await page.textContent('#drop-help')) ?? '',
        /checked on the server only: in-browser mode checks photos only/,
      );
      const item = (mode: string) => `#results > li[data-file="two-faces.mp4"][data-mode="${mode}"]`;
      const settled = (mode: string) =>
        page.waitForFunction(
          (sel) => document.querySelector(sel)?.getAttribute('data-status') !== 'working',
          item(mode),
          {
            timeout: 240_000,
          },
        );

      await page.setInputFiles('#file', clip);
      await settled('server');
      const shown = await page.locator(item('server')).evaluate((li) => ({
        status: li.getAttribute('data-status'),
        verdicts: Array.from(li.querySelectorAll('.track')).map((t) => t.getAttribute('data-verdict')),
        timelines: li.querySelectorAll('.track svg.timeline polyline').length,
        points: li.querySelectorAll('.track svg.timeline circle').length,
      }));
      await page.screenshot({ path: path.join(SHOTS, 'page-video.png'), fullPage: true });
      assert.deepEqual(posts, ['/api/v1/predict/video']);

      const form = new FormData();
      form.append('video', new Blob([fs.readFileSync(clip)]), 'two-faces.mp4');
      const api = (await (await fetch(`${base}/api/v1/predict/video`, { method: 'POST', body: form })).json()) as {
        tracks: Array<{ verdict: string }>;
      };
      assert.equal(shown.status, 'done');
      assert.equal(api.tracks.length, 2);
      assert.deepEqual(
        shown.verdicts,
        api.tracks.map((t) => t.verdict),
      );
      assert.equal(shown.timelines, 2);
      assert.equal(shown.points, 48, 'one point per sampled frame of each face');
      assert.equal(await page.textContent('#status'), `Done. two-faces.mp4: ${shown.verdicts.join(', ')}`);

      // In-browser mode: videos are refused on the page, nothing is sent.
      await page.getByLabel('In this browser (the photo never leaves this device)').check();
      await page.setInputFiles('#file', clip);
      await settled('browser');
      assert.match((await page.textContent(item('browser'))) ?? '', /videos are checked on the server only/);
      assert.equal(await page.textContent('#status'), 'Done. two-faces.mp4: error');
      assert.deepEqual(posts, ['/api/v1/predict/video']);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  },
);
