import type { Backend, BackendOptions } from './backends/backend.js';
import { openBackend } from './backends/open-backend.js';
import { parseDigestName } from './envelope/digests.js';
import { MultipleFailuresError, type CredentialFailure } from './errors.js';
import * as secrets from './secrets/index.js';
import { valueAsText } from './secrets/value-text.js';
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

/** Where the library's strings go, for the message of a value that is not text. */
const AS_STRING = { what: 'returned as a string', hint: 'use getSecretBytes' };

/**
 * The value of the latest or the given version, as a string. A value that is not valid UTF-8, or
 * contains NUL, is refused with a NotTextError (never changed): read it with getSecretBytes.
 */
export async function getSecret(options: ConnectionOptions & secrets.GetInput): Promise<string> {
  const secret = await secrets.readSecret(await connect(options), options);
  try {
    return valueAsText(secret.value, secret, AS_STRING);
  } finally {
    secret.value.fill(0);
  }
}

/** The value's bytes, whatever they are. The caller owns the buffer: `fill(0)` it when done. */
export async function getSecretBytes(
  options: ConnectionOptions & secrets.GetInput,
): Promise<Buffer> {
  return (await secrets.readSecret(await connect(options), options)).value;
}

/**
 * Every credential (or those matching `pattern`), name → value, sorted by name. Values that are
 * not text fail the call, naming each such credential (NotTextError, or MultipleFailuresError
 * for several): read those with getSecretBytes or getAllSecretsBytes.
 */
export async function getAllSecrets(
  options: ConnectionOptions & secrets.GetAllInput = {},
): Promise<Record<string, string>> {
  const values = await secrets.getAllSecrets(await connect(options), options);
  try {
    const entries: [string, string][] = [];
    const failures: CredentialFailure[] = [];
    for (const secret of values.values()) {
      try {
        entries.push([secret.name, valueAsText(secret.value, secret, AS_STRING)]);
      } catch (error: unknown) {
        failures.push({ credential: secret.name, error });
      }
    }
    if (failures.length === 1) throw failures[0]!.error;
    if (failures.length > 1) throw new MultipleFailuresError('getAllSecrets', failures);
    // fromEntries makes every name an own property, `__proto__` included.
    return Object.fromEntries(entries);
  } finally {
    for (const { value } of values.values()) value.fill(0);
  }
}

/** getAllSecrets with every value's bytes; the caller owns the buffers (`fill(0)` them). */
export async function getAllSecretsBytes(
  options: ConnectionOptions & secrets.GetAllInput = {},
): Promise<Record<string, Buffer>> {
  const values = await secrets.getAllSecrets(await connect(options), options);
  return Object.fromEntries([...values.values()].map(({ name, value }) => [name, value]));
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
