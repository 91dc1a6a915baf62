import { fromNodeProviderChain, fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { awsErrorCode, awsErrorMessage } from '../util/aws-errors.js';
import { cacheKey, type AwsClientConfig } from './config.js';
import { quietLogger, sdkClientOptions, withoutNodeVersionWarning } from './sdk-options.js';

/**
 * Credentials for the aws backend from the SDK's providers: the default chain (environment,
 * profiles, SSO, web identity, containers, instance metadata) and, with `--arn`, an assumed role.
 * One provider per configuration, shared by the DynamoDB and KMS clients and by credexec's own
 * read transport, so a role is assumed once. Loaded only when the environment has no static keys.
 */
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

const providers = new Map<string, CredentialProvider>();

/** The memoized provider for this configuration. */
export function credentialProvider(config: AwsClientConfig): CredentialProvider {
  const key = cacheKey(config);
  let provider = providers.get(key);
  if (provider === undefined) {
    provider = createProvider(config);
    providers.set(key, provider);
  }
  return provider;
}

function createProvider(config: AwsClientConfig): CredentialProvider {
  return withoutNodeVersionWarning(() => {
    const base =
      config.credentials ??
      fromNodeProviderChain({
        logger: quietLogger,
        ...(config.profile === undefined ? {} : { profile: config.profile }),
      });
    if (config.roleArn === undefined) {
      return typeof base === 'function' ? base : () => Promise.resolve(base);
    }
    return sharedRoleCredentials(
      config.roleArn,
      fromTemporaryCredentials({
        params: { RoleArn: config.roleArn, RoleSessionName: `credexec-${Date.now()}` },
        masterCredentials: base,
        logger: quietLogger,
        clientConfig: {
          ...sdkClientOptions(config),
          ...(config.region === undefined ? {} : { region: config.region }),
          ...(config.endpoints.sts === undefined ? {} : { endpoint: config.endpoints.sts }),
        },
      }),
    );
  });
}
