import { createHash } from 'node:crypto';
import type { BackendSettings } from '../backends/backend.js';
import type { Environment } from '../backends/settings.js';
import { UsageError } from '../errors.js';

/**
 * The credstash backend: a DynamoDB table and AWS KMS. Configuration follows the SDK's conventions
 * (default credential chain, profiles, `AWS_ENDPOINT_URL[_SERVICE]`, `AWS_MAX_ATTEMPTS`), read from
 * the `env` handed in so that callers and tests can configure it without touching process.env.
 */
export const TIMEOUT_ENV = 'CREDEXEC_AWS_TIMEOUT_MS';
export const CONNECT_TIMEOUT_ENV = 'CREDEXEC_AWS_CONNECT_TIMEOUT_MS';
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 3_000;

/**
 * Connections per service over TLS, for both transports. A TLS handshake costs credexec about
 * 3 ms of CPU (measured: 100 Decrypts against a local TLS server took 410 ms of CPU over 64
 * connections, 200 ms over 16, and were no slower even at 20 ms per request), far more than
 * waiting for a keep-alive connection to AWS in the same region; requests beyond this queue.
 * Plain-http endpoints (emulators) are bounded only by the number of requests in flight.
 */
export const TLS_CONNECTIONS_PER_SERVICE = 16;

type RetryMode = 'standard' | 'adaptive' | 'legacy';

interface StaticCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** Everything needed to build the clients, resolved from settings and env. Pure data. */
export interface AwsClientConfig {
  readonly region: string | undefined;
  readonly kmsRegion: string | undefined;
  readonly profile: string | undefined;
  readonly roleArn: string | undefined;
  readonly endpoints: {
    readonly dynamodb: string | undefined;
    readonly kms: string | undefined;
    readonly sts: string | undefined;
  };
  /** From AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY when no profile is selected, as the SDK does. */
  readonly credentials: StaticCredentials | undefined;
  readonly maxAttempts: number | undefined;
  readonly retryMode: RetryMode | undefined;
  readonly connectTimeoutMs: number;
  readonly requestTimeoutMs: number;
}

export function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function positiveInteger(env: Environment, name: string): number | undefined {
  const text = nonEmpty(env[name]);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) {
    throw new UsageError(`${name} must be a positive whole number, not "${text}"`);
  }
  return value;
}

function retryModeOf(env: Environment): RetryMode | undefined {
  const mode = nonEmpty(env.AWS_RETRY_MODE);
  if (mode === undefined) return undefined;
  if (mode === 'standard' || mode === 'adaptive' || mode === 'legacy') return mode;
  throw new UsageError(`AWS_RETRY_MODE must be standard or adaptive, not "${mode}"`);
}

function endpointFor(env: Environment, service: 'DYNAMODB' | 'KMS' | 'STS'): string | undefined {
  if (nonEmpty(env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS)?.toLowerCase() === 'true') return undefined;
  return nonEmpty(env[`AWS_ENDPOINT_URL_${service}`]) ?? nonEmpty(env.AWS_ENDPOINT_URL);
}

/** Resolve the client configuration (SPEC §1). Pure: reads only `settings` and `env`. */
export function awsClientConfig(settings: BackendSettings, env: Environment): AwsClientConfig {
  const profile = settings.profile ?? nonEmpty(env.AWS_PROFILE);
  const accessKeyId = nonEmpty(env.AWS_ACCESS_KEY_ID);
  const secretAccessKey = nonEmpty(env.AWS_SECRET_ACCESS_KEY);
  const sessionToken = nonEmpty(env.AWS_SESSION_TOKEN);
  const credentials =
    profile === undefined && accessKeyId !== undefined && secretAccessKey !== undefined
      ? { accessKeyId, secretAccessKey, ...(sessionToken === undefined ? {} : { sessionToken }) }
      : undefined;
  const region = settings.region ?? nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION);
  return {
    region,
    kmsRegion: settings.kmsRegion,
    profile,
    roleArn: settings.roleArn,
    endpoints: {
      dynamodb: endpointFor(env, 'DYNAMODB'),
      kms: endpointFor(env, 'KMS'),
      sts: endpointFor(env, 'STS'),
    },
    credentials,
    maxAttempts: positiveInteger(env, 'AWS_MAX_ATTEMPTS'),
    retryMode: retryModeOf(env),
    connectTimeoutMs: positiveInteger(env, CONNECT_TIMEOUT_ENV) ?? DEFAULT_CONNECT_TIMEOUT_MS,
    requestTimeoutMs: positiveInteger(env, TIMEOUT_ENV) ?? DEFAULT_REQUEST_TIMEOUT_MS,
  };
}

/** One set of clients per process and configuration (credentials hashed, never kept in clear). */
export function cacheKey(config: AwsClientConfig): string {
  const { credentials, ...rest } = config;
  const identity =
    credentials === undefined
      ? null
      : createHash('sha256')
          .update(
            `${credentials.accessKeyId}\0${credentials.secretAccessKey}\0${credentials.sessionToken ?? ''}`,
          )
          .digest('hex');
  return JSON.stringify({ ...rest, identity });
}

/**
 * `CREDEXEC_AWS_TRANSPORT=sdk` sends every call through the AWS SDK, including the launcher's
 * reads that credexec otherwise signs and sends itself (see `directReadPlan`). An escape hatch.
 */
