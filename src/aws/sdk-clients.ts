import { IncomingMessage } from 'node:http';
import {
  BatchGetItemCommand,
  CreateTableCommand,
  DeleteItemCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  TagResourceCommand,
} from '@aws-sdk/client-dynamodb';
import { DecryptCommand, GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import type { BackendSettings } from '../backends/backend.js';
import type { Environment } from '../backends/settings.js';
import type { KmsApi } from '../keys/aws-kms.js';
import type { DynamoDbApi } from '../stores/dynamodb.js';
import { awsClientConfig, cacheKey, type AwsClientConfig } from './config.js';
import { readSdkResponseBody, responseLimit } from './response-body.js';
import { credentialProvider } from './sdk-credentials.js';
import { sdkClientOptions, withoutNodeVersionWarning } from './sdk-options.js';

/**
 * The AWS SDK clients of the aws backend: one DynamoDB and one KMS client per process and
 * configuration, sharing keep-alive connections and one credential provider. This module is
 * loaded only when a call needs the SDK.
 */
export interface AwsClients {
  readonly dynamodb: DynamoDBClient;
  readonly kms: KMSClient;
}

const clientCache = new Map<string, AwsClients>();

/**
 * Read every answer's body before the SDK does, as credexec's own transport reads it: at most
 * `responseLimit` bytes (a larger answer is refused unread), within the request timeout (the
 * SDK's own timeout stops once the headers have arrived, and a body that stopped coming would
 * hang it), and a body cut short fails like a reset connection. The SDK then deserializes the
 * bytes as usual. Runs inside the SDK's deserializer, outside its retries.
 */
function guardResponses(
  client: DynamoDBClient | KMSClient,
  service: 'dynamodb' | 'kms',
  timeoutMs: number,
): void {
  // One middleware for both clients: it does not depend on their command types.
  (client.middlewareStack as DynamoDBClient['middlewareStack']).add(
    (next, context) => async (args) => {
      const result = await next(args);
      const response = result.response as { body?: unknown };
      if (response.body instanceof IncomingMessage) {
        const operation = (context.commandName ?? '').replace(/Command$/, '');
        response.body = await readSdkResponseBody(
          response.body,
          responseLimit(service, operation),
          timeoutMs,
        );
      }
      return result;
    },
    { step: 'deserialize', priority: 'low', name: 'credexecResponseBody' },
  );
}

function createClients(config: AwsClientConfig): AwsClients {
  const credentials = credentialProvider(config);
  return withoutNodeVersionWarning(() => {
    const dynamodb = new DynamoDBClient({
      ...sdkClientOptions(config),
      credentials,
      ...(config.region === undefined ? {} : { region: config.region }),
      ...(config.endpoints.dynamodb === undefined ? {} : { endpoint: config.endpoints.dynamodb }),
    });
    const kmsRegion = config.kmsRegion ?? config.region;
    const kms = new KMSClient({
      ...sdkClientOptions(config),
      credentials,
      ...(kmsRegion === undefined ? {} : { region: kmsRegion }),
      ...(config.endpoints.kms === undefined ? {} : { endpoint: config.endpoints.kms }),
    });
    guardResponses(dynamodb, 'dynamodb', config.requestTimeoutMs);
    guardResponses(kms, 'kms', config.requestTimeoutMs);
    return { dynamodb, kms };
  });
}

export function clientsFor(config: AwsClientConfig): AwsClients {
  const key = cacheKey(config);
  let clients = clientCache.get(key);
  if (clients === undefined) {
    clients = createClients(config);
    clientCache.set(key, clients);
  }
  return clients;
}

/** The process-wide clients for these settings (for tools and tests that need raw access). */
export function awsClients(settings: BackendSettings, env: Environment): AwsClients {
  return clientsFor(awsClientConfig(settings, env));
}

/** Destroy the clients of one configuration (their idle keep-alive sockets included). */
export function releaseClients(config: AwsClientConfig): void {
  const key = cacheKey(config);
  const clients = clientCache.get(key);
  if (clients === undefined) return;
  clientCache.delete(key);
  clients.dynamodb.destroy();
  clients.kms.destroy();
}

export function releaseAllClients(): void {
  for (const clients of clientCache.values()) {
    clients.dynamodb.destroy();
    clients.kms.destroy();
  }
  clientCache.clear();
}

export function dynamoDbApiOf(client: DynamoDBClient): DynamoDbApi {
  return {
    getItem: (input) => client.send(new GetItemCommand(input)),
    putItem: (input) => client.send(new PutItemCommand(input)),
    deleteItem: (input) => client.send(new DeleteItemCommand(input)),
    query: (input) => client.send(new QueryCommand(input)),
    scan: (input) => client.send(new ScanCommand(input)),
    batchGetItem: (input) => client.send(new BatchGetItemCommand(input)),
    createTable: (input) => client.send(new CreateTableCommand(input)),
    describeTable: (input) => client.send(new DescribeTableCommand(input)),
    tagResource: (input) => client.send(new TagResourceCommand(input)),
  };
}

export function kmsApiOf(client: KMSClient): KmsApi {
  return {
    generateDataKey: (input) => client.send(new GenerateDataKeyCommand(input)),
    decrypt: (input) => client.send(new DecryptCommand(input)),
  };
}
