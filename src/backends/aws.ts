import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { createHash } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { fromNodeProviderChain, fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { UsageError } from '../errors.js';
import { AwsKmsKeyService, kmsApiOf } from '../keys/aws-kms.js';
import { DynamoDbStore, dynamoDbApiOf } from '../stores/dynamodb.js';
import { awsErrorCode, awsErrorMessage } from '../util/aws-errors.js';
import type { Backend, BackendSettings } from './backend.js';
import type { Environment } from './settings.js';

/**
 * The credstash backend: a DynamoDB table and AWS KMS. Configuration follows the SDK's conventions
 * (default credential chain, profiles, `AWS_ENDPOINT_URL[_SERVICE]`, `AWS_MAX_ATTEMPTS`), read from
 * the `env` handed in so that callers and tests can configure it without touching process.env.
 */
export const TIMEOUT_ENV = 'CREDEXEC_AWS_TIMEOUT_MS';
export const CONNECT_TIMEOUT_ENV = 'CREDEXEC_AWS_CONNECT_TIMEOUT_MS';
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 3_000;

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

function nonEmpty(value: string | undefined): string | undefined {
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

/**
 * On Node < 22 the SDK's client constructor emits a NodeVersionSupportWarning through
 * process.emitWarning, which Node prints to stderr. The SDK's own switch turns it off and marks
 * it as handled for the whole process (the nested STS/SSO clients share that state). The switch
 * is set only while the constructor runs so it never reaches a child's environment.
 */
function withoutNodeVersionWarning<T>(construct: () => T): T {
  const previous = process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  try {
    return construct();
  } finally {
    if (previous === undefined) delete process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
    else process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = previous;
  }
}

// The credential providers and the HTTP handler log through this: credexec prints nothing it did
// not decide to print. The clients keep the SDK's own NoOpLogger, which the SDK recognizes: with
// any other logger it copies and filters every request and response for logging (measured at
// about 10% of credexec's CPU time for 100 secrets), even when the logger drops everything.
const quietLogger = {
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

export interface AwsClients {
  readonly dynamodb: DynamoDBClient;
  readonly kms: KMSClient;
}

// One client of each kind per process and configuration, sharing keep-alive connections.
const clientCache = new Map<string, AwsClients>();

function cacheKey(config: AwsClientConfig): string {
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

type CredentialProvider = ReturnType<typeof fromTemporaryCredentials>;
type CredentialIdentity = Awaited<ReturnType<CredentialProvider>>;

// Refresh the role's credentials this long before they expire (the SDK clients' own margin).
const ROLE_REFRESH_MARGIN_MS = 5 * 60_000;

/**
 * A failed AssumeRole, named for the role. Its name is the SDK's for credential failures, so the
 * DynamoDB and KMS error mappings report it as a credentials problem instead of blaming the
 * DynamoDB or KMS action that was waiting for credentials.
 */
function assumeRoleFailure(roleArn: string, error: unknown): Error {
  const code = awsErrorCode(error);
  const detail = awsErrorMessage(error);
  const failure = new Error(
    code === 'AccessDenied' || code === 'AccessDeniedException'
      ? `cannot assume role ${roleArn}: access denied; the base credentials need sts:AssumeRole on it and the role must trust them`
      : `cannot assume role ${roleArn}: ${code ?? 'error'}${detail === undefined ? '' : ` (${detail})`}`,
    { cause: error },
  );
  failure.name = 'CredentialsProviderError';
  return failure;
}

/**
 * The role's credentials, shared by the DynamoDB and KMS clients: each client memoizes its own
 * credentials, so without this every client would call AssumeRole on its own.
 */
function sharedRoleCredentials(roleArn: string, assume: CredentialProvider): CredentialProvider {
  let current: Promise<CredentialIdentity> | undefined;
  const refresh = (properties?: Parameters<CredentialProvider>[0]) => {
    const attempt = assume(properties).catch((error: unknown) => {
      if (current === attempt) current = undefined;
      throw assumeRoleFailure(roleArn, error);
    });
    current = attempt;
    return attempt;
  };
  return async (properties) => {
    const pending = current;
    if (pending !== undefined) {
      const identity = await pending;
      const expiration = identity.expiration?.getTime();
      if (expiration === undefined || expiration - Date.now() > ROLE_REFRESH_MARGIN_MS) {
        return identity;
      }
      // Stale: renew once, unless another caller already did.
      if (current !== pending) return current ?? refresh(properties);
    }
    return refresh(properties);
  };
}

function createClients(config: AwsClientConfig): AwsClients {
  const requestHandler = {
    connectionTimeout: config.connectTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    // Without this the handler only logs a warning when requestTimeout passes.
    throwOnRequestTimeout: true,
    httpAgent: new HttpAgent({ keepAlive: true }),
    httpsAgent: new HttpsAgent({ keepAlive: true }),
    logger: quietLogger,
  };
  const common = {
    requestHandler,
    // Resolve each command's middleware stack once instead of on every request; credexec never
    // changes a stack after its first request.
    cacheMiddleware: true,
    ...(config.profile === undefined ? {} : { profile: config.profile }),
    ...(config.maxAttempts === undefined ? {} : { maxAttempts: config.maxAttempts }),
    ...(config.retryMode === undefined ? {} : { retryMode: config.retryMode }),
  };
  return withoutNodeVersionWarning(() => {
    const base =
      config.credentials ??
      fromNodeProviderChain({
        logger: quietLogger,
        ...(config.profile === undefined ? {} : { profile: config.profile }),
      });
    const credentials =
      config.roleArn === undefined
        ? base
        : sharedRoleCredentials(
            config.roleArn,
            fromTemporaryCredentials({
              params: { RoleArn: config.roleArn, RoleSessionName: `credexec-${Date.now()}` },
              masterCredentials: base,
              logger: quietLogger,
              clientConfig: {
                ...common,
                ...(config.region === undefined ? {} : { region: config.region }),
                ...(config.endpoints.sts === undefined ? {} : { endpoint: config.endpoints.sts }),
              },
            }),
          );
    const dynamodb = new DynamoDBClient({
      ...common,
      credentials,
      ...(config.region === undefined ? {} : { region: config.region }),
      ...(config.endpoints.dynamodb === undefined ? {} : { endpoint: config.endpoints.dynamodb }),
    });
    const kmsRegion = config.kmsRegion ?? config.region;
    const kms = new KMSClient({
      ...common,
      credentials,
      ...(kmsRegion === undefined ? {} : { region: kmsRegion }),
      ...(config.endpoints.kms === undefined ? {} : { endpoint: config.endpoints.kms }),
    });
    return { dynamodb, kms };
  });
}

function clientsFor(config: AwsClientConfig): AwsClients {
  const key = cacheKey(config);
  let clients = clientCache.get(key);
  if (clients === undefined) {
    clients = createClients(config);
    clientCache.set(key, clients);
  }
  return clients;
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

/** The process-wide clients for these settings (for tools and tests that need raw access). */
export function awsClients(settings: BackendSettings, env: Environment): AwsClients {
  return clientsFor(awsClientConfig(settings, env));
}

/** Close every AWS client this process opened (idle keep-alive sockets included). */
export function closeAwsClients(): void {
  for (const key of [...clientCache.keys()]) releaseClients(key);
}

function releaseClients(key: string): void {
  const clients = clientCache.get(key);
  if (clients === undefined) return;
  clientCache.delete(key);
  clients.dynamodb.destroy();
  clients.kms.destroy();
}

export async function openAwsBackend(
  settings: BackendSettings,
  env: Environment,
): Promise<Backend> {
  const config = awsClientConfig(settings, env);
  const key = cacheKey(config);
  const clients = clientsFor(config);
  const region = await resolvedRegion(() => clients.dynamodb.config.region(), 'DynamoDB');
  const kmsRegion =
    config.kmsRegion === undefined
      ? region
      : await resolvedRegion(() => clients.kms.config.region(), 'KMS');
  const store = new DynamoDbStore({
    api: dynamoDbApiOf(clients.dynamodb),
    table: settings.table,
    region,
  });
  return {
    name: 'aws',
    settings,
    store,
    keys: new AwsKmsKeyService(kmsApiOf(clients.kms), kmsRegion),
    setup: (options) => store.setup(options),
    // The launcher calls this before it starts the command, so that a resident credexec does
    // not hold dozens of idle keep-alive connections to DynamoDB and KMS for the child's life.
    close: () => releaseClients(key),
  };
}
