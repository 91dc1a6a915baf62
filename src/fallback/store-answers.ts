import {
  CredentialKeyError,
  KeyServiceError,
  SetupRequiredError,
  StoreError,
  type KeyServiceFailure,
} from '../errors.js';
import { awsErrorCode } from '../util/aws-errors.js';

/**
 * How the fallback reads a failure. An **outage** — the store could not answer: unreachable,
 * timed out, throttled past the retries, a 5xx, an answer cut short or malformed, a local store
 * file that cannot be read or parsed — says nothing about the credentials, so the fallback may
 * stand in. A **refusal** is a definite answer that access is gone: the store denied this
 * caller, the table (or local store file) no longer exists, or the key service refused to unwrap
 * (access denied, key disabled or deleted); the fallback must never stand in for it, and is
 * removed. (A credential the store answered "not found" for is a refusal too; the fallback
 * source knows which ones those were.) Anything else — rejected or missing AWS credentials,
 * a request the service found invalid, an integrity failure, KMS itself throttled or down —
 * is neither: no fallback (decryption needs the key service anyway), nothing removed.
 */
export type FailureKind = 'outage' | 'refusal' | 'other';

const KEY_REFUSALS: ReadonlySet<KeyServiceFailure> = new Set([
  'access-denied',
  'key-disabled',
  'key-not-found',
]);

/**
 * The AWS error codes the KMS mapping also calls access-denied although they are about the
 * caller's credentials (expired, unknown, none found: an unreachable instance metadata service),
 * not a refusal of this key: like the store's `credentials` failures, they remove nothing.
 */
const CREDENTIAL_CODES: ReadonlySet<string> = new Set([
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'ExpiredTokenException',
  'InvalidClientTokenId',
  'CredentialsProviderError',
]);

/** A failed store read (getMany, getLatest). */
export function storeFailureKind(error: unknown): FailureKind {
  if (error instanceof SetupRequiredError) return 'refusal';
  if (!(error instanceof StoreError)) return 'other';
  switch (error.reason) {
    case 'throttled':
    case 'unavailable':
    case 'malformed':
      return 'outage';
    case 'access-denied':
      return 'refusal';
    default:
      return 'other';
  }
}

/** A key-service failure while unwrapping a data key: a refusal, or something else. */
export function isKeyRefusal(error: unknown): boolean {
  const failure =
    error instanceof CredentialKeyError && error.cause instanceof KeyServiceError
      ? error.cause
      : error instanceof KeyServiceError
        ? error
        : undefined;
  if (failure === undefined || !KEY_REFUSALS.has(failure.reason)) return false;
  const code = awsErrorCode(failure.cause);
  return code === undefined || !CREDENTIAL_CODES.has(code);
}

/**
 * A resolution failure that is a refusal, except "not found" (which needs to know whether the
 * store or the fallback said so): store refusals, a missing local master key, key refusals.
 */
export function isRefusal(error: unknown): boolean {
  return storeFailureKind(error) === 'refusal' || isKeyRefusal(error);
}
