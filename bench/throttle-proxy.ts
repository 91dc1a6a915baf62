import { Agent, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { crc32 } from 'node:zlib';
import { forward, readBody } from './delay-proxy.js';

/**
 * An HTTP proxy on 127.0.0.1 in front of a DynamoDB endpoint that admits requests as a token
 * bucket does — `burst` at once, refilled at `perSecond` — and answers the rest the way
 * DynamoDB does when a table or partition is over its throughput: 400 ThrottlingException. A
 * fleet starting at once against a store that throttles (chamber #34).
 */
export interface ThrottleProxy {
  readonly endpoint: string;
  readonly requests: number;
  readonly throttled: number;
  /** Counters to zero and the bucket full again. */
  reset(): void;
  close(): Promise<void>;
}

const THROTTLED = Buffer.from(
  JSON.stringify({
    __type: 'com.amazonaws.dynamodb.v20120810#ThrottlingException',
    message: 'Rate of requests exceeds the allowed throughput.',
  }),
);

export async function startThrottleProxy(
  target: string,
  bucket: { readonly burst: number; readonly perSecond: number },
): Promise<ThrottleProxy> {
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true, maxSockets: 1024 });
  let tokens = bucket.burst;
  let filled = performance.now();
  let requests = 0;
  let throttled = 0;

  const take = (): boolean => {
    const now = performance.now();
    tokens = Math.min(bucket.burst, tokens + ((now - filled) / 1000) * bucket.perSecond);
    filled = now;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  };

  const server = createServer((incoming, outgoing) => {
    void (async () => {
      try {
        const body = await readBody(incoming);
        requests += 1;
        if (!take()) {
          throttled += 1;
          outgoing.writeHead(400, {
            'content-type': 'application/x-amz-json-1.0',
            'content-length': THROTTLED.length,
            'x-amz-crc32': String(crc32(THROTTLED)),
          });
          outgoing.end(THROTTLED);
          return;
        }
        await forward(upstream, agent, incoming, body, outgoing);
      } catch {
        outgoing.destroy();
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    get requests() {
      return requests;
    },
    get throttled() {
      return throttled;
    },
    reset() {
      requests = 0;
      throttled = 0;
      tokens = bucket.burst;
      filled = performance.now();
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        agent.destroy();
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
