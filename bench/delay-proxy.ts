import {
  Agent,
  createServer,
  type IncomingHttpHeaders,
  request as httpRequest,
  type IncomingMessage,
  type RequestListener,
  type ServerResponse,
} from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * An HTTP proxy on 127.0.0.1 that holds every request for a fixed delay before forwarding it to
 * `target` (a simulated network round trip). It counts requests (in all and per AWS operation) and
 * the peak number in flight.
 *
 * With `replay`, a request it has forwarded before (same `X-Amz-Target` and body: a Query for one
 * name, a Decrypt of one blob) is answered, after the delay, with the answer the server gave then,
 * without reaching the server. AWS answers each client from a fleet, so its own work never queues
 * behind another request's; a test server on one core does, and at 200 requests in a burst it
 * becomes the bottleneck. Replaying keeps the delay and the proxy's own HTTP work and takes the
 * server's compute off the path. Only 2xx answers are kept; the bench seeds its store once and
 * changes nothing while it measures, so a replayed answer is what the server would answer again.
 */
export interface DelayProxy {
  readonly endpoint: string;
  readonly delayMs: number;
  readonly count: number;
  /** Requests of one operation (the part of `X-Amz-Target` after the dot: `Query`, `Decrypt`). */
  countOf(operation: string): number;
  /** Requests answered from the recording (`replay`). */
  readonly replayed: number;
  readonly peakInFlight: number;
  /** Connections clients opened (TLS handshakes, when the proxy speaks TLS). */
  readonly connections: number;
  resetCounters(): void;
  close(): Promise<void>;
}

export async function readBody(stream: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export interface RecordedAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/**
 * Send a request whose `body` was read on to `upstream` (plain HTTP) and pipe its answer back to
 * `outgoing`; settles when the answer has been passed on. For the bench's proxies.
 */
export function forward(
  upstream: URL,
  agent: Agent,
  incoming: IncomingMessage,
  body: Buffer,
  outgoing: ServerResponse,
  /** Given the upstream's answer when it has been read whole (it is then sent in one piece). */
  record?: (answer: RecordedAnswer) => void,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const forwarded = httpRequest(
      {
        agent,
        hostname: upstream.hostname,
        port: upstream.port,
        method: incoming.method,
        path: incoming.url,
        headers: { ...incoming.headers, host: upstream.host },
        timeout: 30_000,
      },
      (response) => {
        const status = response.statusCode ?? 502;
        response.on('error', reject);
        if (record === undefined) {
          outgoing.writeHead(status, response.headers);
          response.pipe(outgoing);
          response.on('end', resolve);
          return;
        }
        void readBody(response).then((body) => {
          const answer = { status, headers: response.headers, body };
          record(answer);
          outgoing.writeHead(status, answer.headers).end(body, resolve);
        }, reject);
      },
    );
    forwarded.on('timeout', () => forwarded.destroy(new Error('upstream timeout')));
    forwarded.on('error', reject);
    forwarded.end(body);
  });
}

/**
 * With `tls`, clients speak HTTPS to the proxy (as they do to AWS), so connection set-up costs what
 * it costs in production; the hop to the test server stays plain HTTP.
 */
export async function startDelayProxy(
  target: string,
  delayMs: number,
  tls?: { readonly key: Buffer; readonly cert: Buffer },
  /** How long a client's idle connection is kept (Node's default: 5 s). */
  keepAliveTimeoutMs?: number,
  /** Answer requests seen before from a recording (see DelayProxy). */
  replay = false,
): Promise<DelayProxy> {
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true, maxSockets: 1024 });
  const recorded = new Map<string, RecordedAnswer>();
  const operations = new Map<string, number>();
  let replayed = 0;
  let count = 0;
  let inFlight = 0;
  let peakInFlight = 0;
  let connections = 0;

  const handler: RequestListener = (incoming, outgoing) => {
    void (async () => {
      count += 1;
      inFlight += 1;
      peakInFlight = Math.max(peakInFlight, inFlight);
      const target = String(incoming.headers['x-amz-target'] ?? '');
      const operation = target.slice(target.lastIndexOf('.') + 1);
      operations.set(operation, (operations.get(operation) ?? 0) + 1);
      try {
        const body = await readBody(incoming);
        if (delayMs > 0) await sleep(delayMs);
        if (!replay) {
          await forward(upstream, agent, incoming, body, outgoing);
          return;
        }
        const key = `${target}\n${body.toString('latin1')}`;
        const answer = recorded.get(key);
        if (answer !== undefined) {
          replayed += 1;
          await new Promise<void>((resolve) => {
            outgoing.writeHead(answer.status, answer.headers).end(answer.body, resolve);
          });
          return;
        }
        await forward(upstream, agent, incoming, body, outgoing, (fresh) => {
          if (fresh.status >= 200 && fresh.status < 300) recorded.set(key, fresh);
        });
      } catch {
        outgoing.destroy();
      } finally {
        inFlight -= 1;
      }
    })();
  };
  const server = tls === undefined ? createServer(handler) : createTlsServer(tls, handler);
  if (keepAliveTimeoutMs !== undefined) server.keepAliveTimeout = keepAliveTimeoutMs;
  server.on(tls === undefined ? 'connection' : 'secureConnection', () => {
    connections += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `${tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`,
    delayMs,
    get count() {
      return count;
    },
    countOf: (operation) => operations.get(operation) ?? 0,
    get replayed() {
      return replayed;
    },
    get peakInFlight() {
      return peakInFlight;
    },
    get connections() {
      return connections;
    },
    resetCounters() {
      count = 0;
      replayed = 0;
      operations.clear();
      connections = 0;
      peakInFlight = inFlight;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        agent.destroy();
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
