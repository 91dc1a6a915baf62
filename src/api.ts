import type { Backend, BackendOptions } from './backends/backend.js';
import { openBackend } from './backends/open-backend.js';
import { parseDigestName } from './envelope/digests.js';
import * as secrets from './secrets/index.js';
import type { StoreSetupOptions, StoreSetupResult } from './stores/credential-store.js';
import type { CredentialRef } from './stores/item.js';

/**
 * The typed library API: the CLI's semantics as functions. Each call takes the backend options
 * (`backend`, `table`, `region`, `localDir`, …; unset ones come from the environment as for the
 * CLI) together with its own input. Backends, and so AWS clients, are reused across calls.
 */
export type ConnectionOptions = BackendOptions & {
  /** An already opened backend; the other connection options are then ignored. */
  readonly connection?: Backend;
};

const backends = new Map<string, Promise<Backend>>();

function connect(options: ConnectionOptions): Promise<Backend> {
  if (options.connection) return Promise.resolve(options.connection);
  const key = JSON.stringify([
    options.backend,
    options.table,
    options.keyId,
    options.region,
    options.kmsRegion,
    options.profile,
    options.roleArn,
    options.localDir,
  ]);
  let backend = backends.get(key);
  if (!backend) {
    backend = openBackend(options);
    backends.set(key, backend);
    backend.catch(() => backends.delete(key));
  }
  return backend;
}

export type PutSecretOptions = ConnectionOptions &
  Omit<secrets.PutInput, 'digest'> & { readonly digest?: string | undefined };

/** Store a new version; resolves to the version written. */
export async function putSecret(options: PutSecretOptions): Promise<CredentialRef> {
  const { digest, ...input } = options;
  return secrets.putSecret(await connect(options), {
    ...input,
    ...(digest === undefined ? {} : { digest: parseDigestName(digest) }),
  });
}

/** The value (UTF-8) of the latest or the given version. */
export async function getSecret(options: ConnectionOptions & secrets.GetInput): Promise<string> {
  const value = await secrets.getSecret(await connect(options), options);
  try {
    return value.toString('utf8');
  } finally {
    value.fill(0);
  }
}

/** Every credential (or those matching `pattern`), name → value, sorted by name. */
export async function getAllSecrets(
  options: ConnectionOptions & secrets.GetAllInput = {},
): Promise<Record<string, string>> {
  const values = await secrets.getAllSecrets(await connect(options), options);
  const result: Record<string, string> = {};
  for (const [name, value] of values) {
    result[name] = value.toString('utf8');
    value.fill(0);
  }
  return result;
}

export async function listSecrets(
  options: ConnectionOptions = {},
): Promise<secrets.CredentialSummary[]> {
  return secrets.listSecrets(await connect(options));
}

export async function deleteSecrets(
  options: ConnectionOptions & secrets.DeleteInput,
): Promise<CredentialRef[]> {
  return secrets.deleteSecrets(await connect(options), options);
}

/** Create the store (and the local master key); idempotent. */
export async function setup(
  options: ConnectionOptions & StoreSetupOptions = {},
): Promise<StoreSetupResult> {
  return (await connect(options)).setup(options);
}
