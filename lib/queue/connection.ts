/**
 * Redis connections for the queue: `redis://[user:password@]HOST:PORT[/DB]` (or `rediss://` for TLS) parsed into
 * ioredis options, and, for `predict --queue`, a watch that gives up on a Redis that has been unreachable for a while
 * instead of reconnecting for ever (ioredis' default), so predict fails with a reason instead of hanging.
 * Workers keep reconnecting (BullMQ's default): a worker outlives a Redis restart.
 */
import type { RedisOptions } from 'bullmq';

/** ioredis options for a redis:// URL; throws a one-line reason for anything else. */
export function redisOptions(url: string): RedisOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`${url}: not a URL (expected redis://HOST:PORT)`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')
    throw new Error(`${url}: expected redis://HOST:PORT or rediss://HOST:PORT`);
  if (!parsed.hostname) throw new Error(`${url}: no host (expected redis://HOST:PORT)`);
  const db = parsed.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) throw new Error(`${url}: the path must be a database number, not "${db}"`);
  return {
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: parsed.port ? Number(parsed.port) : 6379,
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(db ? { db: Number(db) } : {}),
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

/** The URL without its password, for messages. */
export function safeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

/**
 * Shared by every connection of one client: how long Redis has been unreachable and the last reason. Its
 * `options` make each connection stop reconnecting once Redis has been gone for `timeoutMs`, so nothing is left
 * retrying in the background and the process can exit.
 */
export class RedisWatch {
  private downSince: number | null = null;
  private lastError = '';
  private stopped = false;
  lost: string | null = null;

  constructor(
    readonly url: string,
    readonly timeoutMs: number,
  ) {}

  /** ioredis options for one connection of this client. */
  options(extra: RedisOptions = {}): RedisOptions {
    return {
      ...redisOptions(this.url),
      connectTimeout: Math.min(5000, this.timeoutMs),
      ...extra,
      retryStrategy: (times: number) => {
        this.down(this.lastError || 'cannot connect');
        return this.lost || this.stopped ? null : Math.min(100 * times, 1000);
      },
    };
  }

  /** Called on every connection error and failed ping. */
  down(reason: string): void {
    this.lastError = reason;
    const now = Date.now();
    this.downSince ??= now;
    if (!this.lost && now - this.downSince >= this.timeoutMs)
      this.lost = `no answer from Redis at ${safeUrl(this.url)} for ${Math.round((now - this.downSince) / 1000)} s (${reason})`;
  }

  /** From now on a lost connection is not tried again (the client is closing). */
  stop(): void {
    this.stopped = true;
  }

  /** Called when a connection is ready or a ping is answered. */
  up(): void {
    this.downSince = null;
  }
}
