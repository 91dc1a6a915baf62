import { setTimeout as sleep } from 'node:timers/promises';
import { sealCredential } from '../../src/envelope/credential.js';
import { canonicalContext, type EncryptionContext } from '../../src/envelope/context.js';
import { padVersion } from '../../src/envelope/version.js';
import { KeyServiceError } from '../../src/errors.js';
import type { DataKey, KeyService } from '../../src/keys/key-service.js';
import { refKey } from '../../src/stores/credential-store.js';
import type { CredentialItem, CredentialRef } from '../../src/stores/item.js';
import type { ResolveSource } from '../../src/resolve/resolve-entries.js';

const DATA_KEY = Buffer.from(Array.from({ length: 64 }, (_, i) => i));

/**
 * An in-memory store and key service that count calls and the peak number of decrypts in
 * flight. Wrapped keys are just the context, so a wrong context fails like KMS does.
 */
export class FakeBackend implements ResolveSource {
  readonly items = new Map<string, CredentialItem>();
  readonly calls = { getMany: [] as CredentialRef[][], getLatest: [] as string[], decrypt: 0 };
  peakDecrypts = 0;
  peakLookups = 0;
  #decrypting = 0;
  #looking = 0;
  failGetMany: Error | undefined;
  readonly delayMs: number;

  constructor(delayMs = 5) {
    this.delayMs = delayMs;
  }

  add(
    name: string,
    version: string,
    value: string | Uint8Array,
    context: EncryptionContext = {},
  ): void {
    const item = sealCredential({
      name,
      version: padVersion(version),
      value: Buffer.from(value),
      dataKey: DATA_KEY,
      wrappedKey: Buffer.from(canonicalContext(context)),
      digest: 'SHA256',
    });
    this.items.set(refKey(item), item);
  }

  readonly store = {
    description: 'fake store',
    getMany: async (refs: readonly CredentialRef[]) => {
      this.calls.getMany.push([...refs]);
      await sleep(this.delayMs);
      if (this.failGetMany) throw this.failGetMany;
      return refs.flatMap((ref) => this.items.get(refKey(ref)) ?? []);
    },
    getLatest: async (name: string) => {
      this.calls.getLatest.push(name);
      this.peakLookups = Math.max(this.peakLookups, ++this.#looking);
      await sleep(this.delayMs);
      this.#looking--;
      return [...this.items.values()]
        .filter((item) => item.name === name)
        .sort((a, b) => (a.version < b.version ? 1 : -1))[0];
    },
  };

  readonly keys: KeyService = {
    description: 'fake keys',
    generateDataKey: (): Promise<DataKey> => Promise.reject(new Error('not used')),
    decrypt: async (blob: Uint8Array, context: EncryptionContext) => {
      this.calls.decrypt++;
      this.peakDecrypts = Math.max(this.peakDecrypts, ++this.#decrypting);
      await sleep(this.delayMs);
      this.#decrypting--;
      if (Buffer.from(blob).toString() !== canonicalContext(context)) {
        throw new KeyServiceError('invalid-ciphertext', 'the encryption context does not match');
      }
      return Buffer.from(DATA_KEY);
    },
  };
}
