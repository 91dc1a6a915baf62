import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { DecryptCommand, KMSClient } from '@aws-sdk/client-kms';
import test from 'ava';
import fc from 'fast-check';
import {
  batchGetItemOutputFromWire,
  decryptOutputFromWire,
  queryOutputFromWire,
} from '../../src/aws/direct-reads.js';
import { withoutNodeVersionWarning } from '../../src/aws/sdk-options.js';
import { MalformedResponseError } from '../../src/util/aws-errors.js';
import { nearlyValidWireItems, wireAttributeMaps } from '../support/item-arbitraries.js';

/**
 * credexec's own transport hands the store and the key service the SDK's output shapes: binary
 * attributes and the plaintext as bytes, everything else as it came (the SDK does not check
 * shapes either; the store and the key service do). Binary that is not base64 is refused, as
 * the SDK refuses it.
 */

test('wire answers become the SDK’s shapes: binary as bytes, the rest as it came', (t) => {
  t.deepEqual(
    queryOutputFromWire({
      Items: [{ name: { S: 'n' }, hmac: { B: 'YWI=' }, n: { N: '1' } }],
      LastEvaluatedKey: { name: { S: 'n' } },
      Count: 1,
    }),
    {
      $metadata: {},
      Items: [{ name: { S: 'n' }, hmac: { B: Buffer.from('ab') }, n: { N: '1' } }],
      LastEvaluatedKey: { name: { S: 'n' } },
    },
  );
  t.deepEqual(queryOutputFromWire({ Items: 'nope', LastEvaluatedKey: 3 }), {
    $metadata: {},
    Items: 'nope',
    LastEvaluatedKey: 3,
  } as never);
  t.deepEqual(queryOutputFromWire({ Items: [1, null, { a: 2 }] }), {
    $metadata: {},
    Items: [1, null, { a: 2 }],
  } as never);
  t.deepEqual(
    batchGetItemOutputFromWire({
      Responses: { t: [{ hmac: { B: 'YWI=' } }], u: 'x' },
      UnprocessedKeys: { t: { Keys: [{ name: { S: 'n' } }], ConsistentRead: true }, u: 5 },
    }),
    {
      $metadata: {},
      Responses: { t: [{ hmac: { B: Buffer.from('ab') } }], u: 'x' },
      UnprocessedKeys: { t: { Keys: [{ name: { S: 'n' } }], ConsistentRead: true }, u: 5 },
    } as never,
  );
  t.deepEqual(batchGetItemOutputFromWire({}), { $metadata: {} });
  t.deepEqual(decryptOutputFromWire({ Plaintext: 'AAEC', KeyId: 'k' }), {
    Plaintext: Buffer.from([0, 1, 2]),
  });
  t.deepEqual(decryptOutputFromWire({}), {});
  t.deepEqual(decryptOutputFromWire({ Plaintext: null }), {});
  t.deepEqual(decryptOutputFromWire({ Plaintext: 5 }), { Plaintext: 5 } as never);
});

test('binary that is not base64 is a malformed response, as the SDK refuses it', (t) => {
  const notBase64 = ['!', 'YWI', 'YW=j', 'YWJj\n', '===='];
  for (const B of notBase64) {
    const error = t.throws(() => queryOutputFromWire({ Items: [{ hmac: { B } }] }), {
      instanceOf: MalformedResponseError,
    });
    t.is(error?.problem, 'a binary value is not valid base64');
    t.throws(() => batchGetItemOutputFromWire({ Responses: { t: [{ hmac: { B } }] } }), {
      instanceOf: MalformedResponseError,
    });
    t.throws(() => decryptOutputFromWire({ Plaintext: B }), {
      instanceOf: MalformedResponseError,
      message: 'malformed response: a binary value is not valid base64',
    });
  }
});

const wireAnswers = fc.oneof(
  fc.record(
    {
      Items: fc.oneof(fc.array(fc.oneof(wireAttributeMaps, nearlyValidWireItems)), fc.jsonValue()),
      LastEvaluatedKey: fc.oneof(wireAttributeMaps, fc.jsonValue()),
      Responses: fc.oneof(
        fc.dictionary(fc.string(), fc.oneof(fc.array(wireAttributeMaps), fc.jsonValue())),
        fc.jsonValue(),
      ),
      UnprocessedKeys: fc.oneof(
        fc.dictionary(
          fc.string(),
          fc.oneof(
            fc.record({ Keys: fc.oneof(fc.array(wireAttributeMaps), fc.jsonValue()) }),
            fc.jsonValue(),
          ),
        ),
        fc.jsonValue(),
      ),
      Plaintext: fc.oneof(fc.base64String(), fc.string(), fc.jsonValue()),
    },
    { requiredKeys: [] },
  ),
  fc.dictionary(fc.string(), fc.jsonValue()),
);

test('any JSON answer converts or is a MalformedResponseError, never a TypeError', (t) => {
  const converts = (convert: () => unknown) => {
    try {
      convert();
      return true;
    } catch (error: unknown) {
      return error instanceof MalformedResponseError && !error.message.includes('\n');
    }
  };
  fc.assert(
    fc.property(
      wireAnswers,
      (wire) =>
        converts(() => queryOutputFromWire(wire)) &&
        converts(() => batchGetItemOutputFromWire(wire)) &&
        converts(() => decryptOutputFromWire(wire)),
    ),
    { seed: 77_001, numRuns: 2_000 },
  );
  t.pass();
});

