/**
 * realfake serve facing the public, on a free loopback port: /ready is 503 until the model is warmed up, security
 * headers and CSP, the API key (401 without or with a wrong one), the per-client rate limit (429 + Retry-After),
 * a client sending one byte a second cut off by the request timeout while others are served, and /metrics.
 * Clients are told apart by X-Forwarded-For (the server trusts it, as behind a proxy), so the tests' limits
 * do not mix.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { initBackend } from '../lib/backend/backend';
import { readApiKey, sameKey } from '../lib/serve/api-key';
import { METRIC_NAMES } from '../lib/serve/metrics';
import { createServer, RealfakeServer } from '../lib/serve/server';
import { createRandomRun } from './fixtures/runs';

const KEY = 'test-key-0123456789abcdef';
const LIMIT = 5;
const REQUEST_TIMEOUT_MS = 2000;

let tmp: string;
let server: RealfakeServer;
let base: string;
let releaseLoad: () => void;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** A GET as client `ip`, with the key unless told otherwise. */
async function get(url: string, ip: string, key: string | null = KEY) {
  const headers: Record<string, string> = { 'x-forwarded-for': ip };
  if (key !== null) headers.authorization = `Bearer ${key}`;
  const response = await fetch(base + url, { headers });
  const text = await response.text();
  let json: Json = null;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON (the page, metrics)
  }
  return { status: response.status, headers: response.headers, text, json };
}

before(async () => {
  await initBackend('wasm');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'realfake-public-'));
  const runDir = await createRandomRun(tmp);
  const gate = new Promise<void>((resolve) => (releaseLoad = resolve));
  server = await createServer({
    runDir,
    apiKey: KEY,
    rateLimit: { max: LIMIT, windowMs: 60_000 },
    timeouts: { requestMs: REQUEST_TIMEOUT_MS, headersMs: REQUEST_TIMEOUT_MS },
    trustProxy: true,
    waitForModel: false,
    beforeLoad: () => gate,
  });
  base = await server.app.listen({ host: '127.0.0.1', port: 0 });
});

