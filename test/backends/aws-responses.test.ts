import test, { type ExecutionContext } from 'ava';
import { closeAwsClients } from '../../src/backends/aws.js';
import type { Backend } from '../../src/backends/backend.js';
import { EMPTY_CONTEXT } from '../../src/envelope/context.js';
import { padVersion } from '../../src/envelope/version.js';
import { KeyServiceError, StoreError } from '../../src/errors.js';
import { resolveEntries } from '../../src/resolve/resolve-entries.js';
import { startAwsFixture, type AwsFixture } from '../support/aws-fixture.js';
import type { RawResponse } from '../support/raw-response.js';

/**
 * Broken answers from DynamoDB and KMS, through the aws backend, on both transports: credexec's
 * own (`auto`: Query, BatchGetItem and Decrypt) and the SDK (`sdk`: every call). Whatever comes
 * back, the store and the key service fail with one StoreError / KeyServiceError line that names
 * the operation and the table or key — never "not found", never a TypeError, never a hang, and
 * never with response bytes in the message.
 */
let fixture: AwsFixture;
const ATTEMPTS = 2;
const TIMEOUT_MS = 1_500;
const STORE = 'table credential-store in eu-west-1';
const v1 = padVersion('1');

test.before(async () => {
  fixture = await startAwsFixture({
    env: { AWS_MAX_ATTEMPTS: String(ATTEMPTS), CREDEXEC_AWS_TIMEOUT_MS: String(TIMEOUT_MS) },
  });
});

test.after.always(async () => {
  closeAwsClients();
  await fixture?.stop();
});

test.afterEach.always(() => {
  fixture.dynamodb.clearFaults();
  fixture.kms.clearFaults();
  fixture.resetCounters();
});

const TRANSPORTS = ['auto', 'sdk'] as const;
type Transport = (typeof TRANSPORTS)[number];

function open(transport: Transport): Promise<Backend> {
  return fixture.openBackend({}, { CREDEXEC_AWS_TRANSPORT: transport });
}

/** A credstash item of credential "db" on the wire, with `version` as given. */
function wireItem(version: unknown, extra: Record<string, unknown> = {}) {
  return {
    name: { S: 'db' },
    version,
    key: { S: 'a2V5' },
    contents: { S: 'Y3Q=' },
    hmac: { S: 'ab' },
    ...extra,
  };
}

const SECRET_LOOKING = 'c2VjcmV0LWxvb2tpbmctY2lwaGVydGV4dA';

async function storeFailure(t: ExecutionContext, run: () => Promise<unknown>): Promise<string> {
  const error = await t.throwsAsync(run(), { instanceOf: StoreError });
  const message = error?.message ?? '';
  t.false(message.includes('\n'), 'one line');
  t.false(message.includes(SECRET_LOOKING), 'no response bytes');
  return message;
}

async function keyFailure(t: ExecutionContext, run: () => Promise<unknown>) {
  const error = await t.throwsAsync(run(), { instanceOf: KeyServiceError });
  t.false(error?.message.includes('\n'), 'one line');
  t.false(error?.message.includes(SECRET_LOOKING), 'no response bytes');
  return { message: error?.message ?? '', reason: error?.reason };
}

const queryCases: readonly (readonly [string, string | object, string])[] = [
  ['Items is not a list', '{"Items":"nope"}', 'Items is not a list'],
  ['Items is missing', { Count: 0 }, 'Items is missing'],
  ['an item is not a map', { Items: [1] }, 'item is not a map of attributes'],
  [
    'a numeric version',
    { Items: [wireItem({ N: '1' })] },
    'item "db": attribute "version" is not a string',
  ],
  [
    'a JSON number as version',
    { Items: [wireItem(1)] },
    'item "db": attribute "version" is not a string',
  ],
  ['a null version', { Items: [wireItem(null)] }, 'item "db": attribute "version" is not a string'],
  [
    'a key that is not a string',
    { Items: [wireItem({ S: v1 }, { key: { N: '5' } })] },
    `item "db" version ${v1}: attribute "key" is not a string`,
  ],
  [
    'binary that is not base64',
    { Items: [wireItem({ S: v1 }, { hmac: { B: `${SECRET_LOOKING}!` } })] },
    'a binary value is not valid base64',
  ],
  ['a body that is not JSON', `<html>${SECRET_LOOKING}</html>`, 'not valid JSON'],
];

