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
import Fastify, { FastifyInstance } from 'fastify';
import multipart from '@fastify/multipart';
import type { ResizeMethod } from '../config';
import { readJson } from '../files';
import { FACE_DETECTOR, loadFaceApi } from '../faces/detector';
import { predictFacesInImage } from '../infer/faces';
import { EngineChoice, loadEngine } from '../infer/onnx-engine';
import { exportRunToOnnx } from '../infer/onnx-export';
import { Predictor } from '../infer/predict';
import { MODEL_CARD_JSON, runVerdictPolicy, type PolicyOverrides } from '../infer/run-policy';
import { openRun, Run } from '../runs/runs';
import { pageAssets } from './assets';
import { errorHandling } from './error-handling';
import { type FaceExplainer, loadGradcamExplainer } from './gradcam-hook';
import { openApiDocument } from './openapi';
import { imageRoutes } from './image-routes';
import { infoRoutes } from './info-routes';
import { pageRoutes } from './page-routes';
import { InferenceQueue } from './queue';
import { HttpError } from './http-error';
import { VIDEO_SERVE_DEFAULTS, videoRoutes, type VideoServeLimits } from './video-route';
import { apiKeyGuard } from './api-key';
import { metricsPlugin } from './metrics';
import { apiRateLimit, type RateLimitOptions } from './rate-limit';
import { Readiness, readinessRoute } from './readiness';
import { securityHeaders } from './security';
import { serverTimeouts, TIMEOUT_DEFAULTS, type TimeoutOptions } from './timeouts';

export { HttpError };
export type { ImageResult } from './image-routes';

export interface ServeOptions {
  runDir: string;
  engine?: EngineChoice;
  /** --threshold / --calibrated over the run's verdict policy (lib/infer/run-policy.ts), as predict and evaluate take. */
  policy?: PolicyOverrides;
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
export function runDescription(run: Run, overrides: PolicyOverrides = {}) {
  return {
    run: run.meta.id,
    preset: run.meta.preset,
    createdAt: run.meta.createdAt,
    imageSize: run.config.imageSize,
    resize: run.config.resize,
    threshold: run.config.threshold,
    metrics: runFile(run, 'metrics.json'),
    /** The verdict policy (lib/infer/verdict.ts) the page applies in its in-browser mode, as the server does. */
    policy: runVerdictPolicy(run.dir, run.config.threshold, overrides),
    /** The model card (lib/eval/model-card.ts), null for runs evaluated before cards existed. */
    card: runFile(run, MODEL_CARD_JSON),
    detector: FACE_DETECTOR,
  };
}

/** What /api/v1/model and the page say about the model. */
function modelInfo(run: Run, predictor: Predictor, onnxReady: boolean, overrides?: PolicyOverrides) {
  const unavailable = onnxReady ? inBrowserUnavailable(run.config.resize) : 'the model could not be exported to ONNX';
  return {
    ...runDescription(run, overrides),
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
    runVerdictPolicy(o.runDir, run.config.threshold, o.policy),
  );
  // Load the detectors and run the finder and the model once, so the first request does not pay for warm-up.
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
  const info = { ...modelInfo(run, predictor, onnx !== null, o.policy), gradcam: explainer !== null };
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

  await app.register(errorHandling({ maxBytes: o.maxBytes, logger: o.logger ?? false }));
  await app.register(imageRoutes({ model, queue, maxPixels: o.maxPixels }));
  const video = { ...VIDEO_SERVE_DEFAULTS, maxPixels: o.maxPixels, ...o.video };
  await app.register(
    videoRoutes({ predictor: () => model().predictor, queue, limits: video, model: () => model().summary }),
  );
  await app.register(
    infoRoutes({
      readiness,
      queue,
      summary: () => loaded?.summary ?? null,
      model,
      openApi: () => openApiDocument({ ...o, video }),
    }),
  );
  await app.register(pageRoutes({ assets, model }));

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
