/**
 * Prometheus metrics at GET /metrics (prom-client): requests by method, route and status, their latency, and the
 * inference queue (waiting and running). Each server has its own registry (never prom-client's global one), so
 * several servers in one process (tests) do not mix their counts. Routes are labelled by their pattern, and
 * unmatched URLs all as "unmatched", so a scan of random URLs cannot grow the label set without bound.
 */
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { InferenceQueue } from './queue';

export const METRIC_NAMES = {
  requests: 'realfake_http_requests_total',
  duration: 'realfake_http_request_duration_seconds',
  queued: 'realfake_inference_queue_depth',
  running: 'realfake_inference_running',
} as const;

/** Latency buckets, seconds: from a health check to a long video. */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

export function metricsPlugin(queue: InferenceQueue) {
  return fp(async function metrics(app: FastifyInstance): Promise<void> {
    const registry = new Registry();
    // Process CPU, memory, event-loop lag and GC, prefixed so they sit beside the server's own.
    collectDefaultMetrics({ register: registry, prefix: 'realfake_' });
    const labelNames = ['method', 'route', 'status'] as const;
    const requests = new Counter({
      name: METRIC_NAMES.requests,
      help: 'HTTP requests answered, by method, route pattern and status',
      labelNames,
      registers: [registry],
    });
    const duration = new Histogram({
      name: METRIC_NAMES.duration,
      help: 'HTTP request latency from arrival to the last byte of the answer, seconds',
      labelNames,
      buckets: BUCKETS,
      registers: [registry],
    });
    // Read when scraped, so the gauges are never stale.
    new Gauge({
      name: METRIC_NAMES.queued,
      help: 'inferences waiting for a slot (the server answers 503 when this reaches its limit)',
      registers: [registry],
      collect() {
        this.set(queue.stats.queued);
      },
    });
    new Gauge({
      name: METRIC_NAMES.running,
      help: 'inferences running now',
      registers: [registry],
      collect() {
        this.set(queue.stats.running);
      },
    });

    app.addHook('onResponse', async (request, reply) => {
      const labels = {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status: String(reply.statusCode),
      };
      requests.inc(labels);
      duration.observe(labels, reply.elapsedTime / 1000);
    });
    app.get('/metrics', async (_request, reply) => {
      reply.type(registry.contentType);
      return registry.metrics();
    });
  });
}
