import type { Backend } from '../backends/backend.js';
import { EMPTY_CONTEXT, type EncryptionContext } from '../envelope/context.js';
import { padVersion } from '../envelope/version.js';
import { MultipleFailuresError, NotFoundError, type CredentialFailure } from '../errors.js';
import { DEFAULT_DECRYPT_CONCURRENCY } from '../keys/key-service.js';
import type { CredentialItem, CredentialRef } from '../stores/item.js';
import { settleWithConcurrency } from '../util/concurrency.js';
import { decryptItem } from './decrypt-item.js';
import { validateName } from './put-secret.js';
import { forCredential } from './store-call.js';
import { hasWildcard, wildcardMatcher } from './wildcard.js';

export interface GetInput {
  readonly name: string;
  /** Exact version (numeric ones padded); latest when absent. */
  readonly version?: string | undefined;
  readonly context?: EncryptionContext;
}

/** A decrypted credential version; the caller wipes `value` (`fill(0)`) when done with it. */
export interface SecretVersion extends CredentialRef {
  readonly value: Buffer;
}

/** Fetch and decrypt one credential version (latest by default), with the version it is. */
export async function readSecret(backend: Backend, input: GetInput): Promise<SecretVersion> {
  validateName(input.name);
  const version = input.version === undefined ? undefined : padVersion(input.version);
  const item = await forCredential('read', input.name, version, () =>
    version === undefined
      ? backend.store.getLatest(input.name)
      : backend.store.get({ name: input.name, version }),
  );
  if (item === undefined) throw new NotFoundError(input.name, version, backend.store.description);
  const value = await decryptItem(backend.keys, item, input.context ?? EMPTY_CONTEXT);
  return { name: item.name, version: item.version, value };
}

/** Fetch and decrypt one credential version (latest by default). */
export async function getSecret(backend: Backend, input: GetInput): Promise<Buffer> {
  return (await readSecret(backend, input)).value;
}

export interface GetAllInput {
  /** Only names matching this `*` pattern. */
  readonly pattern?: string | undefined;
  readonly version?: string | undefined;
  readonly context?: EncryptionContext;
  readonly concurrency?: number;
}

/** The item of every (matching) name to read: the latest, or exactly `version`. */
function pickItems(
  items: readonly CredentialItem[],
  input: GetAllInput,
): { picked: CredentialItem[]; missing: string[] } {
  const matches = input.pattern === undefined ? () => true : wildcardMatcher(input.pattern);
  const version = input.version === undefined ? undefined : padVersion(input.version);
  const chosen = new Map<string, CredentialItem | undefined>();
  for (const item of items) {
    if (!matches(item.name)) continue;
    const current = chosen.get(item.name);
    if (version === undefined) {
      if (current === undefined || item.version > current.version) chosen.set(item.name, item);
    } else if (item.version === version) {
      chosen.set(item.name, item);
    } else if (!chosen.has(item.name)) {
      chosen.set(item.name, undefined);
    }
  }
  const picked: CredentialItem[] = [];
  const missing: string[] = [];
  for (const [name, item] of chosen) {
    if (item === undefined) missing.push(name);
    else picked.push(item);
  }
  return { picked, missing };
}

/**
 * Decrypt every credential (or those matching `pattern`) from one scan, in parallel. Any failure
 * fails the whole call with every failing credential listed; values come back sorted by name,
 * each with its version.
 */
export async function getAllSecrets(
  backend: Backend,
  input: GetAllInput = {},
): Promise<Map<string, SecretVersion>> {
  if (input.pattern !== undefined && !hasWildcard(input.pattern)) validateName(input.pattern);
  const { picked, missing } = pickItems(await backend.store.scan(), input);
  const context = input.context ?? EMPTY_CONTEXT;
  const results = await settleWithConcurrency(
    picked,
    input.concurrency ?? DEFAULT_DECRYPT_CONCURRENCY,
    (item) => decryptItem(backend.keys, item, context),
  );
  const failures: CredentialFailure[] = missing.map((name) => ({
    credential: name,
    error: new NotFoundError(
      name,
      input.version === undefined ? undefined : padVersion(input.version),
    ),
  }));
  const values = new Map<string, SecretVersion>();
  results.forEach((result, index) => {
    const { name, version } = picked[index]!;
    if (result.ok) values.set(name, { name, version, value: result.value });
    else failures.push({ credential: name, error: result.error });
  });
  if (failures.length > 0) {
    for (const { value } of values.values()) value.fill(0);
    throw new MultipleFailuresError(
      input.pattern === undefined ? 'getall' : `get ${input.pattern}`,
      failures,
    );
  }
  return new Map([...values].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
