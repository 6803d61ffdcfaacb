/**
 * GET /api/v1/health (liveness, loading or not; readiness is /ready), /api/v1/model (what the model is and how it
 * decides) and /api/v1/openapi.json (lib/serve/openapi.ts).
 */
import type { FastifyInstance } from 'fastify';
import type { InferenceQueue } from './queue';
import type { Readiness } from './readiness';

export interface InfoRouteOptions {
  readiness: Readiness;
  queue: InferenceQueue;
  /** The loaded model's summary, or null while it loads. */
  summary: () => unknown;
  /** The loaded model (throws a 503 HttpError while it loads). */
  model: () => { info: unknown };
  openApi: () => unknown;
}

export function infoRoutes(o: InfoRouteOptions) {
  return async function info(app: FastifyInstance): Promise<void> {
    // Liveness: ok while the process answers, loading or not (readiness is /ready).
    app.get('/api/v1/health', async () => ({
      status: 'ok',
      ready: o.readiness.ready,
      model: o.summary(),
      queue: o.queue.stats,
      uptimeSeconds: Math.round(process.uptime()),
    }));
    app.get('/api/v1/model', async () => o.model().info);
    app.get('/api/v1/openapi.json', async () => o.openApi());
  };
}
