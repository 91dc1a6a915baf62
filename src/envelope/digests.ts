import { UsageError } from '../errors.js';

/** credstash digest names (as stored in the `digest` attribute) and the hash each one means. */
const DIGESTS = {
  SHA: 'sha1',
  SHA224: 'sha224',
  SHA256: 'sha256',
  SHA384: 'sha384',
  SHA512: 'sha512',
  MD5: 'md5',
} as const;

export type DigestName = keyof typeof DIGESTS;

export const DEFAULT_DIGEST: DigestName = 'SHA256';
export const DIGEST_NAMES = Object.keys(DIGESTS) as DigestName[];

export function isDigestName(name: string): name is DigestName {
  return Object.hasOwn(DIGESTS, name);
}

/** Accepts any case (`sha256`), as credstash users type it; returns the canonical stored name. */
export function parseDigestName(name: string): DigestName {
  const upper = name.toUpperCase();
  if (isDigestName(upper)) return upper;
  throw new UsageError(`unknown digest "${name}" (choose one of ${DIGEST_NAMES.join(', ')})`);
}

/** The node:crypto algorithm for a stored digest name. */
export function hashAlgorithm(name: DigestName): string {
  return DIGESTS[name];
}
