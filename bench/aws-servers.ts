import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { putSecret } from '../src/secrets/put-secret.js';
import { createLimiter } from '../src/util/concurrency.js';
import { startAwsFixture, type AwsFixture } from '../test/support/aws-fixture.js';
import { startDelayProxy, type DelayProxy } from './delay-proxy.js';

/**
 * The aws world the bench measures credexec against: dynalite and the test KMS
 * (`test/support/aws-fixture.ts`), each behind a plain and a TLS delay proxy, with the request
 * counters the tables report. Runs in the bench's own process or in a server process of its own
 * (`bench/server-process.ts`, see `bench/aws-world.ts`).
 */

/** `tls`: through the delay proxy over HTTPS, as credexec reaches AWS (handshakes included). */
export type Path = 'direct' | 'delayed' | 'tls';

export interface RequestCounts {
  readonly query: number;
  readonly batchGetItem: number;
  readonly dynamodbTotal: number;
  readonly decrypt: number;
  readonly kmsTotal: number;
  /** Highest number of DynamoDB / KMS requests in flight at once (at the first hop). */
  readonly peakDynamodb: number;
  readonly peakKms: number;
  /** Connections (TLS handshakes on the tls path) opened to the delay proxies; not on direct. */
  readonly connectionsDynamodb?: number;
  readonly connectionsKms?: number;
  /** Requests the proxies answered from their recording (servers started with `replay`). */
  readonly replayed?: number;
}

// A self-signed certificate for 127.0.0.1 (test-only), for the tls path.
export const TLS_CERT = fileURLToPath(
  new URL('../test/support/tls/localhost.crt', import.meta.url),
);
const TLS_KEY = fileURLToPath(new URL('../test/support/tls/localhost.key', import.meta.url));

export const nameOf = (index: number) => `bench.secret.${String(index).padStart(4, '0')}`;
const variableOf = (index: number) => `BENCH_SECRET_${String(index).padStart(4, '0')}`;

/** Put secrets 0…n-1 (one version each) into the fixture's table. */
export async function seedSecrets(fixture: AwsFixture, n: number): Promise<void> {
  const backend = await fixture.openBackend();
  const limit = createLimiter(16);
  await Promise.all(
    Array.from({ length: n }, (_, index) =>
      limit(() =>
        putSecret(backend, { name: nameOf(index), value: `value-${index}-${'v'.repeat(24)}` }),
      ),
    ),
  );
  fixture.resetCounters();
}

/** A dotenv manifest naming secrets 0…n-1 (latest versions). */
export function writeManifest(dir: string, n: number): string {
  const path = join(dir, `manifest-${n}.env`);
  const lines = Array.from({ length: n }, (_, index) => `${variableOf(index)}=${nameOf(index)}\n`);
  writeFileSync(path, lines.join(''));
  return path;
}

/** What the servers tell a client: the fixture's environment and each path's endpoints. */
export interface ServersInfo {
  /** Complete environment for credexec (direct endpoints, region, dummy credentials, table). */
  readonly env: Readonly<Record<string, string>>;
  /** Variables that point credexec at the servers by `path` (they override `env`'s). */
  readonly endpoints: Readonly<Record<Path, Readonly<Record<string, string>>>>;
}

export interface AwsServers extends ServersInfo {
  seed(n: number): Promise<void>;
  resetCounters(): void;
  counts(path: Path): RequestCounts;
  close(): Promise<void>;
}

/**
 * Start dynalite, the test KMS and the delay proxies (plain and TLS) in this process. With
 * `replay`, the proxies answer requests they have seen before from a recording (see DelayProxy):
 * the delayed paths then cost the servers nothing after the first run.
 */
export async function startAwsServers(delayMs: number, replay = false): Promise<AwsServers> {
  const fx = await startAwsFixture();
  const proxies: DelayProxy[] = [];
  try {
    const start = async (target: string, tls?: { key: Buffer; cert: Buffer }) => {
      const proxy = await startDelayProxy(target, delayMs, tls, undefined, replay);
      proxies.push(proxy);
      return proxy;
    };
    const tls = { key: readFileSync(TLS_KEY), cert: readFileSync(TLS_CERT) };
    const delayed = {
      dynamodb: await start(fx.dynamodb.endpoint),
      kms: await start(fx.kms.endpoint),
    };
    const overTls = {
      dynamodb: await start(fx.dynamodb.endpoint, tls),
      kms: await start(fx.kms.endpoint, tls),
    };
    const first = (path: Path) =>
      path === 'tls' ? overTls : path === 'delayed' ? delayed : undefined;
    const endpoints: Record<Path, Record<string, string>> = {
      direct: {
        AWS_ENDPOINT_URL_DYNAMODB: fx.dynamodb.endpoint,
        AWS_ENDPOINT_URL_KMS: fx.kms.endpoint,
      },
      delayed: {
        AWS_ENDPOINT_URL_DYNAMODB: delayed.dynamodb.endpoint,
        AWS_ENDPOINT_URL_KMS: delayed.kms.endpoint,
      },
      tls: {
        AWS_ENDPOINT_URL_DYNAMODB: overTls.dynamodb.endpoint,
        AWS_ENDPOINT_URL_KMS: overTls.kms.endpoint,
        // credexec trusts the bench's self-signed certificate the way a user would.
        NODE_EXTRA_CA_CERTS: TLS_CERT,
      },
    };
    const resetCounters = () => {
      fx.resetCounters();
      for (const proxy of proxies) proxy.resetCounters();
    };
    return {
      env: fx.env,
      endpoints,
      async seed(n) {
        await seedSecrets(fx, n);
        resetCounters();
      },
      resetCounters,
      counts(path) {
        const proxy = first(path);
        if (proxy === undefined) {
          return {
            query: fx.dynamodb.count('Query'),
            batchGetItem: fx.dynamodb.count('BatchGetItem'),
            dynamodbTotal: fx.dynamodb.count(),
            decrypt: fx.kms.count('Decrypt'),
            kmsTotal: fx.kms.count(),
            peakDynamodb: fx.dynamodb.peakInFlight,
            peakKms: fx.kms.peakInFlight,
          };
        }
        // Counted where credexec's requests arrive: replayed ones never reach the servers.
        return {
          query: proxy.dynamodb.countOf('Query'),
          batchGetItem: proxy.dynamodb.countOf('BatchGetItem'),
          dynamodbTotal: proxy.dynamodb.count,
          decrypt: proxy.kms.countOf('Decrypt'),
          kmsTotal: proxy.kms.count,
          peakDynamodb: proxy.dynamodb.peakInFlight,
          peakKms: proxy.kms.peakInFlight,
          connectionsDynamodb: proxy.dynamodb.connections,
          connectionsKms: proxy.kms.connections,
          ...(replay ? { replayed: proxy.dynamodb.replayed + proxy.kms.replayed } : {}),
        };
      },
      async close() {
        await Promise.allSettled(proxies.map((proxy) => proxy.close()));
        await fx.stop();
      },
    };
  } catch (error: unknown) {
    await Promise.allSettled(proxies.map((proxy) => proxy.close()));
    await fx.stop();
    throw error;
  }
}
