/**
 * `realfake serve`: the page (GET /) and a JSON API over one trained run, on fastify.
 *
 *   POST /api/v1/predict        one image (multipart field `image`, or the raw bytes as the body) > verdict per face
 *   POST /api/v1/predict/batch  several images (multipart, any field names) > one result or error per image
 *   POST /api/v1/predict/video  one video > verdict per tracked face (lib/serve/video-route.ts)
 *   GET  /api/v1/health         liveness and queue state
 *   GET  /api/v1/model          run id, config, metrics, verdict policy, model card, engine, face detector
 *   GET  /api/v1/openapi.json   the OpenAPI 3.1 document (lib/serve/openapi.ts)
 *   GET  /ready                 503 until the model is loaded and warmed up, 200 after (lib/serve/readiness.ts)
 *   GET  /metrics               Prometheus metrics (lib/serve/metrics.ts)
 *
 * Facing the public: security headers and CSP (lib/serve/security.ts), an optional per-client rate limit and API
 * key on /api (lib/serve/rate-limit.ts, lib/serve/api-key.ts), slow-client timeouts (lib/serve/timeouts.ts).
 * Replicas share nothing: a server reads only its run folder and keeps its state (queue, rate-limit counts,
 * metrics) in memory, so any number can run behind a reverse proxy.
 *
 * Safety: uploads stay in memory (never written to disk); body size and pixel count are limited and checked
 * before decoding; the type is sniffed from the bytes; inference runs through a bounded queue (503 +
 * Retry-After when full); every error is JSON, 4xx saying what was wrong, 5xx never carrying a stack trace.
 */
