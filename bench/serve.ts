/**
 * `npm run bench:serve`: realfake serve under load, and under bad input.
 *
 * 1. The in-process rate of the same work a request does (decode + face detection + crop + score, one at a time):
 *    the ceiling the server is compared with.
 * 2. `realfake serve` in a child process on loopback; autocannon (16 connections) POSTs one face photo to
 *    /api/v1/predict: 5 s warm-up, then 30 s measured. Errors, requests/s, p50/p99 latency, and the server's RSS
 *    after warm-up and after the run (from /proc).
 * 3. The bad files of the preprocessing tests plus other odd inputs, each sent raw and as multipart: every answer
 *    must be a verdict or a 4xx JSON error, never a 5xx or a crash; health must still answer after.
 * Prints a markdown section for BENCHMARKS.md. Uses the newest trained run under outputs/runs, else an untrained
 * 128 px model (same architecture and cost); the face is ../shared/faces-dev/real/00001.jpg, else a synthetic one.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import autocannon from 'autocannon';
import { initBackend } from '../lib/backend/backend';
import { synthImage } from '../lib/data/synth';
import { projectRoot } from '../lib/files';
import { predictFaces } from '../lib/infer/faces';
import { loadEngine } from '../lib/infer/onnx-engine';
import { Predictor } from '../lib/infer/predict';
import { latestRun } from '../lib/runs/runs';
import { facesDevFile, facesDevSkip } from '../test/fixtures/faces';
import { badImageFiles, fromRaw, goodImageFiles, noiseRgba, pngWithClaimedSize } from '../test/fixtures/images';
import { createRandomRun } from '../test/fixtures/runs';
import { writeSection } from './sections';

const CONNECTIONS = 16;
const DURATION = Number(process.env.BENCH_SERVE_SECONDS ?? 30);

function rssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

async function startServer(runDir: string): Promise<{ url: string; pid: number; stop: () => Promise<number | null> }> {
  const child = spawn(
    process.execPath,
    [path.join(projectRoot(), 'bin', 'realfake.js'), 'serve', '--run', runDir, '--port', '0'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /at (http:\/\/[^/\s]+)\//.exec(out);
      if (m) resolve(m[1]);
    });
    exited.then((code) => reject(new Error(`serve exited with ${code}`)));
  });
  return { url, pid: child.pid!, stop: () => (child.kill('SIGTERM'), exited) };
}

/** Odd inputs beyond the preprocessing tests' files. */
async function oddInputs(): Promise<Record<string, Buffer>> {
  const png = await fromRaw(noiseRgba(64, 64), 64, 64, 4).png().toBuffer();
  const jpeg = await fromRaw(noiseRgba(64, 64), 64, 64, 4).removeAlpha().jpeg().toBuffer();
  const gif = await fromRaw(noiseRgba(64, 64), 64, 64, 4).removeAlpha().gif().toBuffer();
  const webp = await fromRaw(noiseRgba(64, 64), 64, 64, 4).removeAlpha().webp().toBuffer();
  const tiff = await fromRaw(noiseRgba(64, 64), 64, 64, 4).removeAlpha().tiff().toBuffer();
  const badCrc = Buffer.from(png);
  badCrc[33] ^= 0xff;
  return {
    'svg.svg': Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><circle r="40"/></svg>'),
    'page.html': Buffer.from('<!doctype html><html><body>hi</body></html>'),
    'doc.pdf': Buffer.from('%PDF-1.4\n%âãÏÓ\n1 0 obj<<>>endobj\n'),
    'archive.zip': Buffer.from('PK\x03\x04\x14\x00\x00\x00\x08\x00', 'latin1'),
    'random.bin': Buffer.from(noiseRgba(100, 100, 5)),
    'bmp.bmp': Buffer.concat([Buffer.from('BM'), Buffer.alloc(60)]),
    'png-signature-only.png': png.subarray(0, 8),
    'jpeg-soi-only.jpg': jpeg.subarray(0, 3),
    'jpeg-header-only.jpg': jpeg.subarray(0, 200),
    'gif-truncated.gif': gif.subarray(0, Math.floor(gif.length / 2)),
    'webp-truncated.webp': webp.subarray(0, Math.floor(webp.length / 2)),
    'tiff-truncated.tif': tiff.subarray(0, 100),
    'png-bad-crc.png': badCrc,
    'png-claims-50000x50000.png': pngWithClaimedSize(png, 50000, 50000),
    'png-claims-0x0.png': pngWithClaimedSize(png, 0, 0),
    'over-10MB.png': Buffer.concat([png, Buffer.alloc(11 * 1024 * 1024)]),
    'jpeg-then-garbage.jpg': Buffer.concat([jpeg, Buffer.from(noiseRgba(50, 50, 3))]),
    'one-byte': Buffer.from([0x89]),
  };
}

