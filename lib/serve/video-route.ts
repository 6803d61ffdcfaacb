/**
 * POST /api/v1/predict/video: one video (multipart field `video`, or the raw bytes as the body) > a verdict per
 * tracked face (lib/video/predict-video.ts), with every sampled frame's score for the page's timeline.
 *
 * The upload is streamed into a private temporary folder (ffmpeg needs a file it can seek in: an MP4's index is
 * often at its end) and removed when the answer is sent. Before any frame is decoded the type is sniffed from
 * the bytes and ffprobe's facts are checked against the limits (bytes, duration, frames, pixels); a bad video
 * gets 4xx JSON naming the upload and the reason.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { pipeline } from 'stream/promises';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Predictor } from '../infer/predict';
import { VideoError } from '../video/ffmpeg';
import { checkVideo, predictVideo, type VideoVerdict } from '../video/predict-video';
import type { VideoLimits } from '../video/probe';
import { sniffVideoType } from '../video/sniff';
import { HttpError } from './http-error';
import type { InferenceQueue } from './queue';

export interface VideoServeLimits extends VideoLimits {
  /** Frames a second looked at, and the most frames looked at (spread evenly over longer videos). */
  fps: number;
  maxFrames: number;
}

export const VIDEO_SERVE_DEFAULTS: Omit<VideoServeLimits, 'maxPixels'> = {
  maxBytes: 100 * 1024 * 1024,
  maxDuration: 600,
  maxStreamFrames: 600 * 60,
  fps: 2,
  maxFrames: 240,
};

const STATUS: Record<VideoError['code'], number> = {
  unreadable: 422,
  no_video: 422,
  no_frames: 422,
  too_large: 413,
  too_long: 413,
};

export interface VideoRouteOptions {
  /** Called per request: the model loads after the routes are declared (503 until then). */
  predictor: () => Predictor;
  queue: InferenceQueue;
  limits: VideoServeLimits;
  model: () => object;
}

/** Writes the request's video into `file`; returns the upload's name (or null when there was none). */
async function receive(request: FastifyRequest, file: string, maxBytes: number): Promise<string | null> {
  if (!request.isMultipart()) {
    const body = request.body as Buffer | undefined;
    if (!body || body.length === 0) return null;
    fs.writeFileSync(file, body, { mode: 0o600 });
    return 'upload';
  }
  let name: string | null = null;
  for await (const part of request.parts({ limits: { fileSize: maxBytes } })) {
    if (part.type !== 'file') continue;
    if (part.fieldname !== 'video' || name !== null) {
      await part.toBuffer(); // drain parts we do not use
      continue;
    }
    await pipeline(part.file, fs.createWriteStream(file, { mode: 0o600 }));
    if (part.file.truncated)
      throw new HttpError(413, 'too_large', `${part.filename || 'upload'}: over the limit of ${maxBytes} bytes`);
    name = part.filename || 'upload';
  }
  if (name === null) throw new HttpError(400, 'no_video', 'multipart request without a file field named "video"');
  return name;
}

export function videoRoutes(o: VideoRouteOptions) {
  return async function plugin(app: FastifyInstance): Promise<void> {
    app.post('/api/v1/predict/video', { bodyLimit: o.limits.maxBytes }, async (request, reply) => {
      const model = o.model();
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'realfake-video-'));
      const file = path.join(dir, 'upload');
      try {
        const name = await receive(request, file, o.limits.maxBytes);
        if (name === null)
          throw new HttpError(400, 'no_video', 'no video: send it as the multipart field "video" or as the raw body');
        const head = Buffer.alloc(16);
        const fd = fs.openSync(file, 'r');
        const n = fs.readSync(fd, head, 0, 16, 0);
        fs.closeSync(fd);
        if (!sniffVideoType(head.subarray(0, n)))
          throw new HttpError(
            415,
            'unsupported_type',
            `${name}: not a supported video (MP4, MOV, MKV or WebM, recognised from its bytes)`,
          );
        const named = (text: string) => text.split(file).join(name);
        try {
          const info = await checkVideo(file, o.limits);
          const started = performance.now();
          const result: VideoVerdict = await o.queue.run(() => predictVideo(o.predictor(), file, o.limits, info));
          const ms = Math.round(performance.now() - started);
          return reply.send({ ...result, file: name, warnings: result.warnings.map(named), ms, model });
        } catch (err) {
          if (err instanceof VideoError) throw new HttpError(STATUS[err.code], err.code, named(err.message));
          throw err;
        }
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  };
}
