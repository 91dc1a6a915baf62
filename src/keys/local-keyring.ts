import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import { dirname } from 'node:path';
import { canonicalContext, type EncryptionContext } from '../envelope/context.js';
import { DATA_KEY_BYTES } from '../envelope/cipher.js';
import { KeyServiceError, SetupRequiredError, StoreError } from '../errors.js';
import type { DataKey, KeyService } from './key-service.js';
import { closeAsync, fstatAsync, openAsync, readAsync } from '../util/fs-async.js';
import { PrivateDirectory, ownerProblem } from '../util/private-files.js';
import { errnoCode } from '../util/system.js';

/**
 * The local backend's key service: one 32-byte master key in a 0600 file wraps data keys with
 * AES-256-GCM. The encryption context is the authenticated data, so a wrong context fails to
 * unwrap exactly as it does with KMS.
 *
 * Blob layout: "CXK1" | key fingerprint (8) | IV (12) | GCM tag (16) | wrapped key (64).
 */
export const MASTER_KEY_BYTES = 32;
export const LOCAL_KEY_ID = 'alias/credstash';

const MAGIC = Buffer.from('CXK1', 'ascii');
const FINGERPRINT_BYTES = 8;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = MAGIC.length + FINGERPRINT_BYTES + IV_BYTES + TAG_BYTES;

function fingerprint(masterKey: Buffer): Buffer {
  return createHash('sha256')
    .update('credexec-local-key-id')
    .update(masterKey)
    .digest()
    .subarray(0, FINGERPRINT_BYTES);
}

function aad(context: EncryptionContext): Buffer {
  return Buffer.from(`credexec-local-v1\u0000${canonicalContext(context)}`, 'utf8');
}

/** Create the master key file (0600) unless it exists; returns true when it was created now. */
export async function createMasterKey(path: string): Promise<boolean> {
  const key = randomBytes(MASTER_KEY_BYTES);
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  } catch (error: unknown) {
    key.fill(0);
    if (errnoCode(error) === 'EEXIST') return false;
    throw new StoreError(`cannot create master key ${path}: ${errnoCode(error) ?? String(error)}`, {
      cause: error,
    });
  }
  try {
    await handle.writeFile(key);
    await handle.sync();
  } finally {
    key.fill(0);
    await handle.close();
  }
  return true;
}

async function readMasterKey(path: string, directory: PrivateDirectory): Promise<Buffer> {
  const unsafe = await directory.problem();
  if (unsafe !== undefined) throw new KeyServiceError('access-denied', unsafe);
  let fd: number;
  try {
    fd = await openAsync(path, 'r');
  } catch (error: unknown) {
    if (errnoCode(error) === 'ENOENT') {
      throw new SetupRequiredError(
        `no local master key at ${path} — run \`credexec setup --backend local\``,
      );
    }
    throw unreadable(path, error);
  }
  try {
    const stat = await fstatAsync(fd);
    const foreign = ownerProblem('master key', path, stat);
    if (foreign !== undefined) throw new KeyServiceError('access-denied', foreign);
    if ((stat.mode & 0o077) !== 0) {
      const mode = (stat.mode & 0o777).toString(8).padStart(4, '0');
      throw new KeyServiceError(
        'access-denied',
        `master key ${path} is accessible to group or others (mode ${mode}); refusing to use it — run \`chmod 600 ${path}\``,
      );
    }
    if (stat.size !== MASTER_KEY_BYTES) throw corrupt(path, stat.size);
    // Read into a buffer of our own (not from Node's shared pool): the one copy, zeroed on close.
    const key = Buffer.alloc(MASTER_KEY_BYTES);
    let bytesRead: number;
    try {
      ({ bytesRead } = await readAsync(fd, key, 0, MASTER_KEY_BYTES, 0));
    } catch (error: unknown) {
      key.fill(0);
      throw unreadable(path, error);
    }
    if (bytesRead !== MASTER_KEY_BYTES) {
      key.fill(0);
      throw corrupt(path, bytesRead);
    }
    return key;
  } finally {
    await closeAsync(fd);
  }
}