async function badInputRound(
  url: string,
): Promise<{ sent: number; statuses: Record<string, number>; fiveHundreds: string[]; healthAfter: boolean }> {
  const corpus: Record<string, Buffer> = {};
  for (const [name, { bytes }] of Object.entries(await badImageFiles())) corpus[name] = bytes;
  Object.assign(corpus, await goodImageFiles(), await oddInputs());
  const statuses: Record<string, number> = {};
  const fiveHundreds: string[] = [];
  let sent = 0;
  for (const [name, buffer] of Object.entries(corpus)) {
    const bytes = new Uint8Array(buffer); // fetch's types take no Buffer over a possibly shared ArrayBuffer
    const form = new FormData();
    form.append('image', new Blob([bytes]), name);
    for (const [how, init] of [
      ['raw', { body: bytes, headers: { 'content-type': 'application/octet-stream' } }],
      ['multipart', { body: form }],
    ] as const) {
      sent++;
      let status: number;
      try {
        const response = await fetch(`${url}/api/v1/predict`, { method: 'POST', ...init });
        status = response.status;
        const body = (await response.json()) as { faces?: unknown; error?: { message?: string } };
        if (status === 200 ? !Array.isArray(body.faces) : typeof body.error?.message !== 'string')
          fiveHundreds.push(`${name} (${how}): unexpected body`);
      } catch (err) {
        status = 0;
        fiveHundreds.push(`${name} (${how}): ${(err as Error).message}`);
      }
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (status >= 500) fiveHundreds.push(`${name} (${how}): ${status}`);
    }
  }
  const health = await fetch(`${url}/api/v1/health`).then(
    (r) => r.ok,
    () => false,
  );
  return { sent, statuses, fiveHundreds, healthAfter: health };
}

