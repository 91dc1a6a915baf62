import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FaultQueue } from './fault-queue.js';
import { sendRaw, type RawResponse } from './raw-response.js';

/**
 * A small AWS KMS for tests: the JSON protocol (`X-Amz-Target: TrentService.<Operation>`) that
 * @aws-sdk/client-kms speaks, on 127.0.0.1. Data keys are really wrapped (AES-256-GCM under a
 * per-key master key, the encryption context as AAD), so a wrong context fails as on AWS.
 * Faults (throttling, arbitrary errors, denied operations, latency, and broken answers of any
 * shape: `answerNext`, see RawResponse) can be injected, and every request is counted.
 */
export const KMS_REGION = 'eu-west-1';
export const KMS_ACCOUNT = '111122223333';

export type KmsOperation = 'GenerateDataKey' | 'Decrypt' | 'DescribeKey' | 'Encrypt' | string;

export interface KmsError {
  /** `__type`, e.g. `KMSInternalException`. */
  readonly type: string;
  readonly message?: string;
  readonly status?: number;
}

export interface KmsKey {
  readonly keyId: string;
  readonly arn: string;
  enabled: boolean;
}

export interface KmsRequestRecord {
  readonly operation: KmsOperation;
  /** The JSON body with `Plaintext` and `CiphertextBlob` removed. */
  readonly body: Readonly<Record<string, unknown>>;
}

/** Who signed a request: the SigV4 `Credential=AKID/DATE/REGION/SERVICE/aws4_request` scope. */
export interface RequestSigner {
  readonly accessKeyId: string | undefined;
  readonly region: string | undefined;
}

/** The access key id and signing region of an `Authorization` header (undefined parts when absent). */
export function signerOf(authorization: string | string[] | undefined): RequestSigner {
  const header = Array.isArray(authorization) ? authorization[0] : authorization;
  const match = /Credential=([^/,\s]+)\/[^/]*\/([^/]+)\//.exec(header ?? '');
  return { accessKeyId: match?.[1], region: match?.[2] };
}

export interface KmsCaller extends RequestSigner {
  readonly operation: KmsOperation;
  /** The User-Agent header: `aws-sdk-js/…` from the SDK, `credexec` from its own transport. */
  readonly userAgent: string | undefined;
}

export interface KmsServer {
  /** `http://127.0.0.1:PORT`, for `AWS_ENDPOINT_URL_KMS`. */
  readonly endpoint: string;
  readonly region: string;
  /** The key behind `alias/credstash`. */
  readonly defaultKey: KmsKey;
  createKey(options?: { alias?: string; enabled?: boolean }): KmsKey;
  setKeyEnabled(keyIdOrAlias: string, enabled: boolean): void;
  /** Make Decrypt of a foreign blob (e.g. a credstash vector) return `dataKey` under `context`. */
  registerBlob(blob: Uint8Array, context: Record<string, string>, dataKey: Uint8Array): void;
  /** The next `count` requests (any operation) fail with ThrottlingException. */
  throttleNext(count: number): void;
  /** The next `count` requests of `operation` (or any, when undefined) fail with `error`. */
  failNext(error: KmsError, count?: number, operation?: KmsOperation): void;
  /**
   * The next `count` requests of `operation` (or any) get `raw` instead of an answer (malformed,
   * oversized, truncated or never-ending bodies). Shares the queue of `failNext`.
   */
  answerNext(raw: RawResponse, count?: number, operation?: KmsOperation): void;
  /** Requests of `operation` are refused with AccessDeniedException until allowed again. */
  deny(operation: KmsOperation, denied?: boolean): void;
  /** Delay every response by this many milliseconds. */
  setLatency(ms: number): void;
  /** Requests received per operation (faulted ones included). */
  count(operation?: KmsOperation): number;
  /** Highest number of requests in flight at once. */
  readonly peakInFlight: number;
  readonly requests: readonly KmsRequestRecord[];
  /** Who signed each request, in arrival order (cleared with the counters). */
  readonly callers: readonly KmsCaller[];
  /** Drop pending faults, denials and latency. */
  clearFaults(): void;
  resetCounters(): void;
  close(): Promise<void>;
}

