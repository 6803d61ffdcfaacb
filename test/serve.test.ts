/**
 * realfake serve on a free loopback port: every endpoint and error path, the bad-file corpus of the
 * preprocessing tests, a full queue (503 + Retry-After), a 500 that leaks nothing, and graceful SIGTERM.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { initBackend } from '../lib/backend/backend';
import { loadImageRgbFromBuffer } from '../lib/data/images';
import { Predictor } from '../lib/infer/predict';
import { InferenceQueue, QueueFullError } from '../lib/serve/queue';
import { createServer, RealfakeServer } from '../lib/serve/server';
import { sniffImageType } from '../lib/serve/sniff';
import { badImageFiles, fromRaw, goodImageFiles, noiseRgba, pngWithClaimedSize } from './fixtures/images';
import { createRandomRun } from './fixtures/runs';

const ROOT = path.join(__dirname, '..', '..');
let tmp: string;
let runDir: string;
let server: RealfakeServer;
let base: string;
let photo: Buffer;

const MAX_BYTES = 300_000;

/** Response bodies, read field by field as the assertions go. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

before(async () => {
  await initBackend('wasm');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'realfake-serve-'));
  runDir = await createRandomRun(tmp);
  server = await createServer({ runDir, maxBytes: MAX_BYTES, maxPixels: 4_000_000, maxBatch: 4 });
  base = await server.app.listen({ host: '127.0.0.1', port: 0 });
  photo = await fromRaw(noiseRgba(96, 80, 7), 96, 80, 4)
    .removeAlpha()
    .png()
    .toBuffer();
});

after(async () => {
  await server?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function post(url: string, body: BodyInit | Buffer, headers: Record<string, string> = {}) {
  // A Buffer goes as a plain Uint8Array copy: fetch's types take no Buffer over a possibly shared ArrayBuffer.
  const response = await fetch(base + url, {
    method: 'POST',
    body: Buffer.isBuffer(body) ? new Uint8Array(body) : body,
    headers,
  });
  return { status: response.status, headers: response.headers, json: (await response.json()) as Json };
}

function form(files: Record<string, Buffer>): FormData {
  const data = new FormData();
  for (const [name, bytes] of Object.entries(files))
    data.append(name.split('/')[0], new Blob([new Uint8Array(bytes)]), name.split('/').pop());
  return data;
}

test('health, model, openapi and the page', async () => {
  const health = (await (await fetch(`${base}/api/v1/health`)).json()) as Json;
  assert.equal(health.status, 'ok');
  assert.deepEqual(health.queue, { running: 0, queued: 0, concurrency: 1, maxQueued: 32 });
  const model = (await (await fetch(`${base}/api/v1/model`)).json()) as Json;
  assert.equal(model.run, path.basename(runDir));
  assert.equal(model.imageSize, 64);
  assert.equal(model.config.imageSize, 64);
  assert.equal(model.inBrowser.available, true);
  assert.equal(model.detector.inputSize, 416);
  const doc = (await (await fetch(`${base}/api/v1/openapi.json`)).json()) as Json;
  assert.equal(doc.openapi, '3.1.0');
  assert.deepEqual(Object.keys(doc.paths).sort(), [
    '/api/v1/health',
    '/api/v1/model',
    '/api/v1/openapi.json',
    '/api/v1/predict',
    '/api/v1/predict/batch',
    '/api/v1/predict/video',
  ]);
  const page = await fetch(`${base}/`);
  assert.match(page.headers.get('content-type')!, /text\/html/);
  const html = await page.text();
  assert.match(html, /<script src="app.js">/);
  // Everything the page loads is served locally, with no absolute (CDN) URL anywhere.
  assert.doesNotMatch(html, /https?:\/\//);
  for (const src of [...html.matchAll(/(?:src|href)="([^"#:]+)"/g)].map((m) => m[1])) {
    const response = await fetch(`${base}/${src}`);
    assert.equal(response.status, 200, src);
    await response.arrayBuffer();
  }
  const onnx = await fetch(`${base}/model/model.onnx`);
  assert.equal(onnx.status, 200);
  assert.ok((await onnx.arrayBuffer()).byteLength > 100_000);
});

test('predict: multipart and raw bodies give the scores the predictor gives for the same pixels', async () => {
  const predictor = await Predictor.fromRun(runDir);
  const [expected] = await predictor.predictPixels([await loadImageRgbFromBuffer(photo, 64, 'nearest')]);
  await predictor.dispose();
  const multi = await post('/api/v1/predict?faces=whole', form({ 'image/photo.png': photo }));
  assert.equal(multi.status, 200, JSON.stringify(multi.json));
  assert.equal(multi.json.faces.length, 1);
  const face = multi.json.faces[0];
  assert.deepEqual(face.box, { x: 0, y: 0, width: 96, height: 80 });
  assert.ok(Math.abs(face.pFake - expected) < 1e-5, `${face.pFake} vs ${expected}`);
  assert.equal(face.verdict, expected >= 0.5 ? 'Fake (AI-generated)' : 'Real');
  assert.ok(Math.abs(face.confidence - (expected >= 0.5 ? expected : 1 - expected)) < 1e-5);
  assert.equal(multi.json.type, 'png');
  assert.equal(multi.json.model.run, path.basename(runDir));
  assert.ok(multi.json.ms > 0);
  const raw = await post('/api/v1/predict?faces=whole', photo, { 'content-type': 'application/octet-stream' });
  assert.equal(raw.status, 200);
  assert.equal(raw.json.faces[0].pFake, face.pFake);
  // The Content-Type is ignored: the bytes say what the image is.
  const mislabelled = await post('/api/v1/predict?faces=whole', photo, { 'content-type': 'image/jpeg' });
  assert.equal(mislabelled.json.type, 'png');
  const detect = await post('/api/v1/predict', photo, { 'content-type': 'image/png' });
  assert.equal(detect.status, 200);
  assert.deepEqual(detect.json.faces, []);
  assert.equal(detect.json.message, 'no face found');
});

test('gradcam=1 adds a Grad-CAM overlay (PNG data URL) per face, and the model says it can', async () => {
  const model = (await (await fetch(`${base}/api/v1/model`)).json()) as Json;
  assert.equal(model.gradcam, true);
  const plain = await post('/api/v1/predict?faces=whole', photo, { 'content-type': 'image/png' });
  assert.equal(plain.json.faces[0].gradcam, undefined);
  const explained = await post('/api/v1/predict?faces=whole&gradcam=1', photo, { 'content-type': 'image/png' });
  assert.equal(explained.status, 200, JSON.stringify(explained.json));
  const url: string = explained.json.faces[0].gradcam;
  assert.match(url, /^data:image\/png;base64,/);
  const meta = await sharp(Buffer.from(url.slice(url.indexOf(',') + 1), 'base64')).metadata();
  assert.equal(meta.format, 'png');
  assert.equal(meta.width, meta.height);
  assert.equal((meta.width ?? 0) % 64, 0, 'the overlay is the 64 px model input, enlarged');
  assert.equal(explained.json.faces[0].pFake, plain.json.faces[0].pFake);
});

test('errors are 4xx JSON saying what was wrong', async () => {
  const expectError = async (p: Promise<{ status: number; json: Json }>, status: number, code: string | RegExp) => {
    const r = await p;
    assert.equal(r.status, status, JSON.stringify(r.json));
    assert.match(r.json.error.code, code instanceof RegExp ? code : new RegExp(`^${code}$`));
    assert.equal(typeof r.json.error.message, 'string');
  };
  await expectError(post('/api/v1/predict', new Uint8Array(0)), 400, 'no_image');
  await expectError(post('/api/v1/predict', 'not an image', { 'content-type': 'text/plain' }), 415, 'unsupported_type');
  await expectError(
    post('/api/v1/predict', '<svg xmlns="http://www.w3.org/2000/svg"/>', { 'content-type': 'image/svg+xml' }),
    415,
    'unsupported_type',
  );
  const png = await fromRaw(noiseRgba(64, 64), 64, 64, 4).png().toBuffer();
  await expectError(post('/api/v1/predict', png.subarray(0, 400), { 'content-type': 'image/png' }), 422, 'undecodable');
  await expectError(
    post('/api/v1/predict', pngWithClaimedSize(png, 5000, 5000), { 'content-type': 'image/png' }),
    413,
    'too_many_pixels',
  );
  await expectError(
    post('/api/v1/predict', Buffer.alloc(MAX_BYTES + 10, 1), { 'content-type': 'image/png' }),
    413,
    'too_large',
  );
  // Far over the limit: the client, still sending, must get the 413 (not a reset connection).
  await expectError(
    post('/api/v1/predict', Buffer.alloc(40 * MAX_BYTES, 1), { 'content-type': 'image/png' }),
    413,
    'too_large',
  );
  const bigFile = Buffer.concat([png, Buffer.alloc(MAX_BYTES)]);
  await expectError(post('/api/v1/predict', form({ 'image/big.png': bigFile })), 413, 'too_large');
  await expectError(post('/api/v1/predict', form({ 'other/photo.png': photo })), 400, 'no_image');
  await expectError(post('/api/v1/predict?faces=some', photo), 400, 'bad_faces');
  await expectError(post('/api/v1/predict/batch', photo, { 'content-type': 'image/png' }), 415, 'not_multipart');
  const missing = await fetch(`${base}/api/v1/nothing`);
  assert.equal(missing.status, 404);
  assert.equal(((await missing.json()) as Json).error.code, 'not_found');
});

test('batch: one result or error per image, in order', async () => {
  const r = await post(
    '/api/v1/predict/batch?faces=whole',
    form({ 'images/a.png': photo, 'images/b.txt': Buffer.from('hello'), 'images/c.png': photo }),
  );
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.deepEqual(
    r.json.results.map((x: Json) => x.name),
    ['a.png', 'b.txt', 'c.png'],
  );
  assert.equal(r.json.results[0].faces.length, 1);
  assert.equal(r.json.results[1].error.code, 'unsupported_type');
  assert.equal(r.json.results[2].faces[0].pFake, r.json.results[0].faces[0].pFake);
  const tooMany = await post(
    '/api/v1/predict/batch',
    form(Object.fromEntries([1, 2, 3, 4, 5].map((i) => [`images/${i}.png`, photo]))),
  );
  assert.equal(tooMany.status, 413, JSON.stringify(tooMany.json));
});

test('the bad and odd files of the preprocessing tests: each a verdict or a 4xx JSON, and the server still answers', async () => {
  const corpus: Record<string, Buffer> = {};
  for (const [name, { bytes }] of Object.entries(await badImageFiles())) corpus[name] = bytes;
  Object.assign(corpus, await goodImageFiles());
  for (const [name, bytes] of Object.entries(corpus)) {
    for (const r of [
      await post('/api/v1/predict', bytes, { 'content-type': 'application/octet-stream' }),
      await post('/api/v1/predict', form({ [`image/${name}`]: bytes })),
    ]) {
      assert.ok(
        r.status === 200 || (r.status >= 400 && r.status < 500),
        `${name}: ${r.status} ${JSON.stringify(r.json)}`,
      );
      if (r.status === 200) assert.ok(Array.isArray(r.json.faces), name);
      else assert.equal(typeof r.json.error.message, 'string', name);
    }
  }
  assert.equal(((await (await fetch(`${base}/api/v1/health`)).json()) as Json).status, 'ok');
});

test('a full queue answers 503 with Retry-After; a failure inside answers 500 without details', async () => {
  const queue = new InferenceQueue(1, 1);
  let release!: () => void;
  const first = queue.run(() => new Promise<void>((resolve) => (release = resolve)));
  const second = queue.run(async () => 'second');
  await assert.rejects(
    queue.run(async () => 'third'),
    (err: unknown) => err instanceof QueueFullError && err.retryAfterSeconds >= 1,
  );
  assert.deepEqual(queue.stats, { running: 1, queued: 1, concurrency: 1, maxQueued: 1 });
  release();
  await first;
  assert.equal(await second, 'second');
  assert.deepEqual(queue.stats, { running: 0, queued: 0, concurrency: 1, maxQueued: 1 });

  // Over HTTP: hold the engine, so the one slot and the queue fill up.
  const engine = server.predictor.engine;
  const original = engine.scores.bind(engine);
  let unblock!: () => void;
  const blocked = new Promise<void>((resolve) => (unblock = resolve));
  engine.scores = async (...args) => {
    await blocked;
    return original(...args);
  };
  const inFlight = Array.from({ length: 33 }, () => post('/api/v1/predict?faces=whole', photo));
  // Wait until one runs and 32 wait (polling: under load the 33 requests take a while to arrive).
  while (server.queue.stats.queued < 32) await new Promise((resolve) => setTimeout(resolve, 50));
  const busy = await post('/api/v1/predict?faces=whole', photo);
  assert.equal(busy.status, 503);
  assert.equal(busy.json.error.code, 'busy');
  assert.ok(Number(busy.headers.get('retry-after')) >= 1);
  unblock();
  assert.ok((await Promise.all(inFlight)).every((r) => r.status === 200));

  const stderrWrite = process.stderr.write;
  engine.scores = async () => {
    throw new Error('secret detail at /very/private/path.ts:12');
  };
  process.stderr.write = (() => true) as typeof process.stderr.write; // the server logs the stack; keep test output clean
  try {
    const broken = await fetch(`${base}/api/v1/predict?faces=whole`, { method: 'POST', body: new Uint8Array(photo) });
    const text = await broken.text();
    assert.equal(broken.status, 500);
    assert.deepEqual(JSON.parse(text), {
      error: { code: 'internal', message: 'internal error (details are in the server log)' },
    });
    assert.doesNotMatch(text, /secret|private|\.ts/);
  } finally {
    process.stderr.write = stderrWrite;
    engine.scores = original;
  }
});

test("sniffImageType knows the decoder's formats by their bytes", async () => {
  const good = await goodImageFiles();
  assert.equal(sniffImageType(good['rgb.png']), 'png');
  assert.equal(sniffImageType(good['photo.jpg']), 'jpeg');
  assert.equal(sniffImageType(good['lossless.webp']), 'webp');
  assert.equal(sniffImageType(good['anim.gif']), 'gif');
  assert.equal(sniffImageType(await sharp(good['rgb.png']).tiff().toBuffer()), 'tiff');
  assert.equal(sniffImageType(Buffer.from('<svg></svg>')), null);
  assert.equal(sniffImageType(Buffer.alloc(0)), null);
});

test('realfake serve: loopback by default, finishes a request in flight on SIGTERM, then exits 0', async () => {
  const child = spawn(
    process.execPath,
    [path.join(ROOT, 'bin', 'realfake.js'), 'serve', '--run', runDir, '--port', '0'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const address = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /at (http:\/\/[^/\s]+)\//.exec(out);
      if (m) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${stderr}`)));
  });
  assert.match(address, /^http:\/\/127\.0\.0\.1:\d+$/);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const big = await fromRaw(noiseRgba(800, 600, 9), 800, 600, 4)
    .removeAlpha()
    .png()
    .toBuffer();
  const request = fetch(`${address}/api/v1/predict`, { method: 'POST', body: big });
  await new Promise((resolve) => setTimeout(resolve, 30));
  child.kill('SIGTERM');
  const response = await request;
  assert.equal(response.status, 200, await response.clone().text());
  assert.equal(await exited, 0, stderr);
  assert.match(stderr, /SIGTERM: finishing what is in progress[\s\S]*finishing requests in flight, then stopping/);
});