function unreadable(path: string, error: unknown): KeyServiceError {
  return new KeyServiceError(
    'unavailable',
    `cannot read master key ${path}: ${errnoCode(error) ?? String(error)}`,
    { cause: error },
  );
}

function corrupt(path: string, found: number): KeyServiceError {
  return new KeyServiceError(
    'unavailable',
    `master key ${path} is corrupt: expected ${MASTER_KEY_BYTES} bytes, found ${found}`,
  );
}

export interface LocalKeyringOptions {
  /** The directory check, shared with the store by the local backend; default: the key's. */
  readonly directory?: PrivateDirectory;
}

export class LocalKeyring implements KeyService {
  readonly description: string;
  readonly #path: string;
  readonly #directory: PrivateDirectory;
  #key: Promise<Buffer> | undefined;

  constructor(masterKeyPath: string, options: LocalKeyringOptions = {}) {
    this.#path = masterKeyPath;
    this.#directory = options.directory ?? new PrivateDirectory(dirname(masterKeyPath));
    this.description = `local master key ${masterKeyPath}`;
  }

  // Read once, kept until close(); a failed read is retried on the next call.
  #masterKey(): Promise<Buffer> {
    if (this.#key === undefined) {
      const key = readMasterKey(this.#path, this.#directory);
      this.#key = key;
      key.catch(() => {
        if (this.#key === key) this.#key = undefined;
      });
    }
    return this.#key;
  }

  /**
   * Zero the cached master key; a later use reads the file again. Callers already waiting for
   * the key get it first: their continuations were queued before the zeroing.
   */
  close(): void {
    const key = this.#key;
    this.#key = undefined;
    key?.then(
      (buffer) => buffer.fill(0),
      () => undefined,
    );
  }

  async generateDataKey(keyId: string, context: EncryptionContext): Promise<DataKey> {
    if (keyId !== LOCAL_KEY_ID) {
      throw new KeyServiceError(
        'key-not-found',
        `the local backend has a single master key; key "${keyId}" does not exist (omit -k)`,
      );
    }
    const masterKey = await this.#masterKey();
    const plaintext = randomBytes(DATA_KEY_BYTES);
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', masterKey, iv).setAAD(aad(context));
    const wrapped = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const ciphertextBlob = Buffer.concat([
      MAGIC,
      fingerprint(masterKey),
      iv,
      cipher.getAuthTag(),
      wrapped,
    ]);
    return { plaintext, ciphertextBlob };
  }

  async decrypt(blob: Uint8Array, context: EncryptionContext): Promise<Uint8Array> {
    const masterKey = await this.#masterKey();
    const data = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
    if (
      data.length !== HEADER_BYTES + DATA_KEY_BYTES ||
      !data.subarray(0, MAGIC.length).equals(MAGIC)
    ) {
      throw new KeyServiceError(
        'invalid-ciphertext',
        'the wrapped data key was not made by a credexec local master key',
      );
    }
    let offset = MAGIC.length;
    const keyId = data.subarray(offset, (offset += FINGERPRINT_BYTES));
    if (!keyId.equals(fingerprint(masterKey))) {
      throw new KeyServiceError(
        'invalid-ciphertext',
        `the data key was wrapped by a different master key than ${this.#path}`,
      );
    }
    const iv = data.subarray(offset, (offset += IV_BYTES));
    const tag = data.subarray(offset, (offset += TAG_BYTES));
    const decipher = createDecipheriv('aes-256-gcm', masterKey, iv)
      .setAAD(aad(context))
      .setAuthTag(tag);
    const plaintext = decipher.update(data.subarray(offset));
    try {
      decipher.final();
    } catch (error: unknown) {
      plaintext.fill(0);
      throw new KeyServiceError(
        'invalid-ciphertext',
        'the data key cannot be unwrapped with this encryption context (wrong or missing context?)',
        { cause: error },
      );
    }
    return plaintext;
  }
}
