import { openCredential, wrappedKeyOf } from '../envelope/credential.js';
import type { EncryptionContext } from '../envelope/context.js';
import { CredentialKeyError, KeyServiceError } from '../errors.js';
import type { KeyService } from '../keys/key-service.js';
import type { CredentialItem } from '../stores/item.js';

/** Unwrap the item's data key, verify its HMAC and decrypt; the data key is zeroed afterwards. */
export async function decryptItem(
  keys: KeyService,
  item: CredentialItem,
  context: EncryptionContext,
): Promise<Buffer> {
  let dataKey: Uint8Array;
  try {
    dataKey = await keys.decrypt(wrappedKeyOf(item), context);
  } catch (error: unknown) {
    if (error instanceof KeyServiceError)
      throw new CredentialKeyError('decrypt', item.name, item.version, error);
    throw error;
  }
  try {
    return openCredential(item, dataKey);
  } finally {
    dataKey.fill(0);
  }
}
