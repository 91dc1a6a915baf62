import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { SetupRequiredError, StoreError, type StoreFailure } from '../../src/errors.js';
import { MalformedResponseError, ResponseTooLargeError } from '../../src/util/aws-errors.js';
import { DynamoDbStore, type DynamoDbApi } from '../../src/stores/dynamodb.js';
import { LocalFileStore } from '../../src/stores/local-file.js';

/**
 * Every store failure carries a reason, so that the launcher's fallback (src/fallback) can tell
 * an outage (throttled, unavailable, malformed) from a refusal (access-denied) and from the rest.
 */
function storeFailingWith(error: unknown, batchAttempts = 3): DynamoDbStore {
  const fail = () => Promise.reject(error);
  return new DynamoDbStore({
    api: { query: fail, batchGetItem: fail, getItem: fail } as unknown as DynamoDbApi,
    table: 't',
    region: 'r',
    batchAttempts,
    sleep: () => Promise.resolve(),
  });
}

const awsError = (name: string, status?: number, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(`${name} happened`), {
    name,
    ...(status === undefined ? {} : { $metadata: { httpStatusCode: status } }),
    ...extra,
  });

const DYNAMODB_CASES: [string, unknown, StoreFailure][] = [
  ['ThrottlingException', awsError('ThrottlingException', 400), 'throttled'],
  [
    'ProvisionedThroughputExceededException',
    awsError('ProvisionedThroughputExceededException', 400),
    'throttled',
  ],
  ['RequestLimitExceeded', awsError('RequestLimitExceeded', 400), 'throttled'],
  ['InternalServerError (500)', awsError('InternalServerError', 500), 'unavailable'],
  ['ServiceUnavailable (503)', awsError('ServiceUnavailable', 503), 'unavailable'],
  ['an unnamed 502 from a proxy', awsError('HTTP502', 502), 'unavailable'],
  ['ECONNREFUSED', Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }), 'unavailable'],
  ['a timeout', awsError('TimeoutError'), 'unavailable'],
  ['a malformed answer', new MalformedResponseError('Items is missing'), 'malformed'],
  ['an oversized answer', new ResponseTooLargeError(1024), 'malformed'],
  ['AccessDeniedException', awsError('AccessDeniedException', 400), 'access-denied'],
  ['ExpiredTokenException', awsError('ExpiredTokenException', 400), 'credentials'],
  ['UnrecognizedClientException', awsError('UnrecognizedClientException', 400), 'credentials'],
  ['CredentialsProviderError', awsError('CredentialsProviderError'), 'credentials'],
  ['ValidationException', awsError('ValidationException', 400), 'failed'],
];

for (const [label, error, reason] of DYNAMODB_CASES) {
  test(`DynamoDB: ${label} is a StoreError of reason ${reason}, on Query and BatchGetItem`, async (t) => {
    const store = storeFailingWith(error);
    for (const read of [
      () => store.getLatest('n'),
      () => store.getMany([{ name: 'n', version: '1' }]),
    ]) {
      const failure = await t.throwsAsync(read(), { instanceOf: StoreError });
      t.is(failure?.reason, reason);
    }
  });
}

test('DynamoDB: keys BatchGetItem leaves unprocessed after every attempt are throttling', async (t) => {
  const store = new DynamoDbStore({
    api: {
      batchGetItem: (input: { RequestItems: Record<string, { Keys: unknown[] }> }) =>
        Promise.resolve({ UnprocessedKeys: { t: { Keys: input.RequestItems.t!.Keys } } }),
    } as unknown as DynamoDbApi,
    table: 't',
    region: 'r',
    batchAttempts: 2,
    sleep: () => Promise.resolve(),
  });
  const failure = await t.throwsAsync(store.getMany([{ name: 'n', version: '1' }]), {
    instanceOf: StoreError,
  });
  t.is(failure?.reason, 'throttled');
});

test('DynamoDB: a missing table is SetupRequiredError, not a StoreError', async (t) => {
  await t.throwsAsync(storeFailingWith(awsError('ResourceNotFoundException', 400)).getLatest('n'), {
    instanceOf: SetupRequiredError,
  });
});

test('local store: a corrupt file is malformed, an unsafe one access-denied, a directory failed, a missing one asks for setup', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'credexec-reasons-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'store.json');
  const reason = async (store = new LocalFileStore(path)) =>
    (await t.throwsAsync(store.getLatest('n'), { instanceOf: StoreError }))?.reason;
  await t.throwsAsync(new LocalFileStore(path).getLatest('n'), {
    instanceOf: SetupRequiredError,
  });
  writeFileSync(path, '{"format": "credexec-local-st', { mode: 0o600 });
  t.is(await reason(), 'malformed');
  writeFileSync(path, '{"format": "credexec-local-store", "formatVersion": 1, "items": [1]}');
  t.is(await reason(), 'malformed');
  chmodSync(path, 0o622);
  t.is(await reason(), 'access-denied');
  chmodSync(path, 0o600);
  if (process.getuid?.() === 0) {
    chownSync(path, 65534, 65534);
    t.is(await reason(), 'access-denied');
    chownSync(path, 0, 0);
  }
  chmodSync(dir, 0o777);
  t.is(await reason(), 'access-denied');
  chmodSync(dir, 0o700);
  const folder = join(dir, 'folder.json');
  mkdirSync(folder);
  t.is(await reason(new LocalFileStore(folder)), 'failed');
});
