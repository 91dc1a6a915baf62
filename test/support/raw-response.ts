import type { ServerResponse } from 'node:http';

/**
 * A broken answer a test server sends instead of the real one, to see how a client copes with
 * responses no healthy AWS endpoint gives: a body that is not JSON or has the wrong shape, a
 * Content-Length that announces gigabytes, a body cut short, a body that never ends.
 *
 * - `{ body: '{"Items":"nope"}' }` — a complete 200 answer with exactly these bytes.
 * - `{ body: '{"Ite', contentLength: 100, then: 'close' }` — 5 of 100 announced bytes, then the
 *   connection is dropped (a truncated body).
 * - `{ contentLength: 5e9, then: 'hang' }` — announces 5 GB, sends nothing, keeps the connection.
 * - `{ contentLength: 'chunked', then: 'stream' }` — a chunked body of filler bytes that goes on
 *   until the client goes away (or `streamLimit` bytes were sent, so that a client without a cap
 *   fails a test instead of eating the machine).
 */
export interface RawResponse {
  /** Default 200. */
  readonly status?: number;
  /** Sent first; default empty. */
  readonly body?: string | Uint8Array;
  /** Announced length; default the body's length. `'chunked'` announces none. */
  readonly contentLength?: number | 'chunked';
  /**
   * After the body: `end` (default) completes the response; `close` drops the connection;
   * `hang` sends nothing more and keeps the connection open; `stream` sends filler bytes.
   */
  readonly then?: 'end' | 'close' | 'hang' | 'stream';
  /** For `stream`: stop after this many bytes (then hang). Default 256 MiB. */
  readonly streamLimit?: number;
  /** Extra headers (the content type of the service is set already). */
  readonly headers?: Readonly<Record<string, string>>;
}

const FILLER = Buffer.alloc(64 * 1024, 0x20); // spaces: JSON whitespace, for what it's worth

/** Send `raw` as the answer; `contentType` is the service's JSON content type. */
export function sendRaw(response: ServerResponse, raw: RawResponse, contentType: string): void {
  const body = Buffer.from(raw.body ?? '');
  const length = raw.contentLength ?? body.length;
  response.writeHead(raw.status ?? 200, {
    'content-type': contentType,
    ...(length === 'chunked' ? {} : { 'content-length': String(length) }),
    ...raw.headers,
  });
  response.flushHeaders(); // even when nothing follows
  // A body longer than the announced length is cut to it: the rest would be garbage on the
  // connection (the next "response"), which is not what a test asks for.
  if (body.length > 0) response.write(length === 'chunked' ? body : body.subarray(0, length));
  switch (raw.then ?? 'end') {
    case 'end':
      response.end();
      return;
    case 'close':
      // Flush what was written, then drop the connection mid-body.
      response.socket?.end();
      setImmediate(() => response.destroy());
      return;
    case 'hang':
      return;
    case 'stream': {
      let left = raw.streamLimit ?? 256 * 1024 * 1024;
      const pump = () => {
        while (left > 0 && !response.destroyed) {
          const chunk = FILLER.subarray(0, Math.min(FILLER.length, left));
          left -= chunk.length;
          if (!response.write(chunk)) {
            response.once('drain', pump);
            return;
          }
        }
      };
      pump();
      return;
    }
  }
}
