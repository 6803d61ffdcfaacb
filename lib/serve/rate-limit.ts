/**
 * Per-client rate limit on the API (@fastify/rate-limit): over `max` requests in `windowMs` from one client
 * answers 429 with Retry-After and the usual JSON error. In memory, per replica: behind a proxy spreading clients
 * over N replicas a client gets up to N × max (set the proxy's own limit for an exact global one). The client is
 * request.ip, which is the proxy's address unless the server trusts X-Forwarded-For (ServeOptions.trustProxy).
 */
import rateLimit from '@fastify/rate-limit';
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { HttpError } from './http-error';
import { isOpenPath } from './api-key';

export interface RateLimitOptions {
  /** Requests per client per window. */
  max: number;
  windowMs: number;
}

/** What `realfake serve` uses unless told otherwise; createServer has no limit unless given one. */
export const RATE_LIMIT_DEFAULTS: RateLimitOptions = { max: 60, windowMs: 60_000 };

/** Must be registered before the routes: the plugin adds its hook to each route as the route is declared. */
export function apiRateLimit(o: RateLimitOptions) {
  return fp(async function limit(app: FastifyInstance): Promise<void> {
    await app.register(rateLimit, {
      max: o.max,
      timeWindow: o.windowMs,
      // Only the API costs inference; the page, its assets, health, readiness and metrics are never limited.
      allowList: (request) => isOpenPath(request.url),
      errorResponseBuilder: (_request, context) =>
        new HttpError(
          429,
          'rate_limited',
          `too many requests: at most ${context.max} per ${o.windowMs / 1000} s from one client; retry in ${context.after}`,
        ),
    });
  });
}
