/**
 * GET /ready, beside /api/v1/health (liveness): 503 while the model loads and warms up and while the server
 * drains on shutdown, 200 in between. A proxy or orchestrator sends traffic to a replica only when it is ready,
 * so a starting or stopping replica never gets a request it would answer slowly or not at all.
 */
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';

export type ReadyState = 'loading' | 'ready' | 'failed' | 'closing';

const WHY: Record<Exclude<ReadyState, 'ready'>, string> = {
  loading: 'the model is loading and warming up',
  failed: 'the model failed to load (see the server log)',
  closing: 'the server is shutting down',
};

export class Readiness {
  state: ReadyState = 'loading';
  get ready(): boolean {
    return this.state === 'ready';
  }
  /** Why the server is not ready (null when it is). */
  get reason(): string | null {
    return this.state === 'ready' ? null : WHY[this.state];
  }
}

export function readinessRoute(readiness: Readiness) {
  return fp(async function ready(app: FastifyInstance): Promise<void> {
    app.get('/ready', async (_request, reply) => {
      if (readiness.ready) return { status: 'ready' };
      return reply
        .code(503)
        .header('Retry-After', '1')
        .send({ status: readiness.state, error: { code: 'not_ready', message: readiness.reason } });
    });
  });
}
