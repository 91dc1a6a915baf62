import type {
  BatchGetItemCommandInput,
  BatchGetItemCommandOutput,
  QueryCommandInput,
  QueryCommandOutput,
} from '@aws-sdk/client-dynamodb';
import type { KmsApi } from '../keys/aws-kms.js';
import type { DynamoDbApi } from '../stores/dynamodb.js';
import { base64Bytes } from '../stores/item.js';
import { MalformedResponseError } from '../util/aws-errors.js';
import type { AwsClientConfig, DirectReadPlan } from './config.js';
import { AwsJsonClient } from './json-client.js';
import type { AwsCredentials } from './sigv4.js';

/**
 * The launcher's three read calls — DynamoDB `Query` and `BatchGetItem`, KMS `Decrypt` — sent by
 * credexec's own JSON-protocol client instead of the SDK. Inputs are the SDK's input shapes and
 * outputs the SDK's output shapes (binary attributes and the plaintext as bytes), so the store and
 * the key service do not know which transport answered.
 */
export type DirectReads = Pick<DynamoDbApi, 'query' | 'batchGetItem'> & Pick<KmsApi, 'decrypt'>;

// Without AWS_MAX_ATTEMPTS, the SDK's defaults for these clients.
const DEFAULT_DYNAMODB_ATTEMPTS = 4;
const DEFAULT_KMS_ATTEMPTS = 3;

const metadata = { $metadata: {} };

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function bytes(text: string): Buffer {
  const decoded = base64Bytes(text);
  if (decoded === undefined) throw new MalformedResponseError('a binary value is not valid base64');
  return decoded;
}

/**
 * Like the SDK's deserializer, these turn base64 into bytes where the protocol says binary and
 * leave everything else as it came, shape errors included: the store and the key service check
 * what they read, whichever transport brought it. Binary that is not base64 is refused here, as
 * the SDK refuses it.
 */
function itemFromWire(wire: unknown): unknown {
  if (!isMap(wire)) return wire;
  // Own keys only, onto a plain object, as Object.fromEntries builds it (`__proto__` included).
  const item: Record<string, unknown> = {};
  for (const name of Object.keys(wire)) {
    const value = wire[name];
    const converted =
      isMap(value) && typeof value.B === 'string' ? { ...value, B: bytes(value.B) } : value;
    if (name === '__proto__') {
      Object.defineProperty(item, name, {
        value: converted,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else item[name] = converted;
  }
  return item;
}

function itemsFromWire(wire: unknown): unknown {
  return Array.isArray(wire) ? wire.map(itemFromWire) : wire;
}

function mapValues(wire: unknown, convert: (value: unknown) => unknown): unknown {
  return isMap(wire)
    ? Object.fromEntries(Object.entries(wire).map(([key, value]) => [key, convert(value)]))
    : wire;
}

/** A Query answer in the SDK's output shape (Items and LastEvaluatedKey; the rest is unused). */
export function queryOutputFromWire(wire: Record<string, unknown>): QueryCommandOutput {
  const output: Record<string, unknown> = { ...metadata };
  if (wire.Items != null) output.Items = itemsFromWire(wire.Items);
  if (wire.LastEvaluatedKey != null) output.LastEvaluatedKey = itemFromWire(wire.LastEvaluatedKey);
  // Typed as the SDK types its outputs, which hold whatever came just the same.
  return output as unknown as QueryCommandOutput;
}

/** A BatchGetItem answer in the SDK's output shape (Responses and UnprocessedKeys). */
export function batchGetItemOutputFromWire(
  wire: Record<string, unknown>,
): BatchGetItemCommandOutput {
  const output: Record<string, unknown> = { ...metadata };
  if (wire.Responses != null) output.Responses = mapValues(wire.Responses, itemsFromWire);
  if (wire.UnprocessedKeys != null) {
    output.UnprocessedKeys = mapValues(wire.UnprocessedKeys, (entry) =>
      isMap(entry) && entry.Keys != null ? { ...entry, Keys: itemsFromWire(entry.Keys) } : entry,
    );
  }
  return output as unknown as BatchGetItemCommandOutput;
}

/** A Decrypt answer in the SDK's output shape (the plaintext as bytes). */
export function decryptOutputFromWire(wire: Record<string, unknown>): {
  Plaintext?: Uint8Array;
} {
  const plaintext = wire.Plaintext;
  if (plaintext == null) return {};
  return {
    Plaintext: (typeof plaintext === 'string' ? bytes(plaintext) : plaintext) as Uint8Array,
  };
}

export interface DirectTransport extends DirectReads {
  /** Open up to `count` connections to the service now, for requests about to come. */
  preconnect(service: 'dynamodb' | 'kms', count: number): void;
  destroy(): void;
}

export function createDirectReads(
  plan: DirectReadPlan,
  config: AwsClientConfig,
  credentials: () => Promise<AwsCredentials>,
): DirectTransport {
  const common = {
    credentials,
    connectTimeoutMs: config.connectTimeoutMs,
    requestTimeoutMs: config.requestTimeoutMs,
  };
  const dynamodb = new AwsJsonClient({
    ...common,
    endpoint: plan.dynamodb.endpoint,
    region: plan.dynamodb.region,
    signingName: 'dynamodb',
    targetPrefix: 'DynamoDB_20120810',
    jsonVersion: '1.0',
    maxAttempts: config.maxAttempts ?? DEFAULT_DYNAMODB_ATTEMPTS,
  });
  const kms = new AwsJsonClient({
    ...common,
    endpoint: plan.kms.endpoint,
    region: plan.kms.region,
    signingName: 'kms',
    targetPrefix: 'TrentService',
    jsonVersion: '1.1',
    maxAttempts: config.maxAttempts ?? DEFAULT_KMS_ATTEMPTS,
  });
  return {
    async query(input: QueryCommandInput): Promise<QueryCommandOutput> {
      return queryOutputFromWire(await dynamodb.call('Query', input));
    },
    async batchGetItem(input: BatchGetItemCommandInput): Promise<BatchGetItemCommandOutput> {
      return batchGetItemOutputFromWire(await dynamodb.call('BatchGetItem', input));
    },
    async decrypt(input) {
      return decryptOutputFromWire(await kms.call('Decrypt', input));
    },
    preconnect(service, count) {
      (service === 'dynamodb' ? dynamodb : kms).preconnect(count);
    },
    destroy() {
      dynamodb.destroy();
      kms.destroy();
    },
  };
}
