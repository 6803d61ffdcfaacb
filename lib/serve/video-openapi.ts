/** The OpenAPI description of POST /api/v1/predict/video (lib/serve/video-route.ts implements it). */
import { uploadBody } from './openapi-upload';
import type { VideoServeLimits } from './video-route';

const box = { type: 'object', description: 'pixels of the decoded (upright) frame: x, y, width, height' };

const track = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    frames: { type: 'integer', description: 'sampled frames the face was found in' },
    firstSeen: { type: 'number', description: 'seconds' },
    lastSeen: { type: 'number', description: 'seconds' },
    box: { ...box, description: 'where the face was first seen' },
    verdict: { type: 'string', enum: ['Real', 'Fake (AI-generated)', 'Uncertain'] },
    confidence: { type: 'number' },
    pFake: {
      type: 'number',
      description: "mean pFake over the track's frames (the verdict is the run's policy on it)",
    },
    interval: {
      type: 'object',
      description: '95 % percentile-bootstrap interval of the mean over frames: {low, high, confidence}',
    },
    fakeShare: { type: 'number', description: 'share of the frames that alone would be called fake' },
    scores: {
      type: 'array',
      items: { type: 'object', description: '{time, pFake, verdict, box, crop} for each frame of the track' },
    },
  },
  required: ['id', 'frames', 'firstSeen', 'lastSeen', 'box', 'verdict', 'pFake', 'interval', 'scores'],
};

export function videoPath(limits: VideoServeLimits, errors: Record<string, object>): object {
  return {
    post: {
      summary: `verdicts per tracked face in one video (MP4, MOV, MKV, WebM; up to ${limits.maxBytes} bytes, ${limits.maxDuration} s; ${limits.fps} frames/s looked at, at most ${limits.maxFrames}, spread evenly over longer videos)`,
      requestBody: uploadBody('video'),
      responses: {
        '200': {
          description: 'one verdict per tracked face',
          content: {
            'application/json': {
              schema: {
                type: 'object',
                properties: {
                  file: { type: 'string' },
                  video: { type: 'object', description: 'format, codec, duration, rotation, frame rate, frame size' },
                  sampling: { type: 'object', description: 'fps, frames planned, interval, decoded; note when spread' },
                  warnings: { type: 'array', items: { type: 'string' } },
                  tracks: { type: 'array', items: track },
                  ms: { type: 'number' },
                },
                required: ['file', 'video', 'sampling', 'warnings', 'tracks'],
              },
            },
          },
        },
        ...errors,
      },
    },
  };
}
