import { openBackend } from '../../src/backends/open-backend.js';
import type { Backend, BackendOptions } from '../../src/backends/backend.js';
import type { Environment } from '../../src/backends/settings.js';
import { startDynalite, type DynaliteServer } from './dynalite.js';
import { startDynamoProxy, type DynamoProxy } from './dynamodb-proxy.js';
import { KMS_REGION, startKmsServer, type KmsServer } from './kms-server.js';

/**
 * dynalite (behind a counting proxy) and the test KMS, wired together the way a user would point
 * credexec at AWS: through environment variables. Hand `env` to a spawned CLI or to
 * `openBackend({ backend: 'aws' }, env)`. Nothing here reads ~/.aws or the real network.
 */
export interface AwsFixture {
  /** Complete environment for credexec: endpoints, region, dummy credentials, table. */
  readonly env: Readonly<Record<string, string>>;
  readonly table: string;
  readonly region: string;
  readonly kms: KmsServer;
  /** Request counters and fault injection for DynamoDB. */
  readonly dynamodb: DynamoProxy;
  /** dynalite itself, bypassing the proxy (for raw access that should not be counted). */
  readonly dynamodbDirectEndpoint: string;
  /** Open the aws backend against this fixture (extra env wins over the fixture's). */
  openBackend(options?: BackendOptions, extraEnv?: Environment): Promise<Backend>;
  /** Zero both servers' request counters. */
  resetCounters(): void;
  stop(): Promise<void>;
}

export interface AwsFixtureOptions {
  readonly table?: string;
  /** Create the table with the store's own setup (default true). */
  readonly setup?: boolean;
  /** Extra variables, e.g. `AWS_MAX_ATTEMPTS`. */
  readonly env?: Readonly<Record<string, string>>;
}

export async function startAwsFixture(options: AwsFixtureOptions = {}): Promise<AwsFixture> {
  const table = options.table ?? 'credential-store';
  let dynalite: DynaliteServer | undefined;
  let proxy: DynamoProxy | undefined;
  let kms: KmsServer | undefined;
  try {
    dynalite = await startDynalite();
    proxy = await startDynamoProxy(dynalite.endpoint);
    kms = await startKmsServer();
  } catch (error: unknown) {
    await Promise.allSettled([dynalite?.close(), proxy?.close(), kms?.close()]);
    throw error;
  }
  const env: Record<string, string> = {
    AWS_REGION: KMS_REGION,
    AWS_ACCESS_KEY_ID: 'AKIDCREDEXECTEST',
    AWS_SECRET_ACCESS_KEY: 'credexec-test-secret-key',
    AWS_ENDPOINT_URL_DYNAMODB: proxy.endpoint,
    AWS_ENDPOINT_URL_KMS: kms.endpoint,
    // Keep the SDK away from the developer's real configuration and from instance metadata.
    AWS_CONFIG_FILE: '/nonexistent/credexec-test/config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credexec-test/credentials',
    AWS_EC2_METADATA_DISABLED: 'true',
    CREDSTASH_DEFAULT_TABLE: table,
    CREDEXEC_BACKEND: 'aws',
    ...options.env,
  };
  const servers = { dynalite, proxy, kms };
  const fixture: AwsFixture = {
    env,
    table,
    region: KMS_REGION,
    kms,
    dynamodb: proxy,
    dynamodbDirectEndpoint: dynalite.endpoint,
    openBackend: (backendOptions = {}, extraEnv = {}) =>
      openBackend({ backend: 'aws', ...backendOptions }, { ...env, ...extraEnv }),
    resetCounters() {
      servers.proxy.resetCounters();
      servers.kms.resetCounters();
    },
    async stop() {
      await Promise.all([servers.proxy.close(), servers.kms.close(), servers.dynalite.close()]);
    },
  };
  if (options.setup ?? true) {
    try {
      await (await fixture.openBackend()).setup({});
    } catch (error: unknown) {
      await fixture.stop();
      throw error;
    }
    fixture.resetCounters();
  }
  return fixture;
}