interface StoredKey extends KmsKey {
  readonly material: Buffer;
}

interface Imported {
  readonly context: string;
  readonly dataKey: Buffer;
}

const BLOB_MAGIC = Buffer.from('TKMS', 'ascii');
const KEY_ID_BYTES = 36; // a UUID in ASCII
const IV_BYTES = 12;
const TAG_BYTES = 16;

class KmsFault extends Error {
  readonly type: string;
  readonly status: number;

  constructor(type: string, message: string, status = 400) {
    super(message);
    this.type = type;
    this.status = status;
  }
}

function canonical(context: unknown): string {
  if (context === undefined || context === null) return '[]';
  if (typeof context !== 'object' || Array.isArray(context)) {
    throw new KmsFault('ValidationException', 'EncryptionContext must be a map');
  }
  const entries = Object.entries(context as Record<string, unknown>).sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  return JSON.stringify(entries);
}

function blobField(body: Record<string, unknown>, field: string): Buffer {
  const value = body[field];
  if (typeof value !== 'string' || value === '') {
    throw new KmsFault('ValidationException', `${field} is required`);
  }
  return Buffer.from(value, 'base64');
}

export async function startKmsServer(): Promise<KmsServer> {
  const keys = new Map<string, StoredKey>();
  const aliases = new Map<string, string>();
  const imported = new Map<string, Imported>();
  const faults = new FaultQueue<KmsOperation, KmsError | { raw: RawResponse }>();
  const denied = new Set<KmsOperation>();
  const counts = new Map<KmsOperation, number>();
  const requests: KmsRequestRecord[] = [];
  const callers: KmsCaller[] = [];
  let latencyMs = 0;
  let inFlight = 0;
  let peakInFlight = 0;

  const arnOf = (keyId: string) => `arn:aws:kms:${KMS_REGION}:${KMS_ACCOUNT}:key/${keyId}`;

  function createKey(options: { alias?: string; enabled?: boolean } = {}): KmsKey {
    const keyId = randomUUID();
    const key: StoredKey = {
      keyId,
      arn: arnOf(keyId),
      enabled: options.enabled ?? true,
      material: randomBytes(32),
    };
    keys.set(keyId, key);
    if (options.alias !== undefined) aliases.set(options.alias, keyId);
    return key;
  }

  function findKey(reference: unknown): StoredKey {
    if (typeof reference !== 'string' || reference === '') {
      throw new KmsFault('ValidationException', 'KeyId is required');
    }
    let id = reference;
    const aliasMatch = /^arn:aws:kms:[^:]+:\d+:(alias\/.+)$/.exec(reference);
    const alias = aliasMatch?.[1] ?? (reference.startsWith('alias/') ? reference : undefined);
    if (alias !== undefined) {
      const target = aliases.get(alias);
      if (target === undefined) {
        throw new KmsFault(
          'NotFoundException',
          `Alias arn:aws:kms:${KMS_REGION}:${KMS_ACCOUNT}:${alias} is not found.`,
        );
      }
      id = target;
    }
    id = /^arn:aws:kms:[^:]+:\d+:key\/(.+)$/.exec(id)?.[1] ?? id;
    const key = keys.get(id);
    if (key === undefined) {
      throw new KmsFault('NotFoundException', `Key '${arnOf(id)}' does not exist`);
    }
    return key;
  }

  function usable(key: StoredKey): StoredKey {
    if (!key.enabled) throw new KmsFault('DisabledException', `${key.arn} is disabled.`);
    return key;
  }

  function wrap(key: StoredKey, plaintext: Buffer, context: string): Buffer {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key.material, iv).setAAD(Buffer.from(context));
    const sealed = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([
      BLOB_MAGIC,
      Buffer.from(key.keyId, 'ascii'),
      iv,
      cipher.getAuthTag(),
      sealed,
    ]);
  }

  function unwrap(
    blob: Buffer,
    context: string,
  ): { key: StoredKey | undefined; plaintext: Buffer } {
    const foreign = imported.get(blob.toString('base64'));
    if (foreign !== undefined) {
      if (foreign.context !== context) throw invalidCiphertext();
      return { key: undefined, plaintext: Buffer.from(foreign.dataKey) };
    }
    const header = BLOB_MAGIC.length + KEY_ID_BYTES + IV_BYTES + TAG_BYTES;
    if (blob.length <= header || !blob.subarray(0, BLOB_MAGIC.length).equals(BLOB_MAGIC)) {
      throw invalidCiphertext();
    }
    let offset = BLOB_MAGIC.length;
    const keyId = blob.subarray(offset, (offset += KEY_ID_BYTES)).toString('ascii');
    const key = keys.get(keyId);
    if (key === undefined) throw invalidCiphertext();
    usable(key);
    const iv = blob.subarray(offset, (offset += IV_BYTES));
    const tag = blob.subarray(offset, (offset += TAG_BYTES));
    const decipher = createDecipheriv('aes-256-gcm', key.material, iv)
      .setAAD(Buffer.from(context))
      .setAuthTag(tag);
    try {
      return {
        key,
        plaintext: Buffer.concat([decipher.update(blob.subarray(offset)), decipher.final()]),
      };
    } catch {
      throw invalidCiphertext();
    }
  }

  function invalidCiphertext(): KmsFault {
    return new KmsFault('InvalidCiphertextException', '');
  }

  function handle(operation: KmsOperation, body: Record<string, unknown>): unknown {
    switch (operation) {
      case 'GenerateDataKey': {
        const key = usable(findKey(body.KeyId));
        if (body.KeySpec !== undefined && body.NumberOfBytes !== undefined) {
          throw new KmsFault('ValidationException', 'Specify either KeySpec or NumberOfBytes');
        }
        const bytes =
          typeof body.NumberOfBytes === 'number'
            ? body.NumberOfBytes
            : body.KeySpec === 'AES_128'
              ? 16
              : 32;
        if (!Number.isInteger(bytes) || bytes < 1 || bytes > 1024) {
          throw new KmsFault('ValidationException', 'NumberOfBytes must be between 1 and 1024');
        }
        const plaintext = randomBytes(bytes);
        const blob = wrap(key, plaintext, canonical(body.EncryptionContext));
        const response = {
          CiphertextBlob: blob.toString('base64'),
          Plaintext: plaintext.toString('base64'),
          KeyId: key.arn,
        };
        plaintext.fill(0);
        return response;
      }
      case 'Encrypt': {
        const key = usable(findKey(body.KeyId));
        const blob = wrap(key, blobField(body, 'Plaintext'), canonical(body.EncryptionContext));
        return { CiphertextBlob: blob.toString('base64'), KeyId: key.arn };
      }
      case 'Decrypt': {
        const blob = blobField(body, 'CiphertextBlob');
        const { key, plaintext } = unwrap(blob, canonical(body.EncryptionContext));
        if (body.KeyId !== undefined && key !== undefined && findKey(body.KeyId) !== key) {
          throw new KmsFault('IncorrectKeyException', 'The key ID in the request does not match');
        }
        const response = {
          KeyId: key?.arn ?? arnOf('00000000-0000-0000-0000-000000000000'),
          Plaintext: plaintext.toString('base64'),
          EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
        };
        plaintext.fill(0);
        return response;
      }
      case 'DescribeKey': {
        const key = findKey(body.KeyId);
        return {
          KeyMetadata: {
            AWSAccountId: KMS_ACCOUNT,
            KeyId: key.keyId,
            Arn: key.arn,
            Enabled: key.enabled,
            KeyState: key.enabled ? 'Enabled' : 'Disabled',
            KeyUsage: 'ENCRYPT_DECRYPT',
            KeySpec: 'SYMMETRIC_DEFAULT',
            KeyManager: 'CUSTOMER',
            Origin: 'AWS_KMS',
            CreationDate: 1_700_000_000,
          },
        };
      }
      default:
        throw new KmsFault('UnknownOperationException', `${operation} is not supported here`);
    }
  }

  function takeFault(operation: KmsOperation): KmsFault | RawResponse | undefined {
    const error = faults.take(operation);
    if (error === undefined) return undefined;
    if ('raw' in error) return error.raw;
    return new KmsFault(error.type, error.message ?? '', error.status ?? 400);
  }

  function respond(response: ServerResponse, status: number, payload: unknown, type?: string) {
    const body = Buffer.from(JSON.stringify(payload));
    response.writeHead(status, {
      'content-type': 'application/x-amz-json-1.1',
      'content-length': body.length,
      'x-amzn-requestid': randomUUID(),
      ...(type === undefined ? {} : { 'x-amzn-errortype': type }),
    });
    response.end(body);
  }

  async function serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    inFlight += 1;
    peakInFlight = Math.max(peakInFlight, inFlight);
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const target = request.headers['x-amz-target'];
      const operation = typeof target === 'string' ? target.replace(/^TrentService\./, '') : '';
      counts.set(operation, (counts.get(operation) ?? 0) + 1);
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<
          string,
          unknown
        >;
      } catch {
        body = {};
      }
      const recorded = { ...body };
      delete recorded.Plaintext;
      delete recorded.CiphertextBlob;
      requests.push({ operation, body: recorded });
      callers.push({
        operation,
        userAgent: request.headers['user-agent'],
        ...signerOf(request.headers.authorization),
      });
      // A fault belongs to the requests that arrive after it was set, taken as they arrive: a
      // request held by the latency since before (say, from a credexec killed meanwhile) must not
      // use up a fault a later test set for its own requests.
      const fault = takeFault(operation);
      if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));
      try {
        if (typeof request.headers.authorization !== 'string') {
          throw new KmsFault('MissingAuthenticationTokenException', 'Missing Authentication Token');
        }
        if (fault instanceof KmsFault) throw fault;
        if (fault !== undefined) {
          sendRaw(response, fault, 'application/x-amz-json-1.1');
          return;
        }
        if (denied.has(operation)) {
          throw new KmsFault(
            'AccessDeniedException',
            `User: arn:aws:iam::${KMS_ACCOUNT}:user/test is not authorized to perform: kms:${operation} because no identity-based policy allows the kms:${operation} action`,
          );
        }
        respond(response, 200, handle(operation, body));
      } catch (error: unknown) {
        const fault =
          error instanceof KmsFault
            ? error
            : new KmsFault('KMSInternalException', 'internal error', 500);
        respond(response, fault.status, { __type: fault.type, message: fault.message }, fault.type);
      }
    } finally {
      inFlight -= 1;
    }
  }

  const server = createServer((request, response) => {
    void serve(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const defaultKey = createKey({ alias: 'alias/credstash' });

  return {
    endpoint: `http://127.0.0.1:${port}`,
    region: KMS_REGION,
    defaultKey,
    createKey,
    setKeyEnabled(reference, enabled) {
      findKey(reference).enabled = enabled;
    },
    registerBlob(blob, context, dataKey) {
      imported.set(Buffer.from(blob).toString('base64'), {
        context: canonical(context),
        dataKey: Buffer.from(dataKey),
      });
    },
    throttleNext(count) {
      faults.add({ type: 'ThrottlingException', message: 'Rate exceeded' }, count);
    },
    failNext(error, count = 1, operation) {
      faults.add(error, count, operation);
    },
    answerNext(raw, count = 1, operation) {
      faults.add({ raw }, count, operation);
    },
    deny(operation, isDenied = true) {
      if (isDenied) denied.add(operation);
      else denied.delete(operation);
    },
    setLatency(ms) {
      latencyMs = ms;
    },
    count(operation) {
      if (operation !== undefined) return counts.get(operation) ?? 0;
      let total = 0;
      for (const value of counts.values()) total += value;
      return total;
    },
    get peakInFlight() {
      return peakInFlight;
    },
    requests,
    callers,
    clearFaults() {
      faults.clear();
      denied.clear();
      latencyMs = 0;
    },
    resetCounters() {
      counts.clear();
      requests.length = 0;
      callers.length = 0;
      peakInFlight = inFlight;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
