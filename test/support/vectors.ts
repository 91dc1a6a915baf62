import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sameContext, type EncryptionContext } from '../../src/envelope/context.js';
import { KeyServiceError } from '../../src/errors.js';
import type { DataKey, KeyService } from '../../src/keys/key-service.js';
import type { WireAttributeMap } from '../../src/stores/item.js';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Items written by the real Python credstash; test/fixtures/README.md says how they were made. */
export const VECTORS_PATH = join(REPO_ROOT, 'test', 'fixtures', 'credstash-items.json');

export interface CredstashVector {
  readonly id: string;
  readonly item: WireAttributeMap;
  readonly context: Record<string, string>;
  readonly dataKey: string;
  readonly plaintext: string | null;
  readonly note: string;
  readonly expect: 'ok' | 'integrity-error';
  readonly derived: boolean;
}

/** Every vector; throws (never skips) when the file is missing. */
export function loadVectors(): CredstashVector[] {
  const data = JSON.parse(readFileSync(VECTORS_PATH, 'utf8')) as { vectors: CredstashVector[] };
  if (!Array.isArray(data.vectors) || data.vectors.length === 0)
    throw new Error(`no vectors in ${VECTORS_PATH}`);
  return data.vectors;
}

/**
 * A key service that knows exactly the vectors' wrapped keys: Decrypt returns the recorded data
 * key when blob and context match, and fails as KMS does otherwise.
 */
export function vectorKeyService(
  vectors: readonly CredstashVector[],
): KeyService & { decrypts: number } {
  const known = vectors.map((vector) => {
    const key = vector.item.key as { S: string };
    return { blob: Buffer.from(key.S, 'base64'), context: vector.context, dataKey: vector.dataKey };
  });
  return {
    description: 'vector key service',
    decrypts: 0,
    generateDataKey(): Promise<DataKey> {
      return Promise.reject(new Error('vector key service cannot generate keys'));
    },
    async decrypt(blob: Uint8Array, context: EncryptionContext) {
      this.decrypts++;
      const match = known.find(
        (entry) => entry.blob.equals(blob) && sameContext(entry.context, context),
      );
      if (!match) throw new KeyServiceError('invalid-ciphertext', 'InvalidCiphertextException');
      return Buffer.from(match.dataKey, 'base64');
    },
  };
}
