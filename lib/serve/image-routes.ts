/**
 * POST /api/v1/predict (one image: multipart field `image`, or the raw bytes) and /api/v1/predict/batch
 * (several multipart files, one result or error each): checked and decoded in memory, type sniffed from the
 * bytes, pixels limited before decoding, then scored through the inference queue.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import sharp, { Metadata } from 'sharp';
import { decodeImageRgb, RgbImage } from '../data/images';
import { FACE_MODES, FaceMode, PhotoVerdict, predictFacesInImage } from '../infer/faces';
import type { Predictor } from '../infer/predict';
import type { FaceExplainer } from './gradcam-hook';
import { HttpError } from './http-error';
import type { InferenceQueue } from './queue';
import { ImageType, sniffImageType } from './sniff';

export interface ImageResult extends PhotoVerdict {
  type: ImageType;
  mode: FaceMode;
  message?: string;
  ms: number;
}

export interface ImageRouteOptions {
  /** The loaded model (throws a 503 HttpError while it loads). */
  model: () => { predictor: Predictor; explainer: FaceExplainer | null; summary: unknown };
  queue: InferenceQueue;
  maxPixels: number;
}

export function imageRoutes(o: ImageRouteOptions) {
  return async function images(app: FastifyInstance): Promise<void> {
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
      return o.queue.run(async () => {
        // A client that gave up while queued (closed its connection) gets no answer: skip the work.
        if (closed?.()) throw new HttpError(499, 'client_closed', 'the client closed the connection');
        const started = performance.now();
        let image: RgbImage;
        try {
          image = await decodeImageRgb(bytes, name);
        } catch (err) {
          throw new HttpError(422, 'undecodable', (err as Error).message);
        }
        const { predictor, explainer } = o.model();
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
      const { summary } = o.model();
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
      const { summary } = o.model();
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
  };
}
