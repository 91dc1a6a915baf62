import type {
  AttributeValue as SdkAttributeValue,
  BatchGetItemCommandInput,
  BatchGetItemCommandOutput,
  CreateTableCommandInput,
  CreateTableCommandOutput,
  DeleteItemCommandInput,
  DeleteItemCommandOutput,
  DescribeTableCommandInput,
  DescribeTableCommandOutput,
  GetItemCommandInput,
  GetItemCommandOutput,
  PutItemCommandInput,
  PutItemCommandOutput,
  QueryCommandInput,
  QueryCommandOutput,
  ScanCommandInput,
  ScanCommandOutput,
  TableDescription,
  TagResourceCommandInput,
  TagResourceCommandOutput,
} from '@aws-sdk/client-dynamodb';
import { SetupRequiredError, StoreError, VersionExistsError } from '../errors.js';
import {
  AWS_THROTTLING_CODES,
  awsErrorCode,
  awsErrorMessage,
  awsHttpStatus,
  isNetworkError,
  networkFailure,
  MalformedResponseError,
  responseFailureMessage,
} from '../util/aws-errors.js';
import { settleWithConcurrency } from '../util/concurrency.js';
import {
  refKey,
  type CredentialStore,
  type StoreSetupOptions,
  type StoreSetupResult,
} from './credential-store.js';
import {
  itemFromAttributes,
  itemToAttributes,
  refFromAttributes,
  type AttributeMap,
  type CredentialItem,
  type CredentialRef,
} from './item.js';
import { sleep } from '../util/system.js';

type SdkItem = Record<string, SdkAttributeValue>;

/** The DynamoDB calls the store makes (bound to the SDK in aws/sdk-clients, reads also in aws/direct-reads). */
export interface DynamoDbApi {
  getItem(input: GetItemCommandInput): Promise<GetItemCommandOutput>;
  putItem(input: PutItemCommandInput): Promise<PutItemCommandOutput>;
  deleteItem(input: DeleteItemCommandInput): Promise<DeleteItemCommandOutput>;
  query(input: QueryCommandInput): Promise<QueryCommandOutput>;
  scan(input: ScanCommandInput): Promise<ScanCommandOutput>;
  batchGetItem(input: BatchGetItemCommandInput): Promise<BatchGetItemCommandOutput>;
  createTable(input: CreateTableCommandInput): Promise<CreateTableCommandOutput>;
  describeTable(input: DescribeTableCommandInput): Promise<DescribeTableCommandOutput>;
  tagResource(input: TagResourceCommandInput): Promise<TagResourceCommandOutput>;
}