after(async () => {
  releaseLoad?.();
  await server?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('/ready is 503 while the model loads and 200 once it is warmed up; health answers throughout', async () => {
  const loading = await get('/ready', '198.51.100.1', null);
  assert.equal(loading.status, 503);
  assert.equal(loading.json.error.code, 'not_ready');
  assert.equal(loading.headers.get('retry-after'), '1');
  const health = await get('/api/v1/health', '198.51.100.1', null);
  assert.equal(health.status, 200);
  assert.equal(health.json.ready, false);
  const early = await get('/api/v1/model', '198.51.100.1');
  assert.equal(early.status, 503);
  assert.equal(early.json.error.code, 'not_ready');
  releaseLoad();
  await server.ready;
  const ready = await get('/ready', '198.51.100.1', null);
  assert.equal(ready.status, 200);
  assert.deepEqual(ready.json, { status: 'ready' });
  assert.equal((await get('/api/v1/model', '198.51.100.1')).status, 200);
});

test('security headers, with a CSP that allows only this origin, on the page and the API', async () => {
  await server.ready;
  for (const url of ['/', '/api/v1/health']) {
    const { headers } = await get(url, '198.51.100.2', null);
    const csp = headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'self'/, url);
    assert.match(csp, /script-src 'self' 'wasm-unsafe-eval' 'sha256-/, url);
    assert.match(csp, /frame-ancestors 'none'/, url);
    assert.doesNotMatch(csp, /unsafe-inline|'unsafe-eval'|https?:/, url);
    assert.equal(headers.get('x-content-type-options'), 'nosniff', url);
    assert.equal(headers.get('x-frame-options'), 'SAMEORIGIN', url);
    assert.equal(headers.get('x-powered-by'), null, url);
  }
});

test('the API key: missing or wrong is 401 JSON, right is 200; the page, health and readiness stay open', async () => {
  await server.ready;
  const ip = '198.51.100.3';
  const missing = await get('/api/v1/model', ip, null);
  assert.equal(missing.status, 401);
  assert.equal(missing.json.error.code, 'missing_api_key');
  assert.equal(missing.headers.get('www-authenticate'), 'Bearer');
  const wrong = await get('/api/v1/model', ip, KEY.slice(0, -1) + 'X');
  assert.equal(wrong.status, 401);
  assert.equal(wrong.json.error.code, 'bad_api_key');
  const right = await get('/api/v1/model', ip);
  assert.equal(right.status, 200);
  assert.equal(right.json.imageSize, 64);
  const byHeader = await fetch(`${base}/api/v1/model`, { headers: { 'x-api-key': KEY, 'x-forwarded-for': ip } });
  assert.equal(byHeader.status, 200);
  await byHeader.arrayBuffer();
  for (const url of ['/', '/app.js', '/api/v1/health', '/api/v1/openapi.json', '/ready', '/metrics'])
    assert.equal((await get(url, ip, null)).status, 200, url);
  // A POST without a key is refused before its body is looked at.
  const post = await fetch(`${base}/api/v1/predict`, { method: 'POST', body: 'x', headers: { 'x-forwarded-for': ip } });
  assert.equal(post.status, 401);
  await post.arrayBuffer();
  assert.equal(sameKey(KEY, KEY), true);
  assert.equal(sameKey(KEY, KEY + 'x'), false);
  const file = path.join(tmp, 'key.txt');
  fs.writeFileSync(file, `${KEY}\n`);
  assert.equal(readApiKey(file, {}), KEY);
  assert.equal(readApiKey(undefined, { REALFAKE_API_KEY: KEY }), KEY);
  assert.equal(readApiKey(undefined, {}), undefined);
  assert.throws(() => readApiKey(undefined, { REALFAKE_API_KEY: 'short' }), /shorter than 16/);
});

test('the rate limit: the request after the limit from one client is 429 with Retry-After; others go on', async () => {
  await server.ready;
  const ip = '203.0.113.7';
  for (let i = 0; i < LIMIT; i++) assert.equal((await get('/api/v1/model', ip)).status, 200, `request ${i + 1}`);
  const over = await get('/api/v1/model', ip);
  assert.equal(over.status, 429);
  assert.equal(over.json.error.code, 'rate_limited');
  assert.ok(Number(over.headers.get('retry-after')) > 0, `Retry-After ${over.headers.get('retry-after')}`);
  // Another client, and the open paths for this one, are not limited.
  assert.equal((await get('/api/v1/model', '203.0.113.8')).status, 200);
  assert.equal((await get('/api/v1/health', ip)).status, 200);
  assert.equal((await get('/', ip)).status, 200);
});

test('a client sending one byte a second is cut off by the request timeout; another is served meanwhile', async () => {
  await server.ready;
  const socket = net.connect(Number(new URL(base).port), '127.0.0.1');
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  const started = Date.now();
  let answer = '';
  socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now() - started)));
  socket.write(
    `POST /api/v1/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${KEY}\r\n` +
      'X-Forwarded-For: 192.0.2.50\r\nContent-Type: application/octet-stream\r\nContent-Length: 1000\r\n\r\n',
  );
  // One byte a second, for at most 20 s (the server should cut the client off long before).
  let sent = 0;
  const drip: NodeJS.Timeout = setInterval(() => {
    if (socket.destroyed || ++sent > 20) return clearInterval(drip);
    socket.write('x');
  }, 1000);
  try {
    const other = await get('/api/v1/model', '192.0.2.51');
    assert.equal(other.status, 200);
    const ms = await closed;
    assert.ok(sent < 20, 'the slow client was never cut off');
    // Cut off by the timeout (checked every timeout/4), not by anything earlier.
    assert.ok(ms >= REQUEST_TIMEOUT_MS - 100 && ms <= REQUEST_TIMEOUT_MS * 2 + 1000, `closed after ${ms} ms`);
    assert.match(answer, /^HTTP\/1\.1 408 /);
  } finally {
    clearInterval(drip);
    socket.destroy();
  }
  assert.equal((await get('/api/v1/health', '192.0.2.51')).status, 200);
});

test('/metrics: request counts by route and status, the latency histogram and the queue', async () => {
  await server.ready;
  const scrape = async () => {
    const metrics = await get('/metrics', '198.51.100.9', null);
    assert.equal(metrics.status, 200);
    assert.match(metrics.headers.get('content-type')!, /text\/plain/);
    return (name: string) => metrics.text.split('\n').find((l) => l.startsWith(name));
  };
  const labels = '{method="GET",route="/api/v1/openapi.json",status="200"}';
  const count = (line: (name: string) => string | undefined, name: string) =>
    Number(line(`${name}${labels}`)?.split(' ').pop() ?? 0);
  const before = await scrape();
  for (let i = 0; i < 3; i++) assert.equal((await get('/api/v1/openapi.json', '198.51.100.9', null)).status, 200);
  const line = await scrape();
  assert.equal(count(line, METRIC_NAMES.requests) - count(before, METRIC_NAMES.requests), 3);
  assert.equal(count(line, `${METRIC_NAMES.duration}_count`) - count(before, `${METRIC_NAMES.duration}_count`), 3);
  assert.ok(line(`${METRIC_NAMES.duration}_bucket{le="0.005",method="GET",route="/api/v1/openapi.json"`));
  assert.ok(line(`${METRIC_NAMES.requests}{method="GET",route="/api/v1/model",status="401"}`));
  assert.ok(line(`${METRIC_NAMES.requests}{method="GET",route="/api/v1/model",status="429"}`));
  assert.equal(line(`${METRIC_NAMES.queued} `), `${METRIC_NAMES.queued} 0`);
  assert.equal(line(`${METRIC_NAMES.running} `), `${METRIC_NAMES.running} 0`);
  assert.ok(line('realfake_process_resident_memory_bytes'));
});
