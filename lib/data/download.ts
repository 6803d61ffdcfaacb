/**
 * Resumable HTTP(S) download to a file: streams to `<dest>.part`, resumes with a Range request after an
 * interruption, follows redirects without leaking credentials to other hosts, and renames to `dest` only
 * when every byte has arrived. Knows nothing about Kaggle; callers turn DownloadStatusError into their own advice.
 */
import * as fs from 'fs';
import * as http from 'http';
import * as https from 'https';
import { finished } from 'stream/promises';
import { Transform } from 'stream';

export interface DownloadOptions {
  url: string;
  /** Final path; bytes go to `${dest}.part` until complete. */
  dest: string;
  /** Sent only to the origin of `url` (so an Authorization header never reaches a redirect target on another host). */
  originHeaders?: Record<string, string>;
  onProgress?: (receivedBytes: number, totalBytes: number | null) => void;
  maxRedirects?: number;
  /** Abort when no data arrives for this long (a stalled connection counts as cut). */
  idleTimeoutMs?: number;
  /** Aborting it cuts the transfer like a broken connection: the .part file keeps what arrived. */
  signal?: AbortSignal;
}

export interface DownloadResult {
  path: string;
  bytes: number;
  /** Bytes that were already on disk from an earlier, interrupted attempt and were not fetched again. */
  resumedFrom: number;
}

/** The server answered with a status we cannot use. `url` is the one that answered (maybe after redirects). */
export class DownloadStatusError extends Error {
  constructor(readonly status: number, readonly url: string, readonly fromOrigin: boolean) {
    super(`HTTP ${status} from ${redactUrl(url)}`);
  }
}

/** The connection broke (or stalled) mid-body; the `.part` file keeps what arrived. */
export class DownloadInterruptedError extends Error {
  constructor(readonly partPath: string, readonly receivedBytes: number, readonly totalBytes: number | null, cause: unknown) {
    const of = totalBytes === null ? '' : ` of ${totalBytes}`;
    super(`download interrupted after ${receivedBytes}${of} bytes (${(cause as Error)?.message ?? cause}); ${partPath} is kept: re-running resumes`);
  }
}

