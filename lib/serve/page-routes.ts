/**
 * The page (GET /) and everything it loads (lib/serve/assets.ts), its /config.js (the model's description for
 * the page), and /model/model.onnx for its in-browser mode.
 */
import * as fs from 'fs';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { mimeOf } from './assets';
import { HttpError } from './http-error';

export interface PageRouteOptions {
  assets: Record<string, string>;
  /** The loaded model (throws a 503 HttpError while it loads). */
  model: () => { info: Record<string, unknown>; onnx: Buffer | null };
}

export function pageRoutes(o: PageRouteOptions) {
  return async function page(app: FastifyInstance): Promise<void> {
    const sendFile = (reply: FastifyReply, file: string) =>
      reply.type(mimeOf(file)).header('Cache-Control', 'no-cache').send(fs.createReadStream(file));
    app.get('/', (_request, reply) => sendFile(reply, o.assets['index.html']));
    for (const [url, file] of Object.entries(o.assets)) app.get(`/${url}`, (_request, reply) => sendFile(reply, file));
    app.get('/config.js', (_request, reply) => {
      reply
        .type(mimeOf('x.js'))
        .send(
          `window.REALFAKE_CONFIG = ${JSON.stringify({ server: true, model: { ...o.model().info, config: undefined } })};\n`,
        );
    });
    app.get('/model/model.onnx', (request, reply) => {
      const { onnx } = o.model();
      if (!onnx) throw new HttpError(404, 'not_found', `no route GET ${request.url}: the model has no ONNX export`);
      return reply.type('application/octet-stream').send(onnx);
    });
  };
}
