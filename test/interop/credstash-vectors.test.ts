import { PutItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import test from 'ava';
import { awsClients } from '../../src/aws/sdk-clients.js';
import { resolveSettings } from '../../src/backends/settings.js';
import { IntegrityError } from '../../src/errors.js';
import { getSecret, getAllSecrets } from '../../src/secrets/read-secrets.js';
import { startAwsFixture, type AwsFixture } from '../support/aws-fixture.js';
import { loadVectors, type CredstashVector } from '../support/vectors.js';

/**
 * Items written by Python credstash, loaded into DynamoDB exactly as credstash stored them, must
 * read back through the aws backend (SPEC §2, §3). The vectors are in test/fixtures.
 */
type Vector = Omit<CredstashVector, 'item'> & {
  item: Record<string, { S: string } | { B: string }>;
};

const vectors = loadVectors() as Vector[];

function sdkItem(item: Vector['item']): Record<string, AttributeValue> {
  const converted: Record<string, AttributeValue> = {};
  for (const [name, value] of Object.entries(item)) {
    converted[name] = 'B' in value ? { B: Buffer.from(value.B, 'base64') } : { S: value.S };
  }
  return converted;
}

function stringOf(value: { S: string } | { B: string } | undefined): string {
  if (value === undefined || !('S' in value)) throw new Error('expected an S attribute');
  return value.S;
}

let fixture: AwsFixture;

test.before(async () => {
  fixture = await startAwsFixture();
  const { dynamodb } = awsClients(resolveSettings({ backend: 'aws' }, fixture.env), fixture.env);
  for (const vector of vectors) {
    await dynamodb.send(
      new PutItemCommand({ TableName: fixture.table, Item: sdkItem(vector.item) }),
    );
    fixture.kms.registerBlob(
      Buffer.from(stringOf(vector.item.key), 'base64'),
      vector.context,
      Buffer.from(vector.dataKey, 'base64'),
    );
  }
});

test.after.always(async () => {
  await fixture?.stop();
});

test('the vector file holds both positive and negative credstash items', (t) => {
  t.true(vectors.filter((vector) => vector.expect === 'ok').length >= 20);
  t.is(vectors.filter((vector) => vector.expect === 'integrity-error').length, 3);
});

for (const vector of vectors) {
  const name = stringOf(vector.item.name);
  const version = stringOf(vector.item.version);
  if (vector.expect === 'ok') {
    test(`credstash item ${vector.id} decrypts to its recorded plaintext`, async (t) => {
      const backend = await fixture.openBackend();
      const value = await getSecret(backend, { name, version, context: vector.context });
      t.not(vector.plaintext, null);
      t.is(value.toString('utf8'), vector.plaintext ?? '');
    });
  } else {
    test(`credstash item ${vector.id} fails the integrity check`, async (t) => {
      const backend = await fixture.openBackend();
      const error = await t.throwsAsync(
        getSecret(backend, { name, version, context: vector.context }),
        {
          instanceOf: IntegrityError,
        },
      );
      t.is(error?.credential, name);
      t.is(error?.version, version);
    });
  }
}

test('every credstash item is listed by a scan of the table', async (t) => {
  const backend = await fixture.openBackend();
  const listed = (await backend.store.scan()).map((item) => `${item.name}@${item.version}`);
  const expected = vectors.map(
    (vector) => `${stringOf(vector.item.name)}@${stringOf(vector.item.version)}`,
  );
  t.deepEqual(listed.sort(), expected.sort());
});

test('getall over the credstash items without a context reports only the failing ones', async (t) => {
  const backend = await fixture.openBackend();
  const failing = vectors
    .filter((vector) => vector.expect !== 'ok' || Object.keys(vector.context).length > 0)
    .map((vector) => stringOf(vector.item.name));
  const error = await t.throwsAsync(getAllSecrets(backend));
  const reported = (error as { failures?: { credential: string }[] }).failures?.map(
    (failure) => failure.credential,
  );
  t.deepEqual(reported?.sort(), [...new Set(failing)].sort());
});
