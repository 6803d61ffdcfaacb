/**
 * An optional API key for /api: requests carry it as `Authorization: Bearer KEY` or `X-API-Key: KEY`; a missing
 * or wrong one answers 401 JSON. The page, its assets, health, readiness, metrics and the OpenAPI document stay
 * open (probes and the proxy need them; the page's in-browser mode never calls the API).
 */
import { createHash, timingSafeEqual } from 'crypto';
import * as fs from 'fs';
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from './http-error';

/** API paths anyone may call: liveness and the API's own description. */
const OPEN_API = ['/api/v1/health', '/api/v1/openapi.json'];

/** True for every path outside the guarded (keyed, rate-limited) API. */
export function isOpenPath(url: string): boolean {
  const pathname = url.split('?')[0];
  return !pathname.startsWith('/api/') || OPEN_API.includes(pathname);
}

/** The key a request carries, or null. */
function presentedKey(request: FastifyRequest): string | null {
  const auth = request.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7).trim();
  const header = request.headers['x-api-key'];
  return typeof header === 'string' ? header.trim() : null;
}

/**
 * Compares digests, not the strings: timingSafeEqual needs equal lengths, and hashing first keeps the time
 * independent of both the key's content and its length.
 */
export function sameKey(presented: string, expected: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();
  return timingSafeEqual(digest(presented), digest(expected));
}

/**
 * Adds the check to each guarded route as it is declared, after the rate limit's hook (register this after
 * lib/serve/rate-limit.ts), so guessing keys is rate-limited too.
 */
export function apiKeyGuard(key: string) {
  if (key.length === 0) throw new Error('the API key is empty');
  const check = async (request: FastifyRequest, reply: FastifyReply) => {
    if (isOpenPath(request.url)) return;
    const presented = presentedKey(request);
    if (presented !== null && sameKey(presented, key)) return;
    reply.header('WWW-Authenticate', 'Bearer');
    throw new HttpError(
      401,
      presented === null ? 'missing_api_key' : 'bad_api_key',
      presented === null
        ? 'this API needs a key: send it as "Authorization: Bearer KEY" or "X-API-Key: KEY"'
        : 'the API key is wrong',
    );
  };
  return fp(async function apiKey(app: FastifyInstance): Promise<void> {
    app.addHook('onRoute', (route) => {
      if (isOpenPath(route.url)) return;
      const hooks = route.onRequest;
      route.onRequest = [...(Array.isArray(hooks) ? hooks : hooks ? [hooks] : []), check];
    });
  });
}

/**
 * The key from `file` (its first line, so a trailing newline does not count) or else the environment's
 * REALFAKE_API_KEY; undefined when neither is set (the API is open). A file is preferred: environment variables
 * show up in process listings and crash reports more readily.
 */
export function readApiKey(file: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const key =
    file !== undefined ? fs.readFileSync(file, 'utf8').split(/\r?\n/)[0].trim() : env.REALFAKE_API_KEY?.trim();
  if (key === undefined) return undefined;
  if (key.length < 16)
    throw new Error(
      `the API key ${file !== undefined ? `in ${file}` : 'in REALFAKE_API_KEY'} is shorter than 16 characters`,
    );
  return key;
}
