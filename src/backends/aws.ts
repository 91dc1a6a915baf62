import {
  awsClientConfig,
  cacheKey,
  directReadPlan,
  nonEmpty,
  type AwsClientConfig,
  type DirectReadPlan,
} from '../aws/config.js';
import { createDirectReads, type DirectTransport } from '../aws/direct-reads.js';
import { profileKeys } from '../aws/shared-config.js';
import type { AwsCredentials } from '../aws/sigv4.js';
import { UsageError } from '../errors.js';
import { AwsKmsKeyService, type KmsApi } from '../keys/aws-kms.js';
import { BATCH_GET_LIMIT, DynamoDbStore, type DynamoDbApi } from '../stores/dynamodb.js';
import type { Backend, BackendSettings, ExpectedReads } from './backend.js';
import type { Environment } from './settings.js';

export {
  CONNECT_TIMEOUT_ENV,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  TIMEOUT_ENV,
  TRANSPORT_ENV,
  awsClientConfig,
  type AwsClientConfig,
} from '../aws/config.js';

/**
 * The credstash backend: a DynamoDB table and AWS KMS.
 *
 * Two transports. The AWS SDK (loaded only when needed) sends every call, except the launcher's
 * reads — DynamoDB `Query` and `BatchGetItem`, KMS `Decrypt` — which credexec signs and sends
 * itself whenever it can resolve their endpoint, signature and retries exactly as the SDK would
 * (`directReadPlan`): the SDK's per-request CPU cost dominated resolving many secrets, and loading
 * it dominated resolving a few. `CREDEXEC_AWS_TRANSPORT=sdk` turns that off.
 */
type SdkClients = typeof import('../aws/sdk-clients.js');
let sdkModule: SdkClients | undefined;

async function loadSdk(): Promise<SdkClients> {
  sdkModule ??= await import('../aws/sdk-clients.js');
  return sdkModule;
}

// One direct transport per configuration, like the SDK clients, sharing keep-alive connections.
const directCache = new Map<string, DirectTransport>();

/** Close every AWS connection this process opened (idle keep-alive sockets included). */
export function closeAwsClients(): void {
  for (const direct of directCache.values()) direct.destroy();
  directCache.clear();
  sdkModule?.releaseAllClients();
}

function release(config: AwsClientConfig): void {
  const key = cacheKey(config);
  directCache.get(key)?.destroy();
  directCache.delete(key);
  sdkModule?.releaseClients(config);
}

async function resolvedRegion(
  provider: () => Promise<string | undefined>,
  service: string,
): Promise<string> {
  let region: string | undefined;
  try {
    region = nonEmpty(await provider());
  } catch {
    region = undefined; // the SDK throws "Region is missing"; say what to do instead
  }
  if (region === undefined) {
    throw new UsageError(
      `no AWS region for ${service}: pass -r/--region, set AWS_REGION, or set a region in your AWS profile`,
    );
  }
  return region;
}

/** Static keys from the environment as they are; anything else from the SDK's providers. */
function credentialsFor(config: AwsClientConfig): () => Promise<AwsCredentials> {
  const { credentials } = config;
  if (credentials !== undefined && config.roleArn === undefined) {
    return () => Promise.resolve(credentials);
  }
  let provider: Promise<() => Promise<AwsCredentials>> | undefined;
  return async () => {
    provider ??= import('../aws/sdk-credentials.js').then((sdk) => sdk.credentialProvider(config));
    return (await provider)();
  };
}

async function readPlan(
  config: AwsClientConfig,
  env: Environment,
): Promise<DirectReadPlan | { readonly reason: string }> {
  if (config.region === undefined) return { reason: 'the region is not in -r or the environment' };
  const profile = await profileKeys(env, config.profile);
  if ('unreadable' in profile) return { reason: `cannot read ${profile.unreadable}` };
  return directReadPlan(config, env, profile.keys);
}