for (const transport of TRANSPORTS) {
  for (const [title, body, problem] of queryCases) {
    test.serial(
      `${transport}: a Query answer with ${title} is a malformed response, not "not found"`,
      async (t) => {
        const backend = await open(transport);
        fixture.dynamodb.answerNext(
          { body: typeof body === 'string' ? body : JSON.stringify(body) },
          1,
          'Query',
        );
        t.is(
          await storeFailure(t, () => backend.store.getLatest('db')),
          `malformed response from DynamoDB Query on ${STORE}: ${problem}`,
        );
        t.is(fixture.dynamodb.count('Query'), 1, 'not retried');
      },
    );
  }

  test.serial(`${transport}: a 200 body that is JSON but not an object is malformed`, async (t) => {
    const backend = await open(transport);
    fixture.dynamodb.answerNext({ body: '[1,2]' }, 1, 'Query');
    // The SDK reads a JSON array as an empty answer; credexec's own transport says what it is.
    t.is(
      await storeFailure(t, () => backend.store.getLatest('db')),
      `malformed response from DynamoDB Query on ${STORE}: ${transport === 'sdk' ? 'Items is missing' : 'not a JSON object'}`,
    );
  });

  const batchCases: readonly (readonly [string, object, string])[] = [
    ['Responses is not a map', { Responses: 'nope' }, 'Responses is not a map'],
    [
      'the table’s responses are not a list',
      { Responses: { 'credential-store': 'nope' } },
      'Responses["credential-store"] is not a list',
    ],
    [
      'UnprocessedKeys is not a map',
      { Responses: {}, UnprocessedKeys: 7 },
      'UnprocessedKeys is not a map',
    ],
    [
      'unprocessed Keys are not a list',
      { Responses: {}, UnprocessedKeys: { 'credential-store': { Keys: 'nope' } } },
      'UnprocessedKeys["credential-store"].Keys is not a list',
    ],
    [
      'an unprocessed key is not a key',
      { Responses: {}, UnprocessedKeys: { 'credential-store': { Keys: [{ name: 1 }] } } },
      'UnprocessedKeys["credential-store"].Keys[0] is not a key of this table',
    ],
    ['neither Responses nor UnprocessedKeys', {}, 'neither Responses nor UnprocessedKeys'],
    [
      'a malformed item',
      { Responses: { 'credential-store': [wireItem({ N: '1' })] } },
      'item "db": attribute "version" is not a string',
    ],
  ];
  for (const [title, body, problem] of batchCases) {
    test.serial(`${transport}: a BatchGetItem answer where ${title} is malformed`, async (t) => {
      const backend = await open(transport);
      fixture.dynamodb.answerNext({ body: JSON.stringify(body) }, 1, 'BatchGetItem');
      t.is(
        await storeFailure(t, () => backend.store.getMany([{ name: 'db', version: v1 }])),
        `malformed response from DynamoDB BatchGetItem on ${STORE}: ${problem}`,
      );
    });
  }

  test.serial(`${transport}: GetItem, Scan and paging answers are checked too`, async (t) => {
    const backend = await open(transport);
    fixture.dynamodb.answerNext({ body: '{"Item":"nope"}' }, 1, 'GetItem');
    t.is(
      await storeFailure(t, () => backend.store.get({ name: 'db', version: v1 })),
      `malformed response from DynamoDB GetItem on ${STORE}: item is not a map of attributes`,
    );
    fixture.dynamodb.answerNext({ body: '{"Items":{"0":{}}}' }, 1, 'Scan');
    t.is(
      await storeFailure(t, () => backend.store.scan()),
      `malformed response from DynamoDB Scan on ${STORE}: Items is not a list`,
    );
    fixture.dynamodb.answerNext({ body: '{"Items":[],"LastEvaluatedKey":"more"}' }, 1, 'Query');
    t.is(
      await storeFailure(t, () => backend.store.versions('db')),
      `malformed response from DynamoDB Query on ${STORE}: LastEvaluatedKey is not a map`,
    );
    fixture.dynamodb.answerNext({ body: '{"Items":[{"name":{"S":"db"},"version":{"N":"1"}}]}' });
    t.is(
      await storeFailure(t, () => backend.store.versions('db')),
      `malformed response from DynamoDB Query on ${STORE}: item "db": attribute "version" is not a string`,
    );
    // A server that hands back the key it was given would page forever.
    const key = { name: { S: 'db' }, version: { S: v1 } };
    fixture.dynamodb.answerNext(
      { body: JSON.stringify({ Items: [], LastEvaluatedKey: key }) },
      2,
      'Scan',
    );
    t.is(
      await storeFailure(t, () => backend.store.scan()),
      `malformed response from DynamoDB Scan on ${STORE}: LastEvaluatedKey does not advance`,
    );
    t.is(fixture.dynamodb.count('Scan'), 3);
  });

  test.serial(
    `${transport}: an optional launcher entry fails on a malformed answer instead of being left unset`,
    async (t) => {
      const backend = await open(transport);
      fixture.dynamodb.answerNext({ body: '{"Items":"nope"}' }, 1, 'Query');
      const [resolution] = await resolveEntries(backend, [
        {
          variable: 'DB',
          credential: 'db',
          version: undefined,
          optional: true,
          file: false,
          context: EMPTY_CONTEXT,
          source: { file: 'test.env', line: 1 },
        },
      ]);
      t.is(resolution?.status, 'failed');
      t.true(resolution?.status === 'failed' && resolution.error instanceof StoreError);
    },
  );

  const decryptCases: readonly (readonly [string, string, string])[] = [
    ['without Plaintext', '{"KeyId":"k"}', 'Plaintext is missing'],
    [
      'with a Plaintext that is not base64',
      `{"Plaintext":"${SECRET_LOOKING}!"}`,
      'a binary value is not valid base64',
    ],
    ['with a Plaintext that is not binary', '{"Plaintext":5}', 'Plaintext is not binary'],
    ['that is not JSON', `{"Plaintext":"${SECRET_LOOKING}`, 'not valid JSON'],
  ];
  for (const [title, body, problem] of decryptCases) {
    test.serial(`${transport}: a Decrypt answer ${title} is a malformed response`, async (t) => {
      const backend = await open(transport);
      fixture.kms.answerNext({ body }, 1, 'Decrypt');
      t.deepEqual(await keyFailure(t, () => backend.keys.decrypt(Buffer.from('blob'), {})), {
        message: `malformed response from KMS Decrypt (KMS in eu-west-1): ${problem}`,
        reason: 'malformed-response',
      });
      t.is(fixture.kms.count('Decrypt'), 1, 'not retried');
    });
  }

  test.serial(
    `${transport}: a GenerateDataKey answer without CiphertextBlob is malformed`,
    async (t) => {
      const backend = await open(transport);
      const plaintext = Buffer.alloc(64, 7).toString('base64');
      fixture.kms.answerNext(
        { body: JSON.stringify({ Plaintext: plaintext }) },
        1,
        'GenerateDataKey',
      );
      t.deepEqual(await keyFailure(t, () => backend.keys.generateDataKey('alias/credstash', {})), {
        message:
          'malformed response from KMS GenerateDataKey (key alias/credstash, KMS in eu-west-1): CiphertextBlob is missing',
        reason: 'malformed-response',
      });
    },
  );

  test.serial(
    `${transport}: a Content-Length beyond any real answer is refused at once and not retried`,
    async (t) => {
      const backend = await open(transport);
      const huge: RawResponse = { contentLength: 5_000_000_000, then: 'hang' };
      fixture.dynamodb.answerNext(huge, ATTEMPTS, 'Query');
      fixture.dynamodb.answerNext(huge, ATTEMPTS, 'BatchGetItem');
      fixture.kms.answerNext(huge, ATTEMPTS, 'Decrypt');
      const started = Date.now();
      t.is(
        await storeFailure(t, () => backend.store.getLatest('db')),
        `response from DynamoDB Query on ${STORE} exceeds 4 MiB; refusing it`,
      );
      t.is(
        await storeFailure(t, () => backend.store.getMany([{ name: 'db', version: v1 }])),
        `response from DynamoDB BatchGetItem on ${STORE} exceeds 32 MiB; refusing it`,
      );
      t.deepEqual(await keyFailure(t, () => backend.keys.decrypt(Buffer.from('blob'), {})), {
        message: 'response from KMS Decrypt (KMS in eu-west-1) exceeds 64 KiB; refusing it',
        reason: 'malformed-response',
      });
      t.true(Date.now() - started < TIMEOUT_MS, 'refused before any timeout');
      t.is(fixture.dynamodb.count(), 2);
      t.is(fixture.kms.count(), 1);
    },
  );

  test.serial(`${transport}: a body streamed past the limit is cut off and refused`, async (t) => {
    const backend = await open(transport);
    // 40 MiB of filler, then silence: a client without a limit reads it all and times out.
    fixture.dynamodb.answerNext(
      { body: '{"Responses":{', contentLength: 'chunked', then: 'stream', streamLimit: 40 << 20 },
      ATTEMPTS,
      'BatchGetItem',
    );
    t.is(
      await storeFailure(t, () => backend.store.getMany([{ name: 'db', version: v1 }])),
      `response from DynamoDB BatchGetItem on ${STORE} exceeds 32 MiB; refusing it`,
    );
    t.is(fixture.dynamodb.count('BatchGetItem'), 1);
  });

  test.serial(
    `${transport}: a body cut short is retried like a reset connection, then reported as one`,
    async (t) => {
      const backend = await open(transport);
      fixture.dynamodb.answerNext(
        { body: '{"Items":[', contentLength: 100, then: 'close' },
        ATTEMPTS,
        'Query',
      );
      t.is(
        await storeFailure(t, () => backend.store.getLatest('db')),
        `Query on ${STORE}: the answer from DynamoDB was cut short (the connection closed after 10 of 100 bytes)`,
      );
      t.is(fixture.dynamodb.count('Query'), ATTEMPTS);

      fixture.kms.answerNext({ body: '{"Plai', contentLength: 80, then: 'close' }, 1, 'Decrypt');
      fixture.kms.answerNext(
        { body: '{"Plai', contentLength: 'chunked', then: 'close' },
        1,
        'Decrypt',
      );
      const failure = await keyFailure(t, () => backend.keys.decrypt(Buffer.from('blob'), {}));
      t.is(failure.reason, 'unavailable');
      // Node 24 and later keep the bytes of a chunk that never arrived whole to themselves.
      t.regex(
        failure.message,
        /^kms:Decrypt \(KMS in eu-west-1\): the answer from KMS was cut short \(the connection closed after (6|0) bytes\)$/,
      );
      t.is(fixture.kms.count('Decrypt'), ATTEMPTS);
    },
  );

  test.serial(`${transport}: a body that stops coming times out and is retried`, async (t) => {
    const backend = await open(transport);
    fixture.dynamodb.answerNext(
      { body: '{"Items":[', contentLength: 100, then: 'hang' },
      ATTEMPTS,
      'Query',
    );
    const started = Date.now();
    const message = await storeFailure(t, () => backend.store.getLatest('db'));
    t.regex(
      message,
      new RegExp(`^Query on ${STORE}: no answer from DynamoDB in time \\(.*${TIMEOUT_MS} ms`),
    );
    t.is(fixture.dynamodb.count('Query'), ATTEMPTS);
    // Each attempt may take up to two timeouts on the SDK path (headers, then body).
    t.true(Date.now() - started < ATTEMPTS * 2 * TIMEOUT_MS + 3_000);
  });
}