/** Byte arrays as plain arrays, so that Buffers and the SDK's Uint8Arrays compare equal. */
function plain(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, function (this: Record<string, unknown>, key, inner: unknown) {
      const original = this[key];
      return original instanceof Uint8Array ? { bytes: [...original] } : inner;
    }),
  ) as unknown;
}

/** Only `fields` of an output (the conversions keep only what the store and keys read). */
function only(result: unknown, fields: readonly string[]): unknown {
  if (typeof result !== 'object' || result === null) return result;
  return Object.fromEntries(
    fields.filter((field) => field in result).map((field) => [field, (result as never)[field]]),
  );
}

function outcome(run: () => unknown): unknown {
  try {
    return plain(run());
  } catch (error: unknown) {
    return error instanceof MalformedResponseError ? 'malformed' : `threw ${String(error)}`;
  }
}

async function sdkOutcome(run: () => Promise<{ $metadata?: unknown }>): Promise<unknown> {
  try {
    const { $metadata: _metadata, ...output } = await run();
    return plain(output);
  } catch (error: unknown) {
    // The SDK refuses binary that is not base64 with a TypeError (see util/aws-errors).
    return error instanceof TypeError && /base64/.test(error.message)
      ? 'malformed'
      : `threw ${String(error)}`;
  }
}

test('for any answer, the conversion gives what the AWS SDK’s own deserializer gives', async (t) => {
  let body = '{}';
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
      response.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const options = {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKID', secretAccessKey: 'secret' },
    maxAttempts: 1,
  };
  const [dynamodb, kms] = withoutNodeVersionWarning(() => [
    new DynamoDBClient(options),
    new KMSClient(options),
  ]);
  t.teardown(() => {
    dynamodb.destroy();
    kms.destroy();
  });
  // Items of top-level S, B, N and other values (the SDK also decodes binary nested in M, L
  // and BS; credexec reads only top-level S and B, so those are left out here).
  const value = fc.oneof(
    fc.record({ S: fc.string() }),
    fc.record({ B: fc.oneof(fc.base64String({ maxLength: 12 }), fc.string({ maxLength: 6 })) }),
    fc.record({ N: fc.string() }),
    fc.record({ NULL: fc.constant(true) }),
    fc.record({ BOOL: fc.boolean() }),
  );
  const queries = fc.record(
    {
      Items: fc.array(fc.dictionary(fc.constantFrom('name', 'version', 'hmac', 'x'), value), {
        maxLength: 3,
      }),
      LastEvaluatedKey: fc.dictionary(fc.constantFrom('name', 'version'), value),
      Count: fc.nat(),
    },
    { requiredKeys: [] },
  );
  await fc.assert(
    fc.asyncProperty(queries, async (answer) => {
      body = JSON.stringify(answer);
      const ours = outcome(() => queryOutputFromWire(answer));
      const theirs = await sdkOutcome(() =>
        dynamodb.send(new QueryCommand({ TableName: 't', KeyConditionExpression: 'x' })),
      );
      const fields = ['Items', 'LastEvaluatedKey'];
      t.deepEqual(only(ours, fields), only(theirs, fields), body);
    }),
    { seed: 77_002, numRuns: 150 },
  );
  const plaintexts = fc.oneof(
    fc.base64String({ maxLength: 100 }),
    fc.string({ maxLength: 10 }),
    fc.constant(null),
    fc.integer(),
  );
  await fc.assert(
    fc.asyncProperty(fc.option(plaintexts, { nil: undefined }), async (plaintext) => {
      const answer =
        plaintext === undefined ? { KeyId: 'k' } : { KeyId: 'k', Plaintext: plaintext };
      body = JSON.stringify(answer);
      const ours = outcome(() => decryptOutputFromWire(answer));
      const theirs = await sdkOutcome(() =>
        kms.send(new DecryptCommand({ CiphertextBlob: Buffer.from('x') })),
      );
      t.deepEqual(only(ours, ['Plaintext']), only(theirs, ['Plaintext']), body);
    }),
    { seed: 77_003, numRuns: 150 },
  );
});

test('an attribute named __proto__ stays an attribute: an own property, the prototype untouched', (t) => {
  const wire = JSON.parse(
    '{"Items":[{"__proto__":{"B":"AQI="},"constructor":{"S":"c"},"name":{"S":"n"}}]}',
  ) as Record<string, unknown>;
  const [item] = queryOutputFromWire(wire).Items! as Record<string, unknown>[];
  t.is(Object.getPrototypeOf(item), Object.prototype);
  t.deepEqual(Object.keys(item!), ['__proto__', 'constructor', 'name']);
  t.deepEqual(Object.getOwnPropertyDescriptor(item, '__proto__')!.value, {
    B: Buffer.from([1, 2]),
  });
  t.deepEqual(item!.constructor, { S: 'c' });
});