import * as fs from 'fs';
import * as path from 'path';
import Fastify, { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import sharp, { Metadata } from 'sharp';
import { decodeImageRgb, RgbImage } from '../data/images';
import type { ResizeMethod } from '../config';
import { readJson } from '../files';
import { FACE_DETECTOR, loadFaceApi } from '../faces/detector';
import { FACE_MODES, FaceMode, PhotoVerdict, predictFacesInImage } from '../infer/faces';
import { EngineChoice, loadEngine } from '../infer/onnx-engine';
import { exportRunToOnnx } from '../infer/onnx-export';
import { Predictor } from '../infer/predict';
import { MODEL_CARD_JSON, runVerdictPolicy } from '../infer/run-policy';
import { openRun, Run } from '../runs/runs';
import { mimeOf, pageAssets } from './assets';
import { type FaceExplainer, loadGradcamExplainer } from './gradcam-hook';
import { openApiDocument } from './openapi';
import { InferenceQueue, QueueFullError } from './queue';
import { ImageType, sniffImageType } from './sniff';
import { HttpError } from './http-error';
import { VIDEO_SERVE_DEFAULTS, videoRoutes, type VideoServeLimits } from './video-route';
import { apiKeyGuard } from './api-key';
import { metricsPlugin } from './metrics';
import { apiRateLimit, type RateLimitOptions } from './rate-limit';
import { Readiness, readinessRoute } from './readiness';
import { securityHeaders } from './security';
import { serverTimeouts, TIMEOUT_DEFAULTS, type TimeoutOptions } from './timeouts';

export { HttpError };

export interface ServeOptions {
  runDir: string;
  engine?: EngineChoice;
  /** Largest accepted upload, bytes (default 10 MB). */
  maxBytes?: number;
  /** Largest accepted image, pixels (default 40 megapixels), checked from the header before decoding. */
  maxPixels?: number;
  /** Inferences at once (default 1: one engine call uses all cores already) and waiting (default 32). */
  concurrency?: number;
  maxQueued?: number;
  /** Most images in one batch request (default 16). */
  maxBatch?: number;
  /** Video uploads: bytes, duration, frames, sampling (lib/serve/video-route.ts VIDEO_SERVE_DEFAULTS). */
  video?: Partial<VideoServeLimits>;
  /** fastify's request log (default off). */
  logger?: boolean;
  onNote?: (line: string) => void;
  /** Per-client limit on /api (lib/serve/rate-limit.ts); none unless given (`realfake serve` sets one). */
  rateLimit?: RateLimitOptions;
  /** When set, /api needs this key (lib/serve/api-key.ts). */
  apiKey?: string;
  /** Slow-client timeouts (lib/serve/timeouts.ts TIMEOUT_DEFAULTS). */
  timeouts?: Partial<TimeoutOptions>;
  /** Trust X-Forwarded-For (true, or the proxies' addresses, comma-separated), so request.ip is the client. */
  trustProxy?: boolean | string;
  /**
   * true (default): createServer returns once the model is loaded and warmed up. false: it returns at once, so
   * the server can listen and say 503 on /ready while loading; `ready` settles when loading ends.
   */
  waitForModel?: boolean;
  /** Awaited before the model loads (tests hold a server in its loading state with it). */
  beforeLoad?: () => Promise<void>;
}

export const SERVE_DEFAULTS = {
  maxBytes: 10 * 1024 * 1024,
  maxPixels: 40_000_000,
  concurrency: 1,
  maxQueued: 32,
  maxBatch: 16,
};

export interface ImageResult extends PhotoVerdict {
  type: ImageType;
  mode: FaceMode;
  message?: string;
  ms: number;
}

export interface RealfakeServer {
  app: FastifyInstance;
  /** The loaded model's predictor (throws while loading). */
  readonly predictor: Predictor;
  queue: InferenceQueue;
  run: Run;
  readiness: Readiness;
  /** Settles when the model is loaded and warmed up (rejects when that failed). */
  ready: Promise<void>;
  /** Stops accepting requests, lets those in flight finish, releases the model. */
  close(): Promise<void>;
}

/** A JSON file of the run folder, or null when it is not there. */
function runFile(run: Run, name: string): unknown {
  const file = path.join(run.dir, name);
  return fs.existsSync(file) ? readJson(file) : null;
}

/** What the page and `realfake export --format web` say about a run: metrics, verdict policy, model card. */
export function runDescription(run: Run) {
  return {
    run: run.meta.id,
    preset: run.meta.preset,
    createdAt: run.meta.createdAt,
    imageSize: run.config.imageSize,
    resize: run.config.resize,
    threshold: run.config.threshold,
    metrics: runFile(run, 'metrics.json'),
    /** The verdict policy (lib/infer/verdict.ts) the page applies in its in-browser mode, as the server does. */
    policy: runVerdictPolicy(run.dir, run.config.threshold),
    /** The model card (lib/eval/model-card.ts), null for runs evaluated before cards existed. */
    card: runFile(run, MODEL_CARD_JSON),
    detector: FACE_DETECTOR,
  };
}

/** What /api/v1/model and the page say about the model. */
function modelInfo(run: Run, predictor: Predictor, onnxReady: boolean) {
  const unavailable = onnxReady ? inBrowserUnavailable(run.config.resize) : 'the model could not be exported to ONNX';
  return {
    ...runDescription(run),
    engine: predictor.engine.name,
    config: run.config,
    inBrowser: unavailable ? { available: false, reason: unavailable } : { available: true, onnx: 'model/model.onnx' },
  };
}

/**
 * Why the page's in-browser mode cannot reproduce a run's resizing, or null when it can: PIL nearest
 * (lib/faces/crop.ts) and sharp's lanczos3 (lib/faces/lanczos.ts) are reproduced; sharp's bilinear is not.
 */
export function inBrowserUnavailable(resize: ResizeMethod): string | null {
  return resize === 'nearest' || resize === 'lanczos3'
    ? null
    : `the run resizes with ${resize}; the page reproduces only nearest and lanczos3`;
}

/** Everything that needs the model: loaded once, after which the server is ready. */
interface LoadedModel {
  predictor: Predictor;
  explainer: FaceExplainer | null;
  onnx: Buffer | null;
  info: ReturnType<typeof modelInfo> & { gradcam: boolean };
  summary: { run: string; engine: string; imageSize: number };
}

async function loadModel(o: ServeOptions, run: Run): Promise<LoadedModel> {
  // Resized, like the in-browser mode: the run's `scoring` (tiles/native) applies to evaluate and predict only.
  const engine = await loadEngine(o.runDir, o.engine ?? 'auto', o.onNote);
  const predictor = new Predictor(
    engine,
    { ...run.config, scoring: 'resize' },
    runVerdictPolicy(o.runDir, run.config.threshold),
  );
  // Load the detector and run every model once, so the first request does not pay for warm-up (seconds on wasm).
  await loadFaceApi();
  await predictFacesInImage(
    predictor,
    { width: 64, height: 64, data: new Uint8Array(64 * 64 * 3).fill(128) },
    'detect',
  );
  await predictor.predictPixels([new Uint8Array(run.config.imageSize * run.config.imageSize * 3)]);
  let onnx: Buffer | null = null;
  try {
    onnx = Buffer.from((await exportRunToOnnx(o.runDir, { write: false })).bytes);
  } catch (err) {
    o.onNote?.(`in-browser mode unavailable: ${(err as Error).message.split('\n')[0]}`);
  }
  const explainer = await loadGradcamExplainer(o.runDir);
  const info = { ...modelInfo(run, predictor, onnx !== null), gradcam: explainer !== null };
  return {
    predictor,
    explainer,
    onnx,
    info,
    summary: { run: info.run, engine: info.engine, imageSize: info.imageSize },
  };
}

export async function createServer(options: ServeOptions): Promise<RealfakeServer> {
  const o = { ...SERVE_DEFAULTS, ...options };
  const run = openRun(o.runDir);
  const queue = new InferenceQueue(o.concurrency, o.maxQueued);
  const assets = pageAssets();
  const readiness = new Readiness();
  let loaded: LoadedModel | null = null;
  /** The model, or 503 while it loads (a proxy that watches /ready sends nothing here before then). */
  const model = (): LoadedModel => {
    if (!loaded) throw new HttpError(503, 'not_ready', readiness.reason ?? 'not ready');
    return loaded;
  };

  const app = Fastify({
    logger: o.logger ?? false,
    bodyLimit: o.maxBytes,
    return503OnClosing: true,
    trustProxy: o.trustProxy ?? false,
    ...serverTimeouts({ ...TIMEOUT_DEFAULTS, ...o.timeouts }),
  });

  // Raw bodies of any type are read as bytes (the type is sniffed later); multipart is parsed by the plugin.
  app.removeAllContentTypeParsers();
  // No bodyLimit of its own: the route's applies (the video route takes larger bodies).
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  await app.register(multipart, {
    limits: { fileSize: o.maxBytes, files: o.maxBatch, fields: 8, parts: o.maxBatch + 8 },
  });
  await app.register(securityHeaders(assets['index.html']));
  // Both add their hooks to routes as they are declared, so they come before the routes; the key after the
  // limit, so guessing keys is limited too.
  if (o.rateLimit) await app.register(apiRateLimit(o.rateLimit));
  if (o.apiKey !== undefined) await app.register(apiKeyGuard(o.apiKey));
  await app.register(metricsPlugin(queue));
  await app.register(readinessRoute(readiness));

  // An announced body over the limit is refused before it is read; the rest of it is read and dropped, so the
  // client, still sending, gets the 413 instead of a reset connection.
  app.addHook('onRequest', async (request, reply) => {
    const length = Number(request.headers['content-length'] ?? 0);
    const limit = request.routeOptions.bodyLimit ?? o.maxBytes;
    if (length > limit) {
      request.raw.resume();
      reply.code(413);
      return reply.send({
        error: { code: 'too_large', message: `request body of ${length} bytes is over the limit of ${limit}` },
      });
    }
  });

  app.setErrorHandler((err: FastifyError | HttpError | QueueFullError, request, reply) => {
    if (err instanceof QueueFullError) {
      return reply
        .code(503)
        .header('Retry-After', String(err.retryAfterSeconds))
        .send({ error: { code: 'busy', message: err.message } });
    }
    // An HttpError is a deliberate answer (4xx, or 503 while not ready); anything else over 4xx is a fault.
    const status =
      err instanceof HttpError || (err.statusCode && err.statusCode >= 400 && err.statusCode < 500)
        ? err.statusCode!
        : 500;
    if (status >= 500 && !(err instanceof HttpError)) {
      request.log.error(err);
      if (!o.logger)
        process.stderr.write(`realfake serve: ${request.method} ${request.url}: ${err.stack ?? err.message}\n`);
      return reply
        .code(500)
        .send({ error: { code: 'internal', message: 'internal error (details are in the server log)' } });
    }
    const code = err instanceof HttpError ? err.code : ((err as FastifyError).code ?? 'bad_request');
    return reply.code(status).send({ error: { code, message: err.message } });
  });
  app.setNotFoundHandler((request, reply) => {
    reply
      .code(404)
      .send({ error: { code: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}` } });
  });

  /** Checks and decodes one upload (all in memory), then runs it through the queue. */
  async function predictBytes(
    bytes: Buffer | undefined,
    mode: FaceMode,
    name: string,
    gradcam = false,
    closed?: () => boolean,
  ): Promise<ImageResult> {
    if (!bytes || bytes.length === 0)
      throw new HttpError(
        400,
        'no_image',
        'no image: send it as the multipart field "image" or as the raw request body',
      );
    const type = sniffImageType(bytes);
    if (!type)
      throw new HttpError(
        415,
        'unsupported_type',
        `${name}: not a supported image (PNG, JPEG, GIF, WebP, TIFF, AVIF or HEIF, recognised from its bytes)`,
      );
    let meta: Metadata;
    try {
      meta = await sharp(bytes).metadata();
    } catch (err) {
      throw new HttpError(
        422,
        'undecodable',
        `${name}: cannot read the image header (${(err as Error).message.split('\n')[0]})`,
      );
    }
    const pixels = (meta.width ?? 0) * (meta.height ?? 0);
    if (pixels > o.maxPixels) {
      throw new HttpError(
        413,
        'too_many_pixels',
        `${name}: ${meta.width}x${meta.height} is ${(pixels / 1e6).toFixed(1)} megapixels (limit ${(o.maxPixels / 1e6).toFixed(1)})`,
      );
    }
    return queue.run(async () => {
      // A client that gave up while queued (closed its connection) gets no answer: skip the work.
      if (closed?.()) throw new HttpError(499, 'client_closed', 'the client closed the connection');
      const started = performance.now();
      let image: RgbImage;
      try {
        image = await decodeImageRgb(bytes, name);
      } catch (err) {
        throw new HttpError(422, 'undecodable', (err as Error).message);
      }
      const { predictor, explainer } = model();
      const result = await predictFacesInImage(predictor, image, mode, gradcam && explainer ? explainer : undefined);
      const ms = Math.round((performance.now() - started) * 10) / 10;
      return { type, mode, ...result, ...(result.faces.length === 0 ? { message: 'no face found' } : {}), ms };
    });
  }

  function faceMode(request: FastifyRequest): FaceMode {
    const mode = ((request.query as Record<string, string>).faces ?? 'detect') as FaceMode;
    if (!FACE_MODES.includes(mode))
      throw new HttpError(400, 'bad_faces', `faces must be one of ${FACE_MODES.join(', ')} (got "${mode}")`);
    return mode;
  }

  app.post('/api/v1/predict', async (request, reply) => {
    const { summary } = model();
    const mode = faceMode(request);
    let bytes: Buffer | undefined;
    let name = 'upload';
    if (request.isMultipart()) {
      for await (const part of request.parts()) {
        if (part.type === 'file' && part.fieldname === 'image' && !bytes) {
          bytes = await part.toBuffer();
          name = part.filename || name;
        } else if (part.type === 'file') {
          await part.toBuffer(); // drain parts we do not use
        }
      }
      if (!bytes) throw new HttpError(400, 'no_image', 'multipart request without a file field named "image"');
    } else {
      bytes = request.body as Buffer | undefined;
    }
    const clientGone = () => request.raw.socket?.destroyed === true;
    const result = await predictBytes(
      bytes,
      mode,
      name,
      (request.query as Record<string, string>).gradcam === '1',
      clientGone,
    );
    return reply.send({ ...result, model: summary });
  });

  app.post('/api/v1/predict/batch', async (request, reply) => {
    const { summary } = model();
    const mode = faceMode(request);
    if (!request.isMultipart())
      throw new HttpError(415, 'not_multipart', 'send the images as multipart/form-data file fields');
    const started = performance.now();
    const files: Array<{ name: string; bytes: Buffer }> = [];
    for await (const part of request.parts()) {
      if (part.type === 'file')
        files.push({ name: part.filename || `${part.fieldname}#${files.length + 1}`, bytes: await part.toBuffer() });
    }
    if (files.length === 0) throw new HttpError(400, 'no_image', 'no file fields in the request');
    const results = [];
    for (const file of files) {
      try {
        results.push({ name: file.name, ...(await predictBytes(file.bytes, mode, file.name)) });
      } catch (err) {
        if (!(err instanceof HttpError)) throw err; // busy (503) and internal errors fail the whole request
        results.push({ name: file.name, error: { code: err.code, message: err.message } });
      }
    }
    return reply.send({ results, model: summary, ms: Math.round((performance.now() - started) * 10) / 10 });
  });

  const video = { ...VIDEO_SERVE_DEFAULTS, maxPixels: o.maxPixels, ...o.video };
  await app.register(
    videoRoutes({ predictor: () => model().predictor, queue, limits: video, model: () => model().summary }),
  );

  // Liveness: ok while the process answers, loading or not (readiness is /ready).
  app.get('/api/v1/health', async () => ({
    status: 'ok',
    ready: readiness.ready,
    model: loaded?.summary ?? null,
    queue: queue.stats,
    uptimeSeconds: Math.round(process.uptime()),
  }));
  app.get('/api/v1/model', async () => model().info);
  app.get('/api/v1/openapi.json', async () => openApiDocument({ ...o, video }));

  // The page and everything it loads.
  const sendFile = (reply: FastifyReply, file: string) =>
    reply.type(mimeOf(file)).header('Cache-Control', 'no-cache').send(fs.createReadStream(file));
  app.get('/', (_request, reply) => sendFile(reply, assets['index.html']));
  for (const [url, file] of Object.entries(assets)) app.get(`/${url}`, (_request, reply) => sendFile(reply, file));
  app.get('/config.js', (_request, reply) => {
    reply
      .type(mimeOf('x.js'))
      .send(
        `window.REALFAKE_CONFIG = ${JSON.stringify({ server: true, model: { ...model().info, config: undefined } })};\n`,
      );
  });
  app.get('/model/model.onnx', (request, reply) => {
    const { onnx } = model();
    if (!onnx) throw new HttpError(404, 'not_found', `no route GET ${request.url}: the model has no ONNX export`);
    return reply.type('application/octet-stream').send(onnx);
  });

  const loading = (async () => {
    await o.beforeLoad?.();
    loaded = await loadModel(o, run);
    if (readiness.state === 'loading') readiness.state = 'ready';
  })();
  const ready = loading.catch((err) => {
    readiness.state = 'failed';
    throw err;
  });
  ready.catch(() => {}); // the caller sees the failure through `ready` (or createServer); never unhandled
  const server: RealfakeServer = {
    app,
    get predictor() {
      return model().predictor;
    },
    queue,
    run,
    readiness,
    ready,
    async close() {
      readiness.state = 'closing';
      await app.close();
      await ready.catch(() => {});
      await loaded?.predictor.dispose();
    },
  };
  if (o.waitForModel ?? true) {
    try {
      await ready;
    } catch (err) {
      await app.close();
      throw err;
    }
  }
  return server;
}
