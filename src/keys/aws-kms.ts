import type { EncryptionContext } from '../envelope/context.js';
import { DATA_KEY_BYTES } from '../envelope/cipher.js';
import { KeyServiceError, type KeyServiceFailure } from '../errors.js';
import {
  awsErrorCode,
  awsErrorMessage,
  isNetworkError,
  networkFailure,
  responseFailureMessage,
} from '../util/aws-errors.js';
import type { DataKey, KeyService } from './key-service.js';

/** The two KMS calls credexec makes, so tests and other transports can stand in for the SDK. */
export interface KmsApi {
  generateDataKey(input: {
    KeyId: string;
    NumberOfBytes: number;
    EncryptionContext: Record<string, string>;
  }): Promise<{ Plaintext?: Uint8Array | undefined; CiphertextBlob?: Uint8Array | undefined }>;
  decrypt(input: {
    CiphertextBlob: Uint8Array;
    EncryptionContext: Record<string, string>;
  }): Promise<{ Plaintext?: Uint8Array | undefined }>;
}

type KmsAction = 'kms:GenerateDataKey' | 'kms:Decrypt';

/** `KMS Decrypt (KMS in eu-west-1)`: the call whose answer could not be used. */
function answerOf(action: KmsAction, where: string): string {
  return `KMS ${action.slice('kms:'.length)} (${where})`;
}

/** An answer that is not a well-formed answer of `action` (never "invalid ciphertext"). */
function malformed(action: KmsAction, where: string, problem: string): KeyServiceError {
  return new KeyServiceError(
    'malformed-response',
    `malformed response from ${answerOf(action, where)}: ${problem}`,
  );
}

function isBytes(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array && value.length > 0;
}

/** Why a field of an answer is not the bytes it should be. */
function bytesProblem(field: string, value: unknown): string {
  if (value === undefined) return `${field} is missing`;
  return value instanceof Uint8Array ? `${field} is empty` : `${field} is not binary`;
}

/** Map an SDK failure to a KeyServiceError; the AWS text never holds key material or values. */
export function kmsFailure(error: unknown, action: KmsAction, where: string): KeyServiceError {
  const response = responseFailureMessage(error, answerOf(action, where));
  if (response !== undefined)
    return new KeyServiceError('malformed-response', response, { cause: error });
  const code = awsErrorCode(error);
  const detail = awsErrorMessage(error);
  const fail = (reason: KeyServiceFailure, message: string) =>
    new KeyServiceError(reason, `${action} (${where}): ${message}`, { cause: error });
  switch (code) {
    case 'InvalidCiphertextException':
    case 'IncorrectKeyException':
      return fail(
        'invalid-ciphertext',
        'the data key cannot be unwrapped: wrong encryption context, or not a KMS ciphertext of this account',
      );
    case 'AccessDeniedException':
    case 'AccessDenied':
      return fail('access-denied', `access denied; the caller needs ${action}${suffix(detail)}`);
    case 'UnrecognizedClientException':
    case 'InvalidSignatureException':
    case 'ExpiredTokenException':
    case 'InvalidClientTokenId':
    case 'CredentialsProviderError':
      return fail('access-denied', `AWS credentials were rejected or not found${suffix(detail)}`);
    case 'DisabledException':
      return fail('key-disabled', `the KMS key is disabled${suffix(detail)}`);
    case 'KMSInvalidStateException':
      return fail(
        'key-disabled',
        `the KMS key is not usable in its current state (pending deletion or import?)${suffix(detail)}`,
      );
    case 'NotFoundException':
      return fail('key-not-found', `the KMS key does not exist${suffix(detail)}`);
    case 'ThrottlingException':
    case 'LimitExceededException':
    case 'TooManyRequestsException':
      return fail('throttled', 'KMS is throttling requests; giving up after the retries');
    case 'KeyUnavailableException':
    case 'DependencyTimeoutException':
    case 'KMSInternalException':
      return fail('unavailable', `KMS is temporarily unavailable${suffix(detail)}`);
    default:
      break;
  }
  if (isNetworkError(error)) {
    return fail('unavailable', networkFailure('KMS', error));
  }
  return fail('invalid-request', `KMS refused the request: ${code ?? 'error'}${suffix(detail)}`);
}

function suffix(detail: string | undefined): string {
  return detail === undefined ? '' : ` (${detail})`;
}

/** AWS KMS (credstash's key service): 64-byte data keys wrapped under the user's context. */
export class AwsKmsKeyService implements KeyService {
  readonly description: string;
  readonly #api: KmsApi;

  constructor(api: KmsApi, region: string) {
    this.#api = api;
    this.description = `KMS in ${region}`;
  }

  async generateDataKey(keyId: string, context: EncryptionContext): Promise<DataKey> {
    const where = `key ${keyId}, ${this.description}`;
    let output;
    try {
      output = await this.#api.generateDataKey({
        KeyId: keyId,
        NumberOfBytes: DATA_KEY_BYTES,
        EncryptionContext: { ...context },
      });
    } catch (error: unknown) {
      throw kmsFailure(error, 'kms:GenerateDataKey', where);
    }
    // Checked here whichever transport answered: neither checks the shape of an answer.
    const { Plaintext: plaintext, CiphertextBlob: ciphertextBlob }: Record<string, unknown> =
      output;
    if (!isBytes(plaintext)) {
      throw malformed('kms:GenerateDataKey', where, bytesProblem('Plaintext', plaintext));
    }
    if (!isBytes(ciphertextBlob)) {
      plaintext.fill(0);
      throw malformed('kms:GenerateDataKey', where, bytesProblem('CiphertextBlob', ciphertextBlob));
    }
    if (plaintext.length !== DATA_KEY_BYTES) {
      plaintext.fill(0);
      throw new KeyServiceError(
        'invalid-request',
        `kms:GenerateDataKey (${where}) returned no ${DATA_KEY_BYTES}-byte data key`,
      );
    }
    return { plaintext, ciphertextBlob };
  }

  async decrypt(ciphertextBlob: Uint8Array, context: EncryptionContext): Promise<Uint8Array> {
    let output;
    try {
      output = await this.#api.decrypt({
        CiphertextBlob: ciphertextBlob,
        EncryptionContext: { ...context },
      });
    } catch (error: unknown) {
      throw kmsFailure(error, 'kms:Decrypt', this.description);
    }
    const { Plaintext: plaintext }: Record<string, unknown> = output;
    if (!isBytes(plaintext))
      throw malformed('kms:Decrypt', this.description, bytesProblem('Plaintext', plaintext));
    if (plaintext.length !== DATA_KEY_BYTES) {
      plaintext.fill(0);
      throw new KeyServiceError(
        'invalid-ciphertext',
        `kms:Decrypt (${this.description}) did not return a ${DATA_KEY_BYTES}-byte credstash data key`,
      );
    }
    return plaintext;
  }
}
