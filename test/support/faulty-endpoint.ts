import {
  request as httpRequest,
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { FaultQueue } from './fault-queue.js';

/**
 * An HTTP endpoint that misbehaves the way networks and overloaded services do, in front of a
 * well-behaved one (dynalite's proxy or the test KMS): it forwards every request unless a
 * misbehaviour is pending for its operation (`X-Amz-Target: <Service>.<Operation>`), in which
 * case it never answers, cuts the answer short, announces a huge one, or answers with a body the
 * AWS JSON protocol does not allow. Aimed at a client through `AWS_ENDPOINT_URL_<SERVICE>`.
 */
export type Misbehaviour =
  /** Read the request, then never answer (the connection stays open until the client gives up). */
  | { readonly kind: 'hang' }
  /** Close the connection without answering. */
  | { readonly kind: 'reset' }
  /** Forward, then send the headers (true Content-Length) and only the first half of the body. */
  | { readonly kind: 'truncate' }
  /**
   * Answer 200 announcing `declaredBytes` in Content-Length, send `sentBytes` of filler (at the
   * client's pace) and then nothing more, keeping the connection open. With a huge declared size
   * this is an oversized answer; with a small one, an answer that stalls half-way.
   */
  | { readonly kind: 'stall'; readonly declaredBytes: number; readonly sentBytes: number }
  /** Answer with this status and body without forwarding. */
  | {
      readonly kind: 'respond';
      readonly status: number;
      readonly body: string;
      readonly contentType?: string;
    }
  /** Forward, then replace the answer's body with `rewrite(body)` (status and headers kept). */
  | { readonly kind: 'rewrite'; readonly rewrite: (body: string) => string };

export interface FaultyEndpoint {
  /** `http://127.0.0.1:PORT`. */
  readonly endpoint: string;
  /**
   * The next `times` requests of `operation` (any operation when undefined) get `behaviour`;
   * `times` defaults to every request from now on.
   */
  misbehave(behaviour: Misbehaviour, options?: { operation?: string; times?: number }): void;
  /** Forward everything again. */
  clear(): void;
  /** Requests received per operation, misbehaved ones included. */
  count(operation?: string): number;
  close(): Promise<void>;
}

const EVERY_REQUEST = Number.MAX_SAFE_INTEGER;

async function readBody(stream: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

function forward(upstream: URL, incoming: IncomingMessage, body: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      {
        hostname: upstream.hostname,
        port: upstream.port,
        method: incoming.method,
        path: incoming.url,
        headers: { ...incoming.headers, host: upstream.host },
      },
      (response) => {
        readBody(response).then((data) => {
          const headers: Record<string, string> = {};
          for (const [name, value] of Object.entries(response.headers)) {
            if (typeof value !== 'string') continue;
            // The body is re-sent whole or altered: its framing and checksum are recomputed.
            if (['transfer-encoding', 'content-length', 'x-amz-crc32'].includes(name)) continue;
            headers[name] = value;
          }
          resolve({ status: response.statusCode ?? 502, headers, body: data });
        }, reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

function operationOf(headers: IncomingHttpHeaders): string {
  const target = headers['x-amz-target'];
  return typeof target === 'string' ? target.replace(/^.*\./, '') : '';
}

/** Write `total` bytes of filler, waiting for the client to drain; stops when it goes away. */
function streamFiller(response: ServerResponse, total: number): void {
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  let sent = 0;
  const pump = () => {
    while (sent < total && !response.destroyed) {
      const size = Math.min(chunk.length, total - sent);
      sent += size;
      if (!response.write(chunk.subarray(0, size))) {
        response.once('drain', pump);
        return;
      }
    }
  };
  pump();
}

export async function startFaultyEndpoint(upstream: string): Promise<FaultyEndpoint> {
  const target = new URL(upstream);
  const faults = new FaultQueue<string, Misbehaviour>();
  const counts = new Map<string, number>();
  const sockets = new Set<Socket>();

  async function serve(incoming: IncomingMessage, outgoing: ServerResponse): Promise<void> {
    const body = await readBody(incoming);
    const operation = operationOf(incoming.headers);
    counts.set(operation, (counts.get(operation) ?? 0) + 1);
    const fault = faults.take(operation);
    if (fault?.kind === 'hang') return;
    if (fault?.kind === 'reset') {
      outgoing.socket?.destroy();
      return;
    }
    if (fault?.kind === 'respond') {
      const payload = Buffer.from(fault.body);
      outgoing.writeHead(fault.status, {
        'content-type': fault.contentType ?? 'application/x-amz-json-1.0',
        'content-length': payload.length,
      });
      outgoing.end(payload);
      return;
    }
    if (fault?.kind === 'stall') {
      outgoing.writeHead(200, {
        'content-type': 'application/x-amz-json-1.0',
        'content-length': fault.declaredBytes,
      });
      outgoing.flushHeaders();
      streamFiller(outgoing, fault.sentBytes);
      return;
    }
    const answer = await forward(target, incoming, body);
    let payload = answer.body;
    if (fault?.kind === 'rewrite') payload = Buffer.from(fault.rewrite(payload.toString('utf8')));
    outgoing.writeHead(answer.status, {
      ...answer.headers,
      'content-length': String(payload.length),
    });
    if (fault?.kind === 'truncate') {
      outgoing.write(payload.subarray(0, Math.floor(payload.length / 2)), () =>
        outgoing.socket?.destroy(),
      );
      return;
    }
    outgoing.end(payload);
  }

  const server = createServer((incoming, outgoing) => {
    serve(incoming, outgoing).catch(() => outgoing.socket?.destroy());
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    misbehave(behaviour, options = {}) {
      faults.add(behaviour, options.times ?? EVERY_REQUEST, options.operation);
    },
    clear() {
      faults.clear();
    },
    count(operation) {
      if (operation !== undefined) return counts.get(operation) ?? 0;
      let total = 0;
      for (const value of counts.values()) total += value;
      return total;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const socket of sockets) socket.destroy();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** A local port nothing listens on (bound, then released): connecting to it is refused. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
