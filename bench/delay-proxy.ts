import {
  Agent,
  createServer,
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
 * `target` (a simulated network round trip). It counts requests and the peak number in flight.
 */
export interface DelayProxy {
  readonly endpoint: string;
  readonly delayMs: number;
  readonly count: number;
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
        outgoing.writeHead(response.statusCode ?? 502, response.headers);
        response.pipe(outgoing);
        response.on('end', resolve);
        response.on('error', reject);
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
): Promise<DelayProxy> {
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true, maxSockets: 1024 });
  let count = 0;
  let inFlight = 0;
  let peakInFlight = 0;
  let connections = 0;

  const handler: RequestListener = (incoming, outgoing) => {
    void (async () => {
      count += 1;
      inFlight += 1;
      peakInFlight = Math.max(peakInFlight, inFlight);
      try {
        const body = await readBody(incoming);
        if (delayMs > 0) await sleep(delayMs);
        await forward(upstream, agent, incoming, body, outgoing);
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
    get peakInFlight() {
      return peakInFlight;
    },
    get connections() {
      return connections;
    },
    resetCounters() {
      count = 0;
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