/** Signed storage URLs carry secrets in their query string: never print it. */
export function redactUrl(url: string): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname}${u.search ? '?…' : ''}`;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** Downloads `url` to `dest`, resuming from `${dest}.part` if present. Returns at once if `dest` already exists. */
export async function downloadResumable(options: DownloadOptions): Promise<DownloadResult> {
  const { dest } = options;
  if (fs.existsSync(dest)) return { path: dest, bytes: fs.statSync(dest).size, resumedFrom: fs.statSync(dest).size };
  const partPath = `${dest}.part`;
  // Two passes at most: the second one only after the server rejected our resume point (a 416 with a size mismatch).
  for (let attempt = 0; attempt < 2; attempt++) {
    const start = partSize(partPath);
    const response = await request(options, start > 0 ? { Range: `bytes=${start}-` } : {});
    const { res } = response;
    if (res.statusCode === 416) {
      res.resume();
      // "Range not satisfiable": fine if we already have the whole file, otherwise start over.
      const total = totalFromContentRange(res.headers['content-range']);
      if (total !== null && total === start) return finish(partPath, dest, start, start);
      fs.rmSync(partPath, { force: true });
      continue;
    }
    if (res.statusCode !== 200 && res.statusCode !== 206) {
      res.resume();
      throw new DownloadStatusError(res.statusCode ?? 0, response.url, response.fromOrigin);
    }
    // A 200 means the server ignored (or we did not send) Range: the body is the whole file, so overwrite.
    let offset = 0;
    let total: number | null = contentLength(res);
    if (res.statusCode === 206) {
      const range = parseContentRange(res.headers['content-range']);
      if (!range || range.start !== start) {
        // A partial answer that does not continue our file cannot be appended safely: restart from zero.
        res.resume();
        fs.rmSync(partPath, { force: true });
        continue;
      }
      offset = start;
      total = range.total;
    }
    await receiveBody(res, partPath, offset, total, options);
    return finish(partPath, dest, partSize(partPath), offset);
  }
  throw new Error(`${redactUrl(options.url)}: server keeps rejecting the resume point; delete ${partPath} and re-run`);
}

/**
 * Streams the body into the .part file. Not `pipeline`: on a cut connection it would destroy the file
 * stream and drop bytes already received but not yet written; here the file is ended gracefully instead,
 * so the .part holds everything that arrived and the next run resumes exactly there.
 */
async function receiveBody(
  res: http.IncomingMessage,
  partPath: string,
  offset: number,
  total: number | null,
  options: DownloadOptions,
): Promise<void> {
  let received = offset;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      received += chunk.length;
      options.onProgress?.(received, total);
      done(null, chunk);
    },
  });
  options.onProgress?.(received, total);
  const file = fs.createWriteStream(partPath, { flags: offset > 0 ? 'a' : 'w' });
  // A local write error (ENOSPC, EACCES…) stops the transfer; it is not an interruption, the caller explains it.
  file.on('error', () => res.destroy());
  const written = finished(file);
  res.pipe(counter).pipe(file);
  let cut: unknown = null;
  try {
    await finished(res);
  } catch (err) {
    cut = err;
    res.unpipe(counter);
    counter.end();
  }
  await written;
  // A server that closes the socket early without an error still leaves us short.
  if (cut === null && total !== null && partSize(partPath) !== total) cut = new Error('connection closed early');
  if (cut !== null) throw new DownloadInterruptedError(partPath, partSize(partPath), total, cut);
}

function finish(partPath: string, dest: string, bytes: number, resumedFrom: number): DownloadResult {
  fs.renameSync(partPath, dest);
  return { path: dest, bytes, resumedFrom };
}

interface Answer {
  res: http.IncomingMessage;
  url: string;
  fromOrigin: boolean;
}

/** GET with manual redirects: origin headers (credentials) go only to the original origin. */
async function request(options: DownloadOptions, extraHeaders: Record<string, string>): Promise<Answer> {
  const origin = new URL(options.url).origin;
  let url = options.url;
  const maxRedirects = options.maxRedirects ?? 5;
  for (let hop = 0; hop <= maxRedirects; hop++) {
    const fromOrigin = new URL(url).origin === origin;
    const headers = { ...extraHeaders, ...(fromOrigin ? options.originHeaders : {}) };
    const res = await get(url, headers, options.idleTimeoutMs ?? 60_000, options.signal);
    if (!REDIRECT_STATUSES.has(res.statusCode ?? 0)) return { res, url, fromOrigin };
    res.resume();
    const location = res.headers.location;
    if (!location) throw new DownloadStatusError(res.statusCode ?? 0, url, fromOrigin);
    url = new URL(location, url).toString();
  }
  throw new Error(`${redactUrl(options.url)}: more than ${maxRedirects} redirects`);
}

/** The idle timeout covers the whole exchange: a body that stops flowing is destroyed and counts as a cut connection. */
function get(url: string, headers: Record<string, string>, idleTimeoutMs: number, signal?: AbortSignal): Promise<http.IncomingMessage> {
  const client = url.startsWith('https:') ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.get(url, { headers: { 'User-Agent': 'realfake', ...headers }, signal }, resolve);
    req.setTimeout(idleTimeoutMs, () => req.destroy(new Error(`no data from ${new URL(url).host} for ${idleTimeoutMs / 1000} s`)));
    req.on('error', reject);
  });
}

function partSize(partPath: string): number {
  try {
    return fs.statSync(partPath).size;
  } catch {
    return 0;
  }
}

function contentLength(res: http.IncomingMessage): number | null {
  const value = Number(res.headers['content-length']);
  return Number.isInteger(value) && value >= 0 ? value : null;
}

/** "bytes 100-999/1000" → {start: 100, total: 1000}; total is null for "/*". */
function parseContentRange(header: string | undefined): { start: number; total: number | null } | null {
  const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(header?.trim() ?? '');
  if (!m) return null;
  return { start: Number(m[1]), total: m[3] === '*' ? null : Number(m[3]) };
}

/** "bytes *\/1000" (the form a 416 carries) → 1000. */
function totalFromContentRange(header: string | undefined): number | null {
  const m = /\/(\d+)$/.exec(header?.trim() ?? '');
  return m ? Number(m[1]) : null;
}
