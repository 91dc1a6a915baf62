import { createCipheriv, createDecipheriv, createHmac, timingSafeEqual } from 'node:crypto';
import { hashAlgorithm, type DigestName } from './digests.js';

/**
 * credstash's "aes-ctr legacy" scheme: a 64-byte data key split into an AES-256 key (bytes 0–31)
 * and an HMAC key (bytes 32–63); AES-256-CTR from counter block 1; HMAC over the ciphertext only.
 * Pure: no I/O. The caller owns `dataKey` and zeroes it afterwards.
 */
export const DATA_KEY_BYTES = 64;

const INITIAL_COUNTER = Buffer.from('00000000000000000000000000000001', 'hex');

export interface Sealed {
  readonly ciphertext: Buffer;
  /** Lowercase hex, as credstash stores it. */
  readonly hmac: string;
}

function splitKey(dataKey: Uint8Array): { aesKey: Buffer; hmacKey: Buffer } {
  if (dataKey.length !== DATA_KEY_BYTES) {
    throw new RangeError(`data key must be ${DATA_KEY_BYTES} bytes, got ${dataKey.length}`);
  }
  const view = Buffer.from(dataKey.buffer, dataKey.byteOffset, dataKey.byteLength);
  return { aesKey: view.subarray(0, 32), hmacKey: view.subarray(32, 64) };
}

function ctr(key: Buffer, input: Uint8Array, decrypt: boolean): Buffer {
  const cipher = decrypt
    ? createDecipheriv('aes-256-ctr', key, INITIAL_COUNTER)
    : createCipheriv('aes-256-ctr', key, INITIAL_COUNTER);
  const head = cipher.update(input);
  const tail = cipher.final();
  // CTR is a stream mode, so final() adds nothing and update()'s buffer is the whole result.
  if (tail.length === 0) return head;
  // Not reached with CTR; should it be, the parts (plaintext when decrypting) are not left behind.
  const whole = Buffer.concat([head, tail]);
  head.fill(0);
  tail.fill(0);
  return whole;
}

function mac(hmacKey: Buffer, ciphertext: Uint8Array, digest: DigestName): Buffer {
  return createHmac(hashAlgorithm(digest), hmacKey).update(ciphertext).digest();
}

export function seal(plaintext: Uint8Array, dataKey: Uint8Array, digest: DigestName): Sealed {
  const { aesKey, hmacKey } = splitKey(dataKey);
  const ciphertext = ctr(aesKey, plaintext, false);
  return { ciphertext, hmac: mac(hmacKey, ciphertext, digest).toString('hex') };
}

const HEX = /^(?:[0-9a-fA-F]{2})*$/;

/**
 * Verify the HMAC in constant time and only then decrypt. Returns `undefined` when the MAC does
 * not match (or is malformed), so the caller can raise an integrity error naming the credential.
 */
export function open(
  ciphertext: Uint8Array,
  hmacHex: string,
  dataKey: Uint8Array,
  digest: DigestName,
): Buffer | undefined {
  const { aesKey, hmacKey } = splitKey(dataKey);
  const expected = mac(hmacKey, ciphertext, digest);
  if (!HEX.test(hmacHex)) return undefined;
  const actual = Buffer.from(hmacHex, 'hex');
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) return undefined;
  return ctr(aesKey, ciphertext, true);
}
