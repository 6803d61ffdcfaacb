/**
 * A stand-in for Kaggle on 127.0.0.1: an API server that checks basic auth and redirects (302) to a
 * separate "storage" server on another port, which serves the zips with Range support. Both record
 * every request so tests can check what was sent where; knobs make the storage misbehave on purpose.
 */
import * as http from 'http';
import { once } from 'events';
import type { AddressInfo } from 'net';

export interface RecordedRequest {
  url: string;
  headers: http.IncomingHttpHeaders;
  status: number;
}

export interface FakeKaggleOptions {
  username: string;
  key: string;
  /** "owner/slug" → zip bytes. */
  datasets: Record<string, Buffer>;
}

export class FakeKaggle {
  readonly apiRequests: RecordedRequest[] = [];
  readonly storageRequests: RecordedRequest[] = [];
  /** "owner/slug" entries answered with 403 (terms not accepted). */
  readonly forbidden = new Set<string>();
  /** Cut the next storage response(s) off after this many body bytes (one entry per response). */
  readonly cutAfterBytes: number[] = [];
  /** Answer every Range request with the whole file (200), like servers without Range support. */
  ignoreRange = false;
  private api = http.createServer((req, res) => this.handleApi(req, res));
  private storage = http.createServer((req, res) => this.handleStorage(req, res));

  constructor(private readonly options: FakeKaggleOptions) {}

  async start(): Promise<this> {
    this.api.listen(0, '127.0.0.1');
    this.storage.listen(0, '127.0.0.1');
    await Promise.all([once(this.api, 'listening'), once(this.storage, 'listening')]);
    return this;
  }

  get apiBase(): string {
    return `http://127.0.0.1:${(this.api.address() as AddressInfo).port}/api/v1`;
  }

  private get storageBase(): string {
    return `http://127.0.0.1:${(this.storage.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const server of [this.api, this.storage]) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  private handleApi(req: http.IncomingMessage, res: http.ServerResponse): void {
    const answer = (status: number, headers: http.OutgoingHttpHeaders = {}) => {
      this.apiRequests.push({ url: req.url ?? '', headers: req.headers, status });
      res.writeHead(status, headers).end();
    };
    const expected = `Basic ${Buffer.from(`${this.options.username}:${this.options.key}`).toString('base64')}`;
    if (req.headers.authorization !== expected) return answer(401);
    const m = /^\/api\/v1\/datasets\/download\/([^/]+)\/([^/?]+)$/.exec(req.url ?? '');
    const name = m ? `${m[1]}/${m[2]}` : '';
    if (!m || !(name in this.options.datasets)) return answer(404);
    if (this.forbidden.has(name)) return answer(403);
    // Like Kaggle: a signed, short-lived URL on another host.
    answer(302, { Location: `${this.storageBase}/storage/${m[1]}__${m[2]}.zip?X-Goog-Signature=secret` });
  }

  private handleStorage(req: http.IncomingMessage, res: http.ServerResponse): void {
    const m = /^\/storage\/([^/]+)__([^/?]+)\.zip\?/.exec(req.url ?? '');
    const body = m ? this.options.datasets[`${m[1]}/${m[2]}`] : undefined;
    const record = (status: number) => this.storageRequests.push({ url: req.url ?? '', headers: req.headers, status });
    if (!body) {
      record(404);
      res.writeHead(404).end();
      return;
    }
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    let start = 0;
    if (range && !this.ignoreRange) {
      start = Number(range[1]);
      if (start >= body.length) {
        record(416);
        res.writeHead(416, { 'Content-Range': `bytes */${body.length}` }).end();
        return;
      }
      record(206);
      res.writeHead(206, {
        'Content-Length': body.length - start,
        'Content-Range': `bytes ${start}-${body.length - 1}/${body.length}`,
      });
    } else {
      record(200);
      res.writeHead(200, { 'Content-Length': body.length });
    }
    const rest = body.subarray(start);
    const cut = this.cutAfterBytes.shift();
    if (cut === undefined) {
      res.end(rest);
    } else {
      // Send part of the promised body, then drop the connection.
      res.write(rest.subarray(0, cut), () => res.destroy());
    }
  }
}
