import type { AttributeValue, PutItemCommandInput } from '@aws-sdk/client-dynamodb';
import test from 'ava';
import fc from 'fast-check';
import { queryOutputFromWire } from '../../src/aws/direct-reads.js';
import { StoreError } from '../../src/errors.js';
import { DynamoDbStore, type DynamoDbApi } from '../../src/stores/dynamodb.js';
import { attributesToWire, type AttributeMap, type CredentialItem } from '../../src/stores/item.js';
import {
  asRead,
  attributeMaps,
  credentialItems,
  nearlyValidWireItems,
  wireAttributeMaps,
} from '../support/item-arbitraries.js';

/**
 * The store checks every answer it reads, whichever transport brought it: for any output it
 * returns valid credential items (or "none" only for a well-formed empty answer), or fails with
 * a one-line StoreError naming the operation and table. Fakes stand in for DynamoDB here; the
 * same answers over HTTP, through both transports, are in test/backends/aws-responses.test.ts.
 */
const WHERE = 'table t in r';

function storeWith(api: Partial<DynamoDbApi>): DynamoDbStore {
  return new DynamoDbStore({
    api: api as DynamoDbApi,
    table: 't',
    region: 'r',
    batchAttempts: 3,
    sleep: () => Promise.resolve(),
  });
}

function isItem(item: CredentialItem): boolean {
  return [item.name, item.version, item.key, item.contents, item.hmac, item.digest].every(
    (value) => typeof value === 'string',
  );
}

/** A one-line StoreError: a malformed answer of `operation`, or one of the `others`. */
function refusal(error: unknown, operation: string, others: RegExp[] = []): boolean {
  if (!(error instanceof StoreError) || error.message.includes('\n')) return false;
  return (
    error.message.startsWith(`malformed response from DynamoDB ${operation} on ${WHERE}: `) ||
    others.some((pattern) => pattern.test(error.message))
  );
}

const outputs = (items: fc.Arbitrary<unknown>) =>
  fc.record(
    {
      Items: fc.oneof(fc.array(items, { maxLength: 3 }), fc.jsonValue()),
      LastEvaluatedKey: fc.oneof(attributeMaps, fc.constant(undefined)),
    },
    { requiredKeys: [] },
  );

test('any Query answer gives the latest item, none for an empty list, or a StoreError', async (t) => {
  await fc.assert(
    fc.asyncProperty(outputs(attributeMaps), async (output) => {
      const store = storeWith({
        query: () => Promise.resolve({ $metadata: {}, ...output } as never),
      });
      try {
        const item = await store.getLatest('db');
        return item === undefined
          ? Array.isArray(output.Items) && output.Items.length === 0
          : isItem(item);
      } catch (error: unknown) {
        return refusal(error, 'Query');
      }
    }),
    { seed: 55_001, numRuns: 3_000 },
  );
  t.pass();
});

test('any Query answer on the wire, through the direct conversion, gives an item or a StoreError', async (t) => {
  const wire = fc.oneof(
    fc.record({
      Items: fc.array(fc.oneof(nearlyValidWireItems, wireAttributeMaps), { maxLength: 2 }),
    }),
    fc.dictionary(fc.constantFrom('Items', 'Count', 'LastEvaluatedKey'), fc.jsonValue()),
  );
  await fc.assert(
    fc.asyncProperty(wire, async (answer) => {
      const store = storeWith({ query: () => Promise.resolve(queryOutputFromWire(answer)) });
      try {
        const item = await store.getLatest('db');
        return item === undefined
          ? (answer as { Items?: unknown[] }).Items?.length === 0
          : isItem(item);
      } catch (error: unknown) {
        return refusal(error, 'Query');
      }
    }),
    { seed: 55_002, numRuns: 3_000 },
  );
  t.pass();
});

test('any BatchGetItem answer gives items or a StoreError, in a bounded number of calls', async (t) => {
  const tableValue = fc.oneof(fc.array(attributeMaps, { maxLength: 3 }), fc.jsonValue());
  const answers = fc.record(
    {
      Responses: fc.oneof(
        fc.record({ t: tableValue }, { requiredKeys: [] }),
        fc.dictionary(fc.string(), tableValue),
        fc.jsonValue(),
      ),
      UnprocessedKeys: fc.oneof(
        fc.record({
          t: fc.oneof(
            fc.record({
              Keys: fc.oneof(
                fc.array(
                  fc.oneof(fc.constant({ name: { S: 'db' }, version: { S: '1' } }), attributeMaps),
                  { maxLength: 2 },
                ),
                fc.jsonValue(),
              ),
            }),
            fc.jsonValue(),
          ),
        }),
        fc.jsonValue(),
      ),
    },
    { requiredKeys: [] },
  );
  await fc.assert(
    fc.asyncProperty(answers, async (answer) => {
      let calls = 0;
      const store = storeWith({
        batchGetItem: () => {
          calls += 1;
          return Promise.resolve({ $metadata: {}, ...answer } as never);
        },
      });
      try {
        const items = await store.getMany([{ name: 'db', version: '1' }]);
        return items.every(isItem) && calls <= 3;
      } catch (error: unknown) {
        return (
          refusal(error, 'BatchGetItem', [/ left \d+ key\(s\) unprocessed after 3 attempts/]) &&
          calls <= 3
        );
      }
    }),
    { seed: 55_003, numRuns: 3_000 },
  );
  t.pass();
});

test('paging through any Scan answers ends with items or a StoreError', async (t) => {
  const pages = fc.array(outputs(attributeMaps), { minLength: 1, maxLength: 4 });
  await fc.assert(
    fc.asyncProperty(pages, async (answers) => {
      let page = 0;
      const store = storeWith({
        scan: () =>
          Promise.resolve({ $metadata: {}, ...(answers[page++] ?? { Items: [] }) } as never),
      });
      try {
        return (await store.scan()).every(isItem);
      } catch (error: unknown) {
        return refusal(error, 'Scan');
      }
    }),
    { seed: 55_004, numRuns: 2_000 },
  );
  t.pass();
});

test('an item the store writes reads back the same through GetItem and the direct Query', async (t) => {
  await fc.assert(
    fc.asyncProperty(credentialItems, async (item) => {
      let written: Record<string, AttributeValue> | undefined;
      const store = storeWith({
        putItem: (input: PutItemCommandInput) => {
          written = input.Item;
          return Promise.resolve({ $metadata: {} });
        },
        getItem: () => Promise.resolve({ $metadata: {}, Item: written }),
        query: () =>
          Promise.resolve(
            queryOutputFromWire(
              JSON.parse(
                JSON.stringify({ Items: [attributesToWire(written as AttributeMap)] }),
              ) as Record<string, unknown>,
            ),
          ),
      });
      await store.put(item);
      t.deepEqual(await store.get(item), asRead(item));
      t.deepEqual(await store.getLatest(item.name), asRead(item));
    }),
    { seed: 55_005, numRuns: 1_000 },
  );
});
