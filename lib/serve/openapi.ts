/** The OpenAPI 3.1 document served at /api/v1/openapi.json (lib/serve/server.ts implements it). */
import { uploadBody } from './openapi-upload';
import { videoPath } from './video-openapi';
import type { VideoServeLimits } from './video-route';

const box = {
  type: 'object',
  description: 'pixels of the photo: left, top, width, height',
  properties: {
    x: { type: 'integer' },
    y: { type: 'integer' },
    width: { type: 'integer' },
    height: { type: 'integer' },
  },
  required: ['x', 'y', 'width', 'height'],
};

const face = {
  type: 'object',
  properties: {
    box: { ...box, description: "the face detector's box (the whole image when faces=whole)" },
    crop: { ...box, description: 'the FFHQ-style square that was scored; may extend past the edges (black there)' },
    detectorScore: { type: ['number', 'null'], description: "the detector's face confidence (null when faces=whole)" },
    verdict: {
      type: 'string',
      enum: ['Real', 'Fake (AI-generated)', 'Uncertain'],
      description:
        "Uncertain: inside the band the run's model card picked on validation (each side 95 % precise there); runs without a card use the threshold alone",
    },
    confidence: {
      type: 'number',
      description: 'probability of the verdict given (for Uncertain: of the likelier class)',
    },
    pFake: {
      type: 'number',
      description: "probability that the face is AI-generated, temperature-scaled by the model card's calibration",
    },
    gradcam: {
      type: 'string',
      description: 'Grad-CAM overlay of the crop (PNG data URL), with ?gradcam=1 when the server has an explainer',
    },
  },
  required: ['box', 'crop', 'verdict', 'confidence', 'pFake'],
};

const imageResult = {
  type: 'object',
  properties: {
    faces: { type: 'array', items: face },
    message: { type: 'string', description: '"no face found" when faces is empty' },
    width: { type: 'integer' },
    height: { type: 'integer' },
    type: { type: 'string', description: 'image type sniffed from the bytes' },
    mode: { type: 'string', enum: ['detect', 'whole'] },
    ms: { type: 'number', description: 'decode + detection + scoring time, excluding time queued' },
  },
  required: ['faces', 'width', 'height', 'type', 'mode', 'ms'],
};

const error = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: { code: { type: 'string' }, message: { type: 'string' } },
      required: ['code', 'message'],
    },
  },
  required: ['error'],
};

const model = {
  type: 'object',
  properties: { run: { type: 'string' }, engine: { type: 'string' }, imageSize: { type: 'integer' } },
};

const json = (schema: object, description: string) => ({ description, content: { 'application/json': { schema } } });

export function openApiDocument(limits: {
  maxBytes: number;
  maxPixels: number;
  maxBatch: number;
  maxQueued: number;
  video: VideoServeLimits;
}): object {
  const errors = {
    '400': json(error, 'no image in the request, or a bad parameter'),
    '413': json(error, `upload over ${limits.maxBytes} bytes, or image over ${limits.maxPixels} pixels`),
    '415': json(error, 'not an image type the server reads (sniffed from the bytes)'),
    '422': json(error, 'an image type the server reads, but corrupt or truncated'),
    '503': json(error, `inference queue full (${limits.maxQueued} waiting); see Retry-After`),
  };
  const facesParam = {
    name: 'faces',
    in: 'query',
    schema: { type: 'string', enum: ['detect', 'whole'], default: 'detect' },
    description: 'detect: find faces and score each; whole: score the whole image as one face crop',
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'realfake',
      version: '1',
      description:
        'Real or AI-generated? A verdict for every face in a photo. Label 0 = real, 1 = fake; fake is the positive class.',
    },
    paths: {
      '/api/v1/predict': {
        post: {
          summary: 'verdicts for the faces in one image',
          parameters: [
            facesParam,
            {
              name: 'gradcam',
              in: 'query',
              schema: { type: 'string', enum: ['0', '1'] },
              description: '1: add a Grad-CAM overlay per face (when GET /api/v1/model says gradcam: true)',
            },
          ],
          requestBody: uploadBody('image'),
          responses: {
            '200': json({ ...imageResult, properties: { ...imageResult.properties, model } }, 'one result per face'),
            ...errors,
          },
        },
      },
      '/api/v1/predict/batch': {
        post: {
          summary: `verdicts for up to ${limits.maxBatch} images (multipart file fields, any names)`,
          parameters: [facesParam],
          requestBody: {
            required: true,
            content: {
              'multipart/form-data': {
                schema: { type: 'object', additionalProperties: { type: 'string', format: 'binary' } },
              },
            },
          },
          responses: {
            '200': json(
              {
                type: 'object',
                properties: {
                  results: {
                    type: 'array',
                    items: { oneOf: [imageResult, error], description: 'each with the file name as name' },
                  },
                  model,
                  ms: { type: 'number' },
                },
              },
              'one result or error per image, in order',
            ),
            ...errors,
          },
        },
      },
      '/api/v1/predict/video': videoPath(limits.video, {
        ...errors,
        '413': json(error, 'over the byte, duration, frame or pixel limit'),
      }),
      '/api/v1/health': {
        get: { summary: 'liveness and inference-queue state', responses: { '200': json({ type: 'object' }, 'ok') } },
      },
      '/api/v1/model': {
        get: {
          summary: 'the run: id, config, metrics, verdict policy, model card, engine, face detector',
          responses: {
            '200': json(
              {
                type: 'object',
                properties: {
                  policy: {
                    type: 'object',
                    description: 'threshold (raw pFake), temperature, band: {target, real, fake} edges (null: no band)',
                  },
                  card: {
                    type: ['object', 'null'],
                    description:
                      'the model card (model-card.json): sources and counts, per-source metrics, band, not validated on; null for runs without one',
                  },
                },
              },
              'model information',
            ),
          },
        },
      },
      '/api/v1/openapi.json': {
        get: { summary: 'this document', responses: { '200': json({ type: 'object' }, 'OpenAPI 3.1') } },
      },
    },
  };
}