export interface DynamoDbStoreOptions {
  readonly api: DynamoDbApi;
  readonly table: string;
  readonly region: string;
  /** Scan/Query `Limit` per page; unset lets DynamoDB fill 1 MB pages. */
  readonly pageLimit?: number;
  /** How long `setup` waits for a new table to become ACTIVE. */
  readonly setupTimeoutMs?: number;
  /** Attempts for keys that BatchGetItem leaves unprocessed. */
  readonly batchAttempts?: number;
  /** Injected for tests; defaults to a real timer. */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** BatchGetItem's limit per request. */
export const BATCH_GET_LIMIT = 100;
const BATCH_CONCURRENCY = 8;
/** Version lookups in flight at once: no more than the TLS connections kept per service. */
const VERSION_LOOKUP_CONCURRENCY = 16;
const DEFAULT_BATCH_ATTEMPTS = 8;
const DEFAULT_SETUP_TIMEOUT_MS = 300_000;

function toSdk(attributes: AttributeMap): SdkItem {
  const item: SdkItem = {};
  for (const [name, value] of Object.entries(attributes)) {
    if ('S' in value && typeof value.S === 'string') item[name] = { S: value.S };
    else if ('B' in value && value.B instanceof Uint8Array) item[name] = { B: value.B };
    else throw new StoreError(`attribute "${name}" has a type credexec does not write`);
  }
  return item;
}

function keyOf(ref: CredentialRef): SdkItem {
  return { name: { S: ref.name }, version: { S: ref.version } };
}

/*
 * Answers are checked as they are read, whichever transport brought them (the SDK does not check
 * shapes either): anything that is not a well-formed answer is a MalformedResponseError, which
 * the store reports as "malformed response from DynamoDB <operation> on <table>: <problem>" and
 * never as "not found".
 */

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A malformed item makes the whole answer malformed (the message names the item). */
function malformedItem<T>(decode: () => T): T {
  try {
    return decode();
  } catch (error: unknown) {
    if (error instanceof StoreError) throw new MalformedResponseError(error.message);
    throw error;
  }
}

function decodeItem(item: unknown): CredentialItem {
  return malformedItem(() => itemFromAttributes(item as AttributeMap));
}

function decodeRef(item: unknown): CredentialRef {
  return malformedItem(() => refFromAttributes(item as AttributeMap));
}

/** `Items` of a Query or Scan answer: always there, a list. */
function itemsOf(output: { Items?: unknown }): unknown[] {
  const items = output.Items;
  if (items === undefined) throw new MalformedResponseError('Items is missing');
  if (!Array.isArray(items)) throw new MalformedResponseError('Items is not a list');
  return items;
}

/** Where the next page starts, if there is one. */
function nextPage(output: { LastEvaluatedKey?: unknown }): SdkItem | undefined {
  const key = output.LastEvaluatedKey;
  if (key === undefined) return undefined;
  if (!isMap(key)) throw new MalformedResponseError('LastEvaluatedKey is not a map');
  return Object.keys(key).length === 0 ? undefined : (key as SdkItem);
}

/** A page key as text, to notice a server handing back the key it was given. */
function pageKeyText(key: SdkItem): string {
  return JSON.stringify(
    Object.entries(key)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, value]) => [
        name,
        isMap(value)
          ? Object.entries(value).map(([type, inner]) => [
              type,
              inner instanceof Uint8Array ? Buffer.from(inner).toString('base64') : inner,
            ])
          : value,
      ]),
  );
}

/** The items a BatchGetItem answer holds for `table`, and the keys it left unprocessed. */
function batchAnswer(
  output: { Responses?: unknown; UnprocessedKeys?: unknown },
  table: string,
): { items: CredentialItem[]; unprocessed: SdkItem[] } {
  const { Responses: responses, UnprocessedKeys: unprocessed } = output;
  if (responses === undefined && unprocessed === undefined)
    throw new MalformedResponseError('neither Responses nor UnprocessedKeys');
  const name = JSON.stringify(table);
  let items: unknown = [];
  if (responses !== undefined) {
    if (!isMap(responses)) throw new MalformedResponseError('Responses is not a map');
    items = Object.hasOwn(responses, table) ? responses[table] : [];
    if (!Array.isArray(items)) throw new MalformedResponseError(`Responses[${name}] is not a list`);
  }
  let keys: unknown = [];
  if (unprocessed !== undefined) {
    if (!isMap(unprocessed)) throw new MalformedResponseError('UnprocessedKeys is not a map');
    const entry = Object.hasOwn(unprocessed, table) ? unprocessed[table] : { Keys: [] };
    if (!isMap(entry)) throw new MalformedResponseError(`UnprocessedKeys[${name}] is not a map`);
    keys = entry.Keys;
    if (!Array.isArray(keys)) {
      throw new MalformedResponseError(
        `UnprocessedKeys[${name}].Keys is ${keys === undefined ? 'missing' : 'not a list'}`,
      );
    }
  }
  return {
    items: (items as unknown[]).map(decodeItem),
    unprocessed: (keys as unknown[]).map((key, index) => {
      try {
        return keyOf(refFromAttributes(key as AttributeMap));
      } catch {
        throw new MalformedResponseError(
          `UnprocessedKeys[${name}].Keys[${index}] is not a key of this table`,
        );
      }
    }),
  };
}

/**
 * A credstash table in DynamoDB (SPEC §3). Reads are strongly consistent so that `put -a`
 * followed by `get` always sees the new version.
 */
export class DynamoDbStore implements CredentialStore {
  readonly description: string;
  readonly #api: DynamoDbApi;
  readonly #table: string;
  readonly #region: string;
  readonly #pageLimit: number | undefined;
  readonly #setupTimeoutMs: number;
  readonly #batchAttempts: number;
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(options: DynamoDbStoreOptions) {
    this.#api = options.api;
    this.#table = options.table;
    this.#region = options.region;
    this.#pageLimit = options.pageLimit;
    this.#setupTimeoutMs = options.setupTimeoutMs ?? DEFAULT_SETUP_TIMEOUT_MS;
    this.#batchAttempts = options.batchAttempts ?? DEFAULT_BATCH_ATTEMPTS;
    this.#sleep = options.sleep ?? sleep;
    this.description = `table ${options.table} in ${options.region}`;
  }