async function main(): Promise<void> {
  const backend = await initBackend();
  let runDir = latestRun();
  let runNote = runDir ? `trained run ${path.basename(runDir)}` : '';
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'realfake-bench-serve-'));
  if (!runDir) {
    runDir = await createRandomRun(tmp, 128);
    runNote = "an untrained 128 px model of the study's architecture (no trained run under outputs/runs)";
  }
  const faceSkip = facesDevSkip();
  const photo = faceSkip ? await synthImage(1, 0, 0, 256, 0.5) : fs.readFileSync(facesDevFile('real', 1));
  const photoNote = faceSkip ? 'a 256 px synthetic face PNG' : 'faces-dev real/00001.jpg (256 px JPEG, one face)';

  // 1. In-process rate of the same work.
  const predictor = await Predictor.fromRun(runDir, (dir) => loadEngine(dir, 'auto'));
  const inProcess: Record<string, number> = {};
  for (const mode of ['detect', 'whole'] as const) {
    for (let i = 0; i < 5; i++) await predictFaces(predictor, photo, mode);
    const n = mode === 'detect' ? 40 : 200;
    const started = performance.now();
    for (let i = 0; i < n; i++) await predictFaces(predictor, photo, mode);
    inProcess[mode] = n / ((performance.now() - started) / 1000);
  }
  const engine = predictor.engine.name;
  await predictor.dispose();
  const loadBefore = os.loadavg();

  // 2. Load test.
  const server = await startServer(runDir);
  const shoot = (duration: number) =>
    autocannon({
      // Timeout 60 s: 16 requests queue for one inference slot, so waiting several seconds is expected when slow.
      url: `${server.url}/api/v1/predict`,
      method: 'POST',
      connections: CONNECTIONS,
      duration,
      timeout: 60,
      headers: { 'content-type': 'application/octet-stream' },
      body: photo,
    });
  await shoot(5);
  const rssWarm = rssMb(server.pid);
  const result = await shoot(DURATION);
  const rssAfter = rssMb(server.pid);
  const loadAfter = os.loadavg();

  // 3. Bad inputs.
  const bad = await badInputRound(server.url);
  const exitCode = await server.stop();
  fs.rmSync(tmp, { recursive: true, force: true });

  const errors = result.errors + result.timeouts + result.non2xx;
  const rate = result.requests.average;
  const lines = [
    '## HTTP server (`npm run bench:serve`)',
    '',
    `Measured ${new Date().toISOString().slice(0, 16)}Z on ${os.cpus().length} x ${os.cpus()[0].model}, Node ${process.version}; model: ${runNote}; server engine ${engine}, tfjs backend ${backend.name} for the face detector.`,
    `Load average before/after: ${loadBefore.map((l) => l.toFixed(2)).join(' ')} / ${loadAfter.map((l) => l.toFixed(2)).join(' ')} (other work shared the cores).`,
    '',
    `| what | value |`,
    `|---|---|`,
    `| in-process rate, same work as a request (decode + detect + crop + score), ${photoNote} | ${inProcess.detect.toFixed(1)} img/s |`,
    `| in-process rate with \`faces=whole\` (no detection) | ${inProcess.whole.toFixed(1)} img/s |`,
    `| load test: ${CONNECTIONS} connections, ${DURATION} s, POST /api/v1/predict (detect) | ${result.requests.total} requests, ${errors} errors (${result.errors} socket, ${result.timeouts} timeouts, ${result.non2xx} non-2xx) |`,
    `| requests/s (mean) | ${rate.toFixed(1)} (${((100 * rate) / inProcess.detect).toFixed(0)} % of the in-process rate) |`,
    `| latency p50 / p99 | ${result.latency.p50} ms / ${result.latency.p99} ms |`,
    `| server RSS after 5 s warm-up / after the run | ${rssWarm.toFixed(0)} MB / ${rssAfter.toFixed(0)} MB (${(((rssAfter - rssWarm) / rssWarm) * 100).toFixed(1)} %) |`,
    `| bad and odd inputs (preprocessing tests' corpus + others), raw and multipart | ${bad.sent} requests: ${Object.entries(
      bad.statuses,
    )
      .map(([s, n]) => `${n} x ${s}`)
      .join(
        ', ',
      )}; 5xx or failures: ${bad.fiveHundreds.length ? bad.fiveHundreds.join('; ') : 'none'}; health after: ${bad.healthAfter ? 'ok' : 'NOT ANSWERING'} |`,
    `| SIGTERM after all of it | exit code ${exitCode} |`,
    '',
    'Face detection (face-api on tfjs wasm, one thread in Node) dominates a request: compare the `faces=whole` rate. p50 latency is queueing (16 connections share one inference slot: about 16 / rate). Both rates were measured on shared, overloaded cores, so their ratio is noisy (above 100 % here).',
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
  process.stdout.write(`wrote ${writeSection('serve', lines.join('\n'))}\n`);
  const ok =
    errors === 0 && bad.fiveHundreds.length === 0 && bad.healthAfter && Math.abs(rssAfter - rssWarm) / rssWarm <= 0.1;
  if (!ok) {
    process.stderr.write('bench:serve: a target was missed (errors, 5xx, health or RSS growth over 10 %)\n');
    process.exitCode = 1;
  }
}

main().catch((err) => {
  process.stderr.write(`bench:serve: ${(err as Error).stack}\n`);
  process.exitCode = 1;
});
