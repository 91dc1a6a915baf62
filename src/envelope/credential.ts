import { IntegrityError } from '../errors.js';
import type { CredentialItem } from '../stores/item.js';
import { open, seal } from './cipher.js';
import { isDigestName, type DigestName } from './digests.js';

export interface SealInput {
  readonly name: string;
  readonly version: string;
  readonly value: Uint8Array;
  /** The 64 plaintext data-key bytes; the caller zeroes them afterwards. */
  readonly dataKey: Uint8Array;
  /** The key service's wrapped form of `dataKey`. */
  readonly wrappedKey: Uint8Array;
  readonly digest: DigestName;
  readonly comment?: string | undefined;
}

/** Build the stored item for one credential version. Pure. */
export function sealCredential(input: SealInput): CredentialItem {
  const { ciphertext, hmac } = seal(input.value, input.dataKey, input.digest);
  const item: CredentialItem = {
    name: input.name,
    version: input.version,
    key: Buffer.from(input.wrappedKey).toString('base64'),
    contents: ciphertext.toString('base64'),
    hmac,
    digest: input.digest,
  };
  return input.comment ? { ...item, comment: input.comment } : item;
}

/** The wrapped data key of an item, to hand to the key service. */
export function wrappedKeyOf(item: CredentialItem): Buffer {
  return Buffer.from(item.key, 'base64');
}

/**
 * Check the item's HMAC (constant time) with the unwrapped data key and decrypt. Fails with an
 * IntegrityError naming the credential and version; never returns partial plaintext.
 */
export function openCredential(item: CredentialItem, dataKey: Uint8Array): Buffer {
  const digest = item.digest.toUpperCase();
  if (!isDigestName(digest)) {
    throw new IntegrityError(item.name, item.version, `unsupported digest "${item.digest}"`);
  }
  const plaintext = open(Buffer.from(item.contents, 'base64'), item.hmac, dataKey, digest);
  if (plaintext === undefined) {
    throw new IntegrityError(
      item.name,
      item.version,
      'the HMAC does not match (tampered item or wrong key)',
    );
  }
  return plaintext;
}
