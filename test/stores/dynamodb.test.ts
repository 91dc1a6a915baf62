import {
  DescribeTableCommand,
  GetItemCommand,
  ListTagsOfResourceCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import test from 'ava';
import { awsClients } from '../../src/aws/sdk-clients.js';
import { resolveSettings } from '../../src/backends/settings.js';
import { padVersion } from '../../src/envelope/version.js';
import { SetupRequiredError, StoreError, VersionExistsError } from '../../src/errors.js';
import { dynamoDbApiOf } from '../../src/aws/sdk-clients.js';
import { DynamoDbStore } from '../../src/stores/dynamodb.js';
import type { CredentialItem, CredentialRef } from '../../src/stores/item.js';
import { startAwsFixture, type AwsFixture } from '../support/aws-fixture.js';

let fixture: AwsFixture;
let tables = 0;

test.before(async () => {
  fixture = await startAwsFixture({ setup: false, env: { AWS_MAX_ATTEMPTS: '2' } });
});

test.after.always(async () => {
  await fixture?.stop();
});

function client() {
  return awsClients(resolveSettings({ backend: 'aws' }, fixture.env), fixture.env).dynamodb;
}

function storeFor(
  table: string,
  options: { pageLimit?: number; batchAttempts?: number } = {},
): DynamoDbStore {
  return new DynamoDbStore({
    api: dynamoDbApiOf(client()),
    table,
    region: fixture.region,
    sleep: async () => undefined,
    ...options,
  });
}

async function freshStore(
  options: { pageLimit?: number; batchAttempts?: number } = {},
): Promise<{ store: DynamoDbStore; table: string }> {
  const table = `store-${tables++}`;
  const store = storeFor(table, options);
  await store.setup({});
  return { store, table };
}

const v = (version: number) => padVersion(String(version));

function item(name: string, version: number, extra: Partial<CredentialItem> = {}): CredentialItem {
  return {
    name,
    version: v(version),
    key: Buffer.from(`wrapped-${name}-${version}`).toString('base64'),
    contents: Buffer.from(`ct-${name}`).toString('base64'),
    hmac: 'ab'.repeat(32),
    digest: 'SHA256',
    ...extra,
  };
}

// The proxy's counters are shared, so tests that count requests run one at a time.

test.serial('setup creates an on-demand table keyed by name and version and tags it', async (t) => {
  fixture.resetCounters();
  const store = storeFor('setup-ondemand');
  const result = await store.setup({ tags: { team: 'ops' } });
  t.deepEqual(result, {
    created: ['table setup-ondemand in eu-west-1'],
    description: 'table setup-ondemand in eu-west-1',
  });
  const { Table } = await client().send(new DescribeTableCommand({ TableName: 'setup-ondemand' }));
  t.is(Table?.TableStatus, 'ACTIVE');
  t.is(Table?.BillingModeSummary?.BillingMode, 'PAY_PER_REQUEST');
  t.deepEqual(Table?.KeySchema, [
    { AttributeName: 'name', KeyType: 'HASH' },
    { AttributeName: 'version', KeyType: 'RANGE' },
  ]);
  t.deepEqual(
    [...(Table?.AttributeDefinitions ?? [])].sort((a, b) =>
      (a.AttributeName ?? '').localeCompare(b.AttributeName ?? ''),
    ),
    [
      { AttributeName: 'name', AttributeType: 'S' },
      { AttributeName: 'version', AttributeType: 'S' },
    ],
  );
  const { Tags } = await client().send(
    new ListTagsOfResourceCommand({ ResourceArn: Table?.TableArn }),
  );
  t.deepEqual(
    [...(Tags ?? [])].sort((a, b) => (a.Key ?? '').localeCompare(b.Key ?? '')),
    [
      { Key: 'Name', Value: 'credstash' },
      { Key: 'team', Value: 'ops' },
    ],
  );
  t.is(fixture.dynamodb.count('CreateTable'), 1);
  t.is(fixture.dynamodb.count('TagResource'), 1);
});

test.serial('setup on an existing table creates nothing but still ensures the tags', async (t) => {
  const store = storeFor('setup-twice');
  await store.setup({});
  fixture.resetCounters();
  const again = await store.setup({ tags: { owner: 'me' } });
  t.deepEqual(again.created, []);
  t.is(fixture.dynamodb.count('CreateTable'), 0);
  t.is(fixture.dynamodb.count('TagResource'), 1);
  const { Table } = await client().send(new DescribeTableCommand({ TableName: 'setup-twice' }));
  const { Tags } = await client().send(
    new ListTagsOfResourceCommand({ ResourceArn: Table?.TableArn }),
  );
  t.deepEqual([...(Tags ?? [])].map(({ Key, Value }) => `${Key}=${Value}`).sort(), [
    'Name=credstash',
    'owner=me',
  ]);
});

test.serial('setup with read and write capacity creates a provisioned table', async (t) => {
  await storeFor('setup-provisioned').setup({ readCapacity: 3, writeCapacity: 2 });
  const { Table } = await client().send(
    new DescribeTableCommand({ TableName: 'setup-provisioned' }),
  );
  t.is(Table?.ProvisionedThroughput?.ReadCapacityUnits, 3);
  t.is(Table?.ProvisionedThroughput?.WriteCapacityUnits, 2);
  t.not(Table?.BillingModeSummary?.BillingMode, 'PAY_PER_REQUEST');
});

test.serial(
  'an item written by the store has exactly the credstash attributes on the wire',
  async (t) => {
    const { store, table } = await freshStore();
    const hmac = '0123456789abcdef'.repeat(4);
    await store.put(item('wire', 1, { hmac: hmac.toUpperCase() }));
    await store.put(item('wire', 2, { hmac, comment: 'with comment', digest: 'SHA512' }));
    const raw = await client().send(
      new GetItemCommand({ TableName: table, Key: { name: { S: 'wire' }, version: { S: v(1) } } }),
    );
    t.deepEqual(Object.keys(raw.Item ?? {}).sort(), [
      'contents',
      'digest',
      'hmac',
      'key',
      'name',
      'version',
    ]);
    t.deepEqual(raw.Item?.name, { S: 'wire' });
    t.deepEqual(raw.Item?.version, { S: '0000000000000000001' });
    t.regex(raw.Item?.version?.S ?? '', /^\d{19}$/);
    t.deepEqual(raw.Item?.key, { S: Buffer.from('wrapped-wire-1').toString('base64') });
    t.deepEqual(raw.Item?.contents, { S: Buffer.from('ct-wire').toString('base64') });
    t.deepEqual(raw.Item?.digest, { S: 'SHA256' });
    t.is(raw.Item?.hmac?.S, undefined);
    t.is(Buffer.from(raw.Item?.hmac?.B ?? []).toString('latin1'), hmac);
    const withComment = await client().send(
      new GetItemCommand({ TableName: table, Key: { name: { S: 'wire' }, version: { S: v(2) } } }),
    );
    t.deepEqual(withComment.Item?.comment, { S: 'with comment' });
    t.deepEqual(withComment.Item?.digest, { S: 'SHA512' });
  },
);

test.serial('items with hmac as S, no digest and unknown attributes are read', async (t) => {
  const { store, table } = await freshStore();
  await client().send(
    new PutItemCommand({
      TableName: table,
      Item: {
        name: { S: 'legacy' },
        version: { S: v(1) },
        key: { S: 'a2V5' },
        contents: { S: 'Y3Q=' },
        hmac: { S: 'ABCDEF' },
        created_at: { N: '1700000000' },
      },
    }),
  );
  t.deepEqual(await store.get({ name: 'legacy', version: v(1) }), {
    name: 'legacy',
    version: v(1),
    key: 'a2V5',
    contents: 'Y3Q=',
    hmac: 'ABCDEF',
    digest: 'SHA256',
  });
});

test.serial('latest is one consistent descending Query with Limit 1', async (t) => {
  const { store } = await freshStore();
  for (const version of [1, 12, 3]) await store.put(item('latest', version));
  fixture.resetCounters();
  t.is((await store.getLatest('latest'))?.version, v(12));
  t.is(fixture.dynamodb.count('Query'), 1);
  t.is(fixture.dynamodb.count(), 1);
  t.like(fixture.dynamodb.requests[0]?.body, {
    KeyConditionExpression: '#n = :name',
    ExpressionAttributeNames: { '#n': 'name' },
    ExpressionAttributeValues: { ':name': { S: 'latest' } },
    ScanIndexForward: false,
    Limit: 1,
    ConsistentRead: true,
  });
});

test.serial(
  'latestVersions is one consistent descending Query per name with Limit 1, projecting the key alone',
  async (t) => {
    const { store } = await freshStore();
    for (const version of [1, 12, 3]) await store.put(item('watched', version));
    await store.put(item('other', 7));
    fixture.resetCounters();
    t.deepEqual(
      await store.latestVersions(['watched', 'other', 'gone', 'other']),
      new Map([
        ['watched', v(12)],
        ['other', v(7)],
        ['gone', undefined],
      ]),
    );
    t.is(fixture.dynamodb.count('Query'), 3);
    t.is(fixture.dynamodb.count(), 3);
    const bodies = fixture.dynamodb.requests.map(({ body }) => body);
    t.deepEqual(
      bodies
        .map((body) => (body.ExpressionAttributeValues as { ':name': { S: string } })[':name'].S)
        .sort(),
      ['gone', 'other', 'watched'],
    );
    for (const body of bodies) {
      t.like(body, {
        KeyConditionExpression: '#n = :name',
        ExpressionAttributeNames: { '#n': 'name', '#v': 'version' },
        ProjectionExpression: '#n, #v',
        ScanIndexForward: false,
        Limit: 1,
        ConsistentRead: true,
      });
    }
  },
);

test.serial(
  'latestVersions fails as a whole, naming the table, when one Query fails',
  async (t) => {
    const { store } = await freshStore();
    await store.put(item('a', 1));
    fixture.dynamodb.failNext({ type: 'AccessDeniedException', message: 'no' }, 1, 'Query');
    t.teardown(() => fixture.dynamodb.clearFaults());
    const error = await t.throwsAsync(store.latestVersions(['a', 'b']), { instanceOf: StoreError });
    t.regex(error?.message ?? '', /^Query on table store-\d+ in eu-west-1: access denied/);
  },
);

test.serial('put is conditional on the item not existing yet', async (t) => {
  const { store } = await freshStore();
  fixture.resetCounters();
  await store.put(item('cond', 1));
  t.like(fixture.dynamodb.requests[0]?.body, {
    ConditionExpression: 'attribute_not_exists(#n)',
    ExpressionAttributeNames: { '#n': 'name' },
  });
  const error = await t.throwsAsync(store.put(item('cond', 1)), { instanceOf: VersionExistsError });
  t.is(error?.credential, 'cond');
  t.is(error?.version, v(1));
});

test.serial('scan follows LastEvaluatedKey through every page', async (t) => {
  const { store } = await freshStore({ pageLimit: 4 });
  for (let index = 0; index < 25; index++) await store.put(item(`page.${index}`, 1));
  fixture.resetCounters();
  const items = await store.scan();
  t.is(items.length, 25);
  t.is(new Set(items.map(({ name }) => name)).size, 25);
  t.is(fixture.dynamodb.count('Scan'), 7);
  t.true(fixture.dynamodb.requests.every(({ body }) => body.ConsistentRead === true));
});

test.serial('versions pages through a long history and returns it ascending', async (t) => {
  const { store } = await freshStore({ pageLimit: 3 });
  for (let version = 10; version >= 1; version--) await store.put(item('hist', version));
  fixture.resetCounters();
  const refs = await store.versions('hist');
  t.deepEqual(
    refs,
    Array.from({ length: 10 }, (_, index) => ({ name: 'hist', version: v(index + 1) })),
  );
  t.is(fixture.dynamodb.count('Query'), 4);
});

test.serial(
  'getMany splits more than 100 keys into BatchGetItem calls of at most 100',
  async (t) => {
    const { store } = await freshStore();
    const refs: CredentialRef[] = [];
    for (let index = 0; index < 230; index++) {
      await store.put(item(`batch.${index}`, 1));
      refs.push({ name: `batch.${index}`, version: v(1) });
    }
    refs.push({ name: 'batch.missing', version: v(1) }, refs[0]!);
    fixture.resetCounters();
    const items = await store.getMany(refs);
    t.deepEqual(
      items.map(({ name }) => name),
      refs.slice(0, 230).map(({ name }) => name),
    );
    t.deepEqual(
      [...fixture.dynamodb.batchGetSizes].sort((a, b) => a - b),
      [31, 100, 100],
    );
    t.true(
      fixture.dynamodb.requests.every(
        ({ body }) =>
          (body as { RequestItems: Record<string, { ConsistentRead?: boolean }> }).RequestItems[
            storeTableName(store)
          ]?.ConsistentRead === true,
      ),
    );
    t.is(fixture.dynamodb.count(), 3);
  },
);

test.serial('getMany retries unprocessed keys until every item is read', async (t) => {
  const { store } = await freshStore();
  const refs = Array.from({ length: 10 }, (_, index) => ({ name: `up.${index}`, version: v(1) }));
  for (const ref of refs) await store.put(item(ref.name, 1));
  fixture.resetCounters();
  fixture.dynamodb.leaveUnprocessed(2, 3);
  const items = await store.getMany(refs);
  t.deepEqual(
    items.map(({ name }) => name),
    refs.map(({ name }) => name),
  );
  t.deepEqual(fixture.dynamodb.batchGetSizes, [10, 7, 4]);
});

test.serial('getMany gives up with a StoreError when keys stay unprocessed', async (t) => {
  const { store } = await freshStore({ batchAttempts: 3 });
  await store.put(item('stuck', 1));
  fixture.resetCounters();
  fixture.dynamodb.leaveUnprocessed(10, 0);
  const error = await t.throwsAsync(store.getMany([{ name: 'stuck', version: v(1) }]), {
    instanceOf: StoreError,
  });
  t.is(
    error?.message,
    `BatchGetItem on table ${storeTableName(store)} in eu-west-1 left 1 key(s) unprocessed after 3 attempts (throttled?)`,
  );
  t.is(fixture.dynamodb.count('BatchGetItem'), 3);
  fixture.dynamodb.clearFaults();
});

function storeTableName(store: DynamoDbStore): string {
  return store.description.replace(/^table (.*) in .*$/, '$1');
}

test.serial('concurrent conditional puts of one version let exactly one writer win', async (t) => {
  const { store } = await freshStore();
  const results = await Promise.allSettled(
    Array.from({ length: 10 }, (_, index) =>
      store.put(item('contended', 1, { comment: `w${index}` })),
    ),
  );
  const won = results.filter((result) => result.status === 'fulfilled');
  const lost = results.filter(
    (result) => result.status === 'rejected' && result.reason instanceof VersionExistsError,
  );
  t.is(won.length, 1);
  t.is(lost.length, 9);
});

test.serial('every operation on a missing table asks for setup', async (t) => {
  const store = storeFor('no-such-table');
  const message = 'table no-such-table not found in region eu-west-1 — run `credexec setup`';
  const ref = { name: 'x', version: v(1) };
  const operations: [string, () => Promise<unknown>][] = [
    ['put', () => store.put(item('x', 1))],
    ['get', () => store.get(ref)],
    ['getMany', () => store.getMany([ref])],
    ['getLatest', () => store.getLatest('x')],
    ['versions', () => store.versions('x')],
    ['scan', () => store.scan()],
    ['delete', () => store.delete(ref)],
  ];
  for (const [label, run] of operations) {
    const error = await t.throwsAsync(run(), { instanceOf: SetupRequiredError }, label);
    t.is(error?.message, message, label);
    t.is(error?.code, 'SETUP_REQUIRED', label);
  }
});

test.serial('access denied names the DynamoDB action and the table', async (t) => {
  const { store, table } = await freshStore();
  fixture.dynamodb.failNext(
    {
      type: 'AccessDeniedException',
      message:
        'User: arn:aws:iam::111122223333:user/t is not authorized to perform: dynamodb:Query',
    },
    1,
    'Query',
  );
  const error = await t.throwsAsync(store.getLatest('x'), { instanceOf: StoreError });
  t.is(
    error?.message,
    `Query on table ${table} in eu-west-1: access denied; the caller needs dynamodb:Query (User: arn:aws:iam::111122223333:user/t is not authorized to perform: dynamodb:Query)`,
  );
});

test.serial(
  'throttling is retried by the SDK and surfaced once the attempts run out',
  async (t) => {
    const { store, table } = await freshStore();
    await store.put(item('busy', 1));
    fixture.resetCounters();
    fixture.dynamodb.failNext({ type: 'ProvisionedThroughputExceededException' }, 1, 'GetItem');
    t.is((await store.get({ name: 'busy', version: v(1) }))?.name, 'busy');
    t.is(fixture.dynamodb.count('GetItem'), 2);

    fixture.resetCounters();
    fixture.dynamodb.failNext({ type: 'ProvisionedThroughputExceededException' }, 5, 'GetItem');
    const error = await t.throwsAsync(store.get({ name: 'busy', version: v(1) }), {
      instanceOf: StoreError,
    });
    t.is(
      error?.message,
      `GetItem on table ${table} in eu-west-1: DynamoDB is throttling requests; giving up after the retries`,
    );
    t.is(fixture.dynamodb.count('GetItem'), 2); // AWS_MAX_ATTEMPTS=2 in this file
    fixture.dynamodb.clearFaults();
  },
);

test.serial('an unreachable endpoint is a StoreError naming the operation and table', async (t) => {
  const backend = await fixture.openBackend(
    { table: 'offline' },
    { AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:9', AWS_MAX_ATTEMPTS: '1' },
  );
  const error = await t.throwsAsync(backend.store.getLatest('x'), { instanceOf: StoreError });
  t.regex(error?.message ?? '', /^Query on table offline in eu-west-1: cannot reach DynamoDB/);
});

test.serial('delete reports whether the version existed', async (t) => {
  const { store } = await freshStore();
  await store.put(item('del', 1));
  t.true(await store.delete({ name: 'del', version: v(1) }));
  t.false(await store.delete({ name: 'del', version: v(1) }));
});