export const TRANSPORT_ENV = 'CREDEXEC_AWS_TRANSPORT';

export function transportOf(env: Environment): 'auto' | 'sdk' {
  const value = nonEmpty(env[TRANSPORT_ENV])?.toLowerCase();
  if (value === undefined || value === 'auto') return 'auto';
  if (value === 'sdk') return 'sdk';
  throw new UsageError(`${TRANSPORT_ENV} must be auto or sdk, not "${env[TRANSPORT_ENV]}"`);
}

/** Keys of the selected profile (shared config file) that change endpoints, TLS or retries. */
export const PROFILE_KEYS_FOR_SDK: readonly string[] = [
  'endpoint_url',
  'services',
  'ignore_configured_endpoint_urls',
  'use_fips_endpoint',
  'use_dualstack_endpoint',
  'retry_mode',
  'max_attempts',
  'account_id_endpoint_mode',
];

/** Standard endpoints of the partitions credexec resolves itself (the SDK's partition table). */
const PARTITIONS: readonly { readonly pattern: RegExp; readonly dnsSuffix: string }[] = [
  { pattern: /^(us|eu|ap|sa|ca|me|af|il|mx)-\w+-\d+$/, dnsSuffix: 'amazonaws.com' },
  { pattern: /^cn-\w+-\d+$/, dnsSuffix: 'amazonaws.com.cn' },
  { pattern: /^us-gov-\w+-\d+$/, dnsSuffix: 'amazonaws.com' },
];

export interface DirectTarget {
  readonly endpoint: URL;
  readonly region: string;
}

/** Where credexec sends the launcher's reads itself: DynamoDB Query/BatchGetItem, KMS Decrypt. */
export interface DirectReadPlan {
  readonly dynamodb: DirectTarget;
  readonly kms: DirectTarget;
}

function isTrue(value: string | undefined): boolean {
  return nonEmpty(value)?.toLowerCase() === 'true';
}

/** A custom endpoint credexec can sign for exactly: plain http(s), a path with nothing to escape. */
function plainEndpoint(text: string): URL | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  const plain =
    (url.protocol === 'http:' || url.protocol === 'https:') &&
    url.username === '' &&
    url.password === '' &&
    url.search === '' &&
    url.hash === '' &&
    /^[A-Za-z0-9._~/-]*$/.test(url.pathname);
  return plain ? url : undefined;
}

function target(
  service: 'dynamodb' | 'kms',
  region: string,
  custom: string | undefined,
): DirectTarget | string {
  if (custom !== undefined) {
    const endpoint = plainEndpoint(custom);
    return endpoint === undefined
      ? `the ${service} endpoint URL needs the SDK`
      : { endpoint, region };
  }
  const partition = PARTITIONS.find(({ pattern }) => pattern.test(region));
  if (partition === undefined)
    return `region ${region} is outside the aws, aws-cn and aws-us-gov partitions`;
  return { endpoint: new URL(`https://${service}.${region}.${partition.dnsSuffix}`), region };
}

/**
 * Whether credexec can send the launcher's read calls itself, and where; otherwise why not (the
 * SDK then sends them). It can when everything that decides the endpoint, the signature and the
 * retries is known without the SDK: the region comes from `-r` or the environment, the endpoint
 * is a standard one of the aws, aws-cn or aws-us-gov partitions or a plain custom URL, and
 * neither the environment nor the selected profile asks for FIPS or dual-stack endpoints,
 * adaptive retries or endpoint overrides. Credentials may come from anywhere. (The SDK for
 * JavaScript ignores AWS_CA_BUNDLE and ca_bundle; both transports trust Node's CA store plus
 * NODE_EXTRA_CA_CERTS.)
 * Pure: `profileKeys` are the keys set in the selected profile of the shared config file.
 */
export function directReadPlan(
  config: AwsClientConfig,
  env: Environment,
  profileKeys: ReadonlySet<string>,
): DirectReadPlan | { readonly reason: string } {
  if (transportOf(env) === 'sdk') return { reason: `${TRANSPORT_ENV}=sdk` };
  if (config.region === undefined) return { reason: 'the region is not in -r or the environment' };
  if (isTrue(env.AWS_USE_FIPS_ENDPOINT) || isTrue(env.AWS_USE_DUALSTACK_ENDPOINT)) {
    return { reason: 'FIPS or dual-stack endpoints are asked for' };
  }
  if (config.retryMode === 'adaptive') return { reason: 'adaptive retries are asked for' };
  // DynamoDB's account-based endpoints: the regional endpoint serves every account, so credexec
  // uses it unless they are required.
  if (nonEmpty(env.AWS_ACCOUNT_ID_ENDPOINT_MODE)?.toLowerCase() === 'required') {
    return { reason: 'account-based DynamoDB endpoints are required' };
  }
  const key = PROFILE_KEYS_FOR_SDK.find((name) => profileKeys.has(name));
  if (key !== undefined) return { reason: `the AWS profile sets ${key}` };
  const dynamodb = target('dynamodb', config.region, config.endpoints.dynamodb);
  if (typeof dynamodb === 'string') return { reason: dynamodb };
  const kms = target('kms', config.kmsRegion ?? config.region, config.endpoints.kms);
  if (typeof kms === 'string') return { reason: kms };
  return { dynamodb, kms };
}