  async setup(options: StoreSetupOptions): Promise<StoreSetupResult> {
    const created: string[] = [];
    let table = await this.#describe();
    if (table === undefined) {
      table = await this.#create(options);
      if (table !== undefined) created.push(this.description);
    }
    if (table?.TableStatus !== 'ACTIVE') table = await this.#waitUntilActive();
    const arn = table.TableArn;
    if (arn === undefined) throw new StoreError(`${this.description} has no ARN to tag`);
    const tags = { ...options.tags, Name: 'credstash' };
    await this.#call('TagResource', () =>
      this.#api.tagResource({
        ResourceArn: arn,
        Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
      }),
    );
    return { created, description: this.description };
  }

  async put(item: CredentialItem): Promise<void> {
    try {
      await this.#call('PutItem', () =>
        this.#api.putItem({
          TableName: this.#table,
          Item: toSdk(itemToAttributes(item)),
          ConditionExpression: 'attribute_not_exists(#n)',
          ExpressionAttributeNames: { '#n': 'name' },
        }),
      );
    } catch (error: unknown) {
      if (
        error instanceof StoreError &&
        awsErrorCode(error.cause) === 'ConditionalCheckFailedException'
      )
        throw new VersionExistsError(item.name, item.version);
      throw error;
    }
  }

  async get(ref: CredentialRef): Promise<CredentialItem | undefined> {
    return this.#call('GetItem', async () => {
      const output = await this.#api.getItem({
        TableName: this.#table,
        Key: keyOf(ref),
        ConsistentRead: true,
      });
      return output.Item === undefined ? undefined : decodeItem(output.Item);
    });
  }

  async getMany(refs: readonly CredentialRef[]): Promise<CredentialItem[]> {
    const unique = new Map<string, CredentialRef>();
    for (const ref of refs) unique.set(refKey(ref), ref);
    const chunks: CredentialRef[][] = [];
    const all = [...unique.values()];
    for (let start = 0; start < all.length; start += BATCH_GET_LIMIT)
      chunks.push(all.slice(start, start + BATCH_GET_LIMIT));
    const results = await settleWithConcurrency(chunks, BATCH_CONCURRENCY, (chunk) =>
      this.#batchGet(chunk),
    );
    const found = new Map<string, CredentialItem>();
    for (const result of results) {
      if (!result.ok) throw result.error;
      for (const item of result.value) found.set(refKey(item), item);
    }
    return all.flatMap((ref) => found.get(refKey(ref)) ?? []);
  }

  async getLatest(name: string): Promise<CredentialItem | undefined> {
    return this.#call('Query', async () => {
      const output = await this.#api.query({
        TableName: this.#table,
        KeyConditionExpression: '#n = :name',
        ExpressionAttributeNames: { '#n': 'name' },
        ExpressionAttributeValues: { ':name': { S: name } },
        ScanIndexForward: false,
        Limit: 1,
        ConsistentRead: true,
      });
      const items = itemsOf(output);
      return items.length === 0 ? undefined : decodeItem(items[0]);
    });
  }

  async latestVersions(names: readonly string[]): Promise<Map<string, string | undefined>> {
    const unique = [...new Set(names)];
    const results = await settleWithConcurrency(unique, VERSION_LOOKUP_CONCURRENCY, (name) =>
      this.#latestVersion(name),
    );
    const latest = new Map<string, string | undefined>();
    for (const [index, result] of results.entries()) {
      if (!result.ok) throw result.error;
      latest.set(unique[index]!, result.value);
    }
    return latest;
  }

  /** A consistent Query of `name`'s versions, projected to the key (name and version) alone. */
  #refsQuery(name: string) {
    return {
      TableName: this.#table,
      KeyConditionExpression: '#n = :name',
      ExpressionAttributeNames: { '#n': 'name', '#v': 'version' },
      ExpressionAttributeValues: { ':name': { S: name } },
      ProjectionExpression: '#n, #v',
      ConsistentRead: true,
    };
  }

  /** As credstash reads "latest" (Query, newest first, one item), projected to the key alone. */
  async #latestVersion(name: string): Promise<string | undefined> {
    return this.#call('Query', async () => {
      const output = await this.#api.query({
        ...this.#refsQuery(name),
        ScanIndexForward: false,
        Limit: 1,
      });
      const items = itemsOf(output);
      if (items.length === 0) return undefined;
      const ref = decodeRef(items[0]);
      if (ref.name !== name)
        throw new MalformedResponseError(`Query for "${name}" answered with another name`);
      return ref.version;
    });
  }

  async versions(name: string): Promise<CredentialRef[]> {
    const refs: CredentialRef[] = [];
    await this.#paginate('Query', async (start) => {
      const output = await this.#api.query({
        ...this.#refsQuery(name),
        ...(this.#pageLimit === undefined ? {} : { Limit: this.#pageLimit }),
        ...(start === undefined ? {} : { ExclusiveStartKey: start }),
      });
      for (const item of itemsOf(output)) refs.push(decodeRef(item));
      return nextPage(output);
    });
    return refs.sort((a, b) => (a.version < b.version ? -1 : a.version > b.version ? 1 : 0));
  }

  async scan(): Promise<CredentialItem[]> {
    const items: CredentialItem[] = [];
    await this.#paginate('Scan', async (start) => {
      const output = await this.#api.scan({
        TableName: this.#table,
        ConsistentRead: true,
        ...(this.#pageLimit === undefined ? {} : { Limit: this.#pageLimit }),
        ...(start === undefined ? {} : { ExclusiveStartKey: start }),
      });
      for (const item of itemsOf(output)) items.push(decodeItem(item));
      return nextPage(output);
    });
    return items;
  }

  async delete(ref: CredentialRef): Promise<boolean> {
    return this.#call('DeleteItem', async () => {
      const { Attributes: old } = await this.#api.deleteItem({
        TableName: this.#table,
        Key: keyOf(ref),
        ReturnValues: 'ALL_OLD',
      });
      if (old !== undefined && !isMap(old))
        throw new MalformedResponseError('Attributes is not a map');
      return old !== undefined && Object.keys(old).length > 0;
    });
  }

  /** `page` returns where the next page starts (checked by `nextPage`). */
  async #paginate(
    operation: string,
    page: (start: SdkItem | undefined) => Promise<SdkItem | undefined>,
  ): Promise<void> {
    let start: SdkItem | undefined;
    do {
      const from = start;
      start = await this.#call(operation, async () => {
        const next = await page(from);
        // A server that hands back the key it was given would have us page forever.
        if (next !== undefined && from !== undefined && pageKeyText(next) === pageKeyText(from))
          throw new MalformedResponseError('LastEvaluatedKey does not advance');
        return next;
      });
    } while (start !== undefined);
  }

  async #batchGet(refs: readonly CredentialRef[]): Promise<CredentialItem[]> {
    const items: CredentialItem[] = [];
    let keys: SdkItem[] = refs.map(keyOf);
    for (let attempt = 1; keys.length > 0; attempt++) {
      if (attempt > this.#batchAttempts) {
        throw new StoreError(
          `BatchGetItem on ${this.description} left ${keys.length} key(s) unprocessed after ${this.#batchAttempts} attempts (throttled?)`,
          { reason: 'throttled' },
        );
      }
      if (attempt > 1) await this.#sleep(backoff(attempt - 1));
      const request = keys;
      const answer = await this.#call('BatchGetItem', async () =>
        batchAnswer(
          await this.#api.batchGetItem({
            RequestItems: { [this.#table]: { Keys: request, ConsistentRead: true } },
          }),
          this.#table,
        ),
      );
      items.push(...answer.items);
      keys = answer.unprocessed;
    }
    return items;
  }

  async #describe(): Promise<TableDescription | undefined> {
    try {
      return (
        await this.#call('DescribeTable', () => this.#api.describeTable({ TableName: this.#table }))
      ).Table;
    } catch (error: unknown) {
      if (error instanceof SetupRequiredError) return undefined;
      throw error;
    }
  }

  /** Returns undefined when another process created the table first. */
  async #create(options: StoreSetupOptions): Promise<TableDescription | undefined> {
    const provisioned = options.readCapacity !== undefined || options.writeCapacity !== undefined;
    try {
      const output = await this.#call('CreateTable', () =>
        this.#api.createTable({
          TableName: this.#table,
          KeySchema: [
            { AttributeName: 'name', KeyType: 'HASH' },
            { AttributeName: 'version', KeyType: 'RANGE' },
          ],
          AttributeDefinitions: [
            { AttributeName: 'name', AttributeType: 'S' },
            { AttributeName: 'version', AttributeType: 'S' },
          ],
          ...(provisioned
            ? {
                BillingMode: 'PROVISIONED',
                ProvisionedThroughput: {
                  ReadCapacityUnits: options.readCapacity ?? 1,
                  WriteCapacityUnits: options.writeCapacity ?? 1,
                },
              }
            : { BillingMode: 'PAY_PER_REQUEST' }),
        }),
      );
      return output.TableDescription ?? {};
    } catch (error: unknown) {
      if (error instanceof StoreError && awsErrorCode(error.cause) === 'ResourceInUseException')
        return undefined;
      throw error;
    }
  }

  async #waitUntilActive(): Promise<TableDescription> {
    const deadline = Date.now() + this.#setupTimeoutMs;
    for (let attempt = 1; ; attempt++) {
      const table = await this.#describe();
      if (table?.TableStatus === 'ACTIVE') return table;
      if (Date.now() >= deadline) {
        throw new StoreError(
          `${this.description} is still ${table?.TableStatus ?? 'missing'} after ${Math.round(this.#setupTimeoutMs / 1000)}s; run \`credexec setup\` again later`,
        );
      }
      await this.#sleep(Math.min(50 * 2 ** attempt, 2_000));
    }
  }

  /** Run one DynamoDB call and turn its failure into a StoreError naming the table. */
  async #call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error: unknown) {
      throw this.#failure(operation, error);
    }
  }

  #failure(operation: string, error: unknown): Error {
    if (error instanceof StoreError || error instanceof SetupRequiredError) return error;
    const response = responseFailureMessage(error, `DynamoDB ${operation} on ${this.description}`);
    if (response !== undefined)
      return new StoreError(response, { cause: error, reason: 'malformed' });
    const code = awsErrorCode(error);
    const detail = awsErrorMessage(error);
    const where = `${operation} on ${this.description}`;
    if (code === 'ResourceNotFoundException') {
      return new SetupRequiredError(
        `table ${this.#table} not found in region ${this.#region} — run \`credexec setup\``,
        { cause: error },
      );
    }
    if (code === 'ConditionalCheckFailedException' || code === 'ResourceInUseException') {
      return new StoreError(`${where}: ${code}`, { cause: error });
    }
    if (code === 'AccessDeniedException' || code === 'AccessDenied') {
      return new StoreError(
        `${where}: access denied; the caller needs dynamodb:${operation}${detail === undefined ? '' : ` (${detail})`}`,
        { cause: error, reason: 'access-denied' },
      );
    }
    if (code !== undefined && AWS_THROTTLING_CODES.has(code)) {
      return new StoreError(
        `${where}: DynamoDB is throttling requests; giving up after the retries`,
        { cause: error, reason: 'throttled' },
      );
    }
    if (
      code === 'UnrecognizedClientException' ||
      code === 'InvalidSignatureException' ||
      code === 'ExpiredTokenException' ||
      code === 'CredentialsProviderError'
    ) {
      return new StoreError(
        `${where}: AWS credentials were rejected or not found${detail === undefined ? '' : ` (${detail})`}`,
        { cause: error, reason: 'credentials' },
      );
    }
    if (isNetworkError(error)) {
      return new StoreError(`${where}: ${networkFailure('DynamoDB', error)}`, {
        cause: error,
        reason: 'unavailable',
      });
    }
    // A 5xx after the retries (InternalServerError, ServiceUnavailable, a proxy's 502).
    const status = awsHttpStatus(error);
    return new StoreError(
      `${where} failed: ${code ?? 'error'}${detail === undefined ? '' : ` (${detail})`}`,
      { cause: error, reason: status !== undefined && status >= 500 ? 'unavailable' : 'failed' },
    );
  }
}

function backoff(retry: number): number {
  const ceiling = Math.min(25 * 2 ** retry, 1_000);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}
