import { sealCredential } from '../envelope/credential.js';
import { EMPTY_CONTEXT, type EncryptionContext } from '../envelope/context.js';
import { DEFAULT_DIGEST, type DigestName } from '../envelope/digests.js';
import { nextVersion, padVersion } from '../envelope/version.js';
import {
  CredentialKeyError,
  KeyServiceError,
  StoreError,
  UsageError,
  VersionExistsError,
} from '../errors.js';
import type { Backend } from '../backends/backend.js';
import type { CredentialItem, CredentialRef } from '../stores/item.js';
import { credentialNameProblem } from './credential-name.js';
import { forCredential } from './store-call.js';

export interface PutInput {
  readonly name: string;
  /** The secret; strings are stored as UTF-8. */
  readonly value: string | Uint8Array;
  readonly context?: EncryptionContext;
  /** Explicit version (numeric ones are padded); default `1`. Ignored with `autoversion`. */
  readonly version?: string | undefined;
  /** Store as the highest numeric version + 1; lost races retry with the next version. */
  readonly autoversion?: boolean;
  readonly digest?: DigestName;
  readonly comment?: string | undefined;
  /** Key id, alias or ARN; default: the backend's. */
  readonly keyId?: string | undefined;
}

const MAX_AUTOVERSION_ATTEMPTS = 100;

/** Every name that enters (put, get, delete) is checked here: see credentialNameProblem. */
export function validateName(name: string): void {
  const problem = credentialNameProblem(name);
  if (problem !== undefined) throw new UsageError(problem);
}

async function sealFor(
  backend: Backend,
  input: PutInput,
  version: string,
): Promise<CredentialItem> {
  const context = input.context ?? EMPTY_CONTEXT;
  let dataKey;
  try {
    dataKey = await backend.keys.generateDataKey(input.keyId ?? backend.settings.keyId, context);
  } catch (error: unknown) {
    if (error instanceof KeyServiceError)
      throw new CredentialKeyError('encrypt', input.name, undefined, error);
    throw error;
  }
  // A string value is encoded here, so the encoded copy is ours to zero; a caller's bytes are theirs.
  const bytes = typeof input.value === 'string' ? Buffer.from(input.value, 'utf8') : input.value;
  try {
    return sealCredential({
      name: input.name,
      version,
      value: bytes,
      dataKey: dataKey.plaintext,
      wrappedKey: dataKey.ciphertextBlob,
      digest: input.digest ?? DEFAULT_DIGEST,
      comment: input.comment,
    });
  } finally {
    dataKey.plaintext.fill(0);
    if (bytes !== input.value) bytes.fill(0);
  }
}

/** Encrypt and store one new credential version; returns the version written. */
export async function putSecret(backend: Backend, input: PutInput): Promise<CredentialRef> {
  validateName(input.name);
  if (!input.autoversion) {
    const version = padVersion(input.version ?? '1');
    const item = await sealFor(backend, input, version);
    await forCredential('store', input.name, version, () => backend.store.put(item));
    return { name: input.name, version };
  }
  const latest = () =>
    forCredential('store', input.name, undefined, () => backend.store.getLatest(input.name));
  // The version is not covered by the HMAC, so one sealed item can be retried under new versions.
  let version = nextVersion((await latest())?.version, input.name);
  const sealed = await sealFor(backend, input, version);
  for (let attempt = 1; ; attempt++) {
    try {
      const item = { ...sealed, version };
      await forCredential('store', input.name, version, () => backend.store.put(item));
      return { name: input.name, version };
    } catch (error: unknown) {
      if (!(error instanceof VersionExistsError) || attempt >= MAX_AUTOVERSION_ATTEMPTS) {
        if (error instanceof VersionExistsError) {
          throw new StoreError(
            `gave up storing credential "${input.name}" after ${attempt} concurrent version conflicts`,
            { cause: error },
          );
        }
        throw error;
      }
      version = nextVersion((await latest())?.version, input.name);
    }
  }
}
