/**
 * Timeouts against slow clients (slowloris): a request must arrive whole (headers and body) within `requestMs`,
 * its headers within `headersMs`, or node answers 408 and closes the connection; other clients are served
 * meanwhile, since a slow one holds only its socket. Node checks these deadlines every
 * connectionsCheckingInterval (30 s by default), so the interval is scaled to the timeout: a 2 s limit then
 * cuts a client off after 2 to 2.5 s rather than after 30.
 *
 * `idleMs` (a socket with no traffic either way) is off by default: a client waiting for a long video's verdict
 * sends nothing and receives nothing for minutes, and must not be cut off.
 */
import type { ServerOptions } from 'http';

export interface TimeoutOptions {
  /** The whole request, body included (0 = none). */
  requestMs: number;
  /** The request's headers (never more than requestMs). */
  headersMs: number;
  /** A silent socket (0 = none). */
  idleMs: number;
}

/** 120 s lets a 100 MB video arrive at about 7 Mbit/s; a public server with small uploads may want less. */
export const TIMEOUT_DEFAULTS: TimeoutOptions = { requestMs: 120_000, headersMs: 20_000, idleMs: 0 };

/** The fastify (and node http) options that apply `t`. */
export function serverTimeouts(t: TimeoutOptions): {
  requestTimeout: number;
  connectionTimeout: number;
  http: ServerOptions;
} {
  const headersMs = t.requestMs > 0 ? Math.min(t.headersMs, t.requestMs) : t.headersMs;
  const shortest = Math.min(...[t.requestMs, headersMs].filter((ms) => ms > 0));
  return {
    requestTimeout: t.requestMs,
    connectionTimeout: t.idleMs,
    http: {
      headersTimeout: headersMs,
      connectionsCheckingInterval: Number.isFinite(shortest)
        ? Math.max(100, Math.min(30_000, Math.floor(shortest / 4)))
        : 30_000,
    },
  };
}
