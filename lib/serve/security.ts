/**
 * Security headers for a server that faces the public (@fastify/helmet), with a Content-Security-Policy the page
 * works under: everything it loads (its scripts, the vendored face-api, onnxruntime-web and tfjs wasm files, the
 * face models, the run's ONNX file) comes from this origin, so 'self' is enough; the few inline scripts of
 * index.html are allowed by their hashes (computed from the file, so editing it cannot silently break the page);
 * WebAssembly needs 'wasm-unsafe-eval' (not 'unsafe-eval'); previews and the embedded-asset path use blob: URLs.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import helmet from '@fastify/helmet';
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';

/** 'sha256-…' sources for every inline <script> of a page. */
export function inlineScriptHashes(html: string): string[] {
  return [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map(
    (m) => `'sha256-${createHash('sha256').update(m[1], 'utf8').digest('base64')}'`,
  );
}

export function contentSecurityPolicy(indexHtml: string): Record<string, string[]> {
  return {
    defaultSrc: ["'self'"],
    scriptSrc: ["'self'", "'wasm-unsafe-eval'", ...inlineScriptHashes(fs.readFileSync(indexHtml, 'utf8'))],
    styleSrc: ["'self'"],
    imgSrc: ["'self'", 'data:', 'blob:'],
    mediaSrc: ["'self'", 'blob:'],
    connectSrc: ["'self'", 'blob:'],
    workerSrc: ["'self'", 'blob:'],
    objectSrc: ["'none'"],
    baseUri: ["'self'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
  };
}

/** Helmet's headers on every answer, API and errors included; `indexHtml` is the page the CSP must allow. */
export function securityHeaders(indexHtml: string) {
  return fp(async function security(app: FastifyInstance): Promise<void> {
    await app.register(helmet, {
      contentSecurityPolicy: { useDefaults: false, directives: contentSecurityPolicy(indexHtml) },
      // The page may be served over plain HTTP behind no proxy (loopback use); HSTS is the TLS proxy's to send.
      strictTransportSecurity: false,
    });
  });
}
