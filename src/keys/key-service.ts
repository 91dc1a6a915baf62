import type { EncryptionContext } from '../envelope/context.js';

/**
 * Key-service decrypts one process keeps in flight by default. Every credential version has its
 * own data key, so N secrets cost N Decrypts, and KMS has no batch call: the bound decides how
 * many round trips N secrets take (SPEC: a small constant number, not N). 128 takes typical
 * manifests in one wave. Over HTTPS (AWS) at most 16 connections per service carry them, so it
 * is that cap, not this one, that sets the request rate against KMS's per-account quotas
 * (thousands per second; throttled requests are retried with backoff); over plain HTTP (local
 * emulators) each request in flight has a connection. With 64, 100 secrets took two waves: 5 ms
 * more at 20 ms per request (`npm run bench`). `--concurrency` / `CREDEXEC_CONCURRENCY` changes it.
 */
export const DEFAULT_DECRYPT_CONCURRENCY = 128;

export interface DataKey {
  /** 64 plaintext bytes; whoever receives them zeroes them after use. */
  readonly plaintext: Uint8Array;
  /** The wrapped key, safe to store. */
  readonly ciphertextBlob: Uint8Array;
}

/**
 * A service holding master keys that never leave it (AWS KMS, or the local keyring file).
 * Failures are KeyServiceError with a `reason`. Implementations never log key material.
 */
export interface KeyService {
  /** Human-readable, for error messages: "KMS in eu-west-1", "local master key /path". */
  readonly description: string;
  generateDataKey(keyId: string, context: EncryptionContext): Promise<DataKey>;
  /** Unwrap a data key; fails with reason `invalid-ciphertext` when the context does not match. */
  decrypt(ciphertextBlob: Uint8Array, context: EncryptionContext): Promise<Uint8Array>;
}
