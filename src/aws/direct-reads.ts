import type {
  AttributeValue,
  BatchGetItemCommandInput,
  BatchGetItemCommandOutput,
  QueryCommandInput,
  QueryCommandOutput,
} from '@aws-sdk/client-dynamodb';
import type { KmsApi } from '../keys/aws-kms.js';
import type { DynamoDbApi } from '../stores/dynamodb.js';
import { attributesFromWire, type WireAttributeMap } from '../stores/item.js';
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

type Item = Record<string, AttributeValue>;

function items(wire: unknown): Item[] | undefined {
  return Array.isArray(wire)
    ? wire.map((item) => attributesFromWire(item as WireAttributeMap) as Item)
    : undefined;
}

function item(wire: unknown): Item | undefined {
  return wire === undefined || wire === null
    ? undefined
    : (attributesFromWire(wire as WireAttributeMap) as Item);
}

function byTable<T>(wire: unknown, convert: (value: unknown) => T): Record<string, T> | undefined {
  if (wire === undefined || wire === null) return undefined;
  return Object.fromEntries(
    Object.entries(wire as Record<string, unknown>).map(([table, value]) => [
      table,
      convert(value),
    ]),
  );
}

const metadata = { $metadata: {} };

export function createDirectReads(
  plan: DirectReadPlan,
  config: AwsClientConfig,
  credentials: () => Promise<AwsCredentials>,
): DirectReads & { destroy(): void } {
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
      const output = await dynamodb.call('Query', input);
      const result: QueryCommandOutput = { ...metadata };
      const found = items(output.Items);
      if (found !== undefined) result.Items = found;
      const last = item(output.LastEvaluatedKey);
      if (last !== undefined) result.LastEvaluatedKey = last;
      return result;
    },
    async batchGetItem(input: BatchGetItemCommandInput): Promise<BatchGetItemCommandOutput> {
      const output = await dynamodb.call('BatchGetItem', input);
      const result: BatchGetItemCommandOutput = { ...metadata };
      const responses = byTable(output.Responses, (list) => items(list) ?? []);
      if (responses !== undefined) result.Responses = responses;
      const unprocessed = byTable(output.UnprocessedKeys, (value) => {
        const { Keys, ...rest } = value as { Keys?: unknown };
        return { ...rest, Keys: items(Keys) ?? [] };
      });
      if (unprocessed !== undefined) result.UnprocessedKeys = unprocessed;
      return result;
    },
    async decrypt(input) {
      const output = await kms.call('Decrypt', input);
      return typeof output.Plaintext === 'string'
        ? { Plaintext: Buffer.from(output.Plaintext, 'base64') }
        : {};
    },
    destroy() {
      dynamodb.destroy();
      kms.destroy();
    },
  };
}
