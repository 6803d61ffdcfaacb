/**
 * Every error as JSON {error: {code, message}}: bodies announced over the limit refused before they are read
 * (413), the queue's 503 with Retry-After, deliberate HttpErrors with their status, fastify's own 4xx, unknown
 * routes 404, and anything else a 500 whose stack goes to the server's stderr, never to the client.
 */
import fp from 'fastify-plugin';
import type { FastifyError, FastifyInstance } from 'fastify';
import { HttpError } from './http-error';
import { QueueFullError } from './queue';

export function errorHandling(o: { maxBytes: number; logger: boolean }) {
  return fp(async function errors(app: FastifyInstance): Promise<void> {
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
  });
}