/** The SDK's DynamoDB and KMS bindings, loaded on first use. */
function lazySdkApis(config: AwsClientConfig) {
  let apis: Promise<{ dynamodb: DynamoDbApi; kms: KmsApi }> | undefined;
  return () =>
    (apis ??= loadSdk().then((sdk) => {
      const clients = sdk.clientsFor(config);
      return { dynamodb: sdk.dynamoDbApiOf(clients.dynamodb), kms: sdk.kmsApiOf(clients.kms) };
    }));
}

function directFor(config: AwsClientConfig, plan: DirectReadPlan): DirectTransport {
  const key = cacheKey(config);
  let direct = directCache.get(key);
  if (direct === undefined) {
    direct = createDirectReads(plan, config, credentialsFor(config));
    directCache.set(key, direct);
  }
  return direct;
}

/**
 * Connections for a resolution's reads, opened ahead of them: DynamoDB's now, and KMS's once the
 * DynamoDB requests are on their way, so that its connects and TLS handshakes overlap their round
 * trip instead of following it. A fresh process otherwise opens each connection only when its first
 * request is ready, and Node sends nothing until every request of the burst has been prepared.
 */
function warmUpFor(direct: DirectTransport): (expected: ExpectedReads) => Promise<void> {
  return (expected) => {
    direct.preconnect('dynamodb', expected.latest + Math.ceil(expected.pinned / BATCH_GET_LIMIT));
    return new Promise((resolve) => {
      // One turn of the event loop: the connections are up (or on their way). The caller sends
      // its requests as soon as this resolves, before the next turn opens KMS's connections.
      setImmediate(() => {
        setImmediate(() => direct.preconnect('kms', expected.decrypts));
        resolve();
      });
    });
  };
}

export async function openAwsBackend(
  settings: BackendSettings,
  env: Environment,
): Promise<Backend> {
  const config = awsClientConfig(settings, env);
  const plan = await readPlan(config, env);
  let dynamodb: DynamoDbApi;
  let kms: KmsApi;
  let region: string;
  let kmsRegion: string;
  let warmUp: Backend['warmUp'];
  if ('reason' in plan) {
    const sdk = await loadSdk();
    const clients = sdk.clientsFor(config);
    region = await resolvedRegion(() => clients.dynamodb.config.region(), 'DynamoDB');
    kmsRegion =
      config.kmsRegion === undefined
        ? region
        : await resolvedRegion(() => clients.kms.config.region(), 'KMS');
    dynamodb = sdk.dynamoDbApiOf(clients.dynamodb);
    kms = sdk.kmsApiOf(clients.kms);
  } else {
    const direct = directFor(config, plan);
    warmUp = warmUpFor(direct);
    const sdkApis = lazySdkApis(config);
    region = plan.dynamodb.region;
    kmsRegion = plan.kms.region;
    const viaSdk = <K extends keyof DynamoDbApi>(name: K): DynamoDbApi[K] =>
      (async (input: unknown) =>
        ((await sdkApis()).dynamodb[name] as (input: unknown) => unknown)(input)) as DynamoDbApi[K];
    dynamodb = {
      query: (input) => direct.query(input),
      batchGetItem: (input) => direct.batchGetItem(input),
      getItem: viaSdk('getItem'),
      putItem: viaSdk('putItem'),
      deleteItem: viaSdk('deleteItem'),
      scan: viaSdk('scan'),
      createTable: viaSdk('createTable'),
      describeTable: viaSdk('describeTable'),
      tagResource: viaSdk('tagResource'),
    };
    kms = {
      decrypt: (input) => direct.decrypt(input),
      generateDataKey: async (input) => (await sdkApis()).kms.generateDataKey(input),
    };
  }
  const store = new DynamoDbStore({ api: dynamodb, table: settings.table, region });
  return {
    name: 'aws',
    settings,
    store,
    keys: new AwsKmsKeyService(kms, kmsRegion),
    setup: (options) => store.setup(options),
    ...(warmUp === undefined ? {} : { warmUp }),
    // The launcher calls this as soon as it has started the command, so that a resident credexec does
    // not hold dozens of idle keep-alive connections to DynamoDB and KMS for the child's life.
    close: () => release(config),
  };
}
