import test from 'ava';
import { KeyServiceError } from '../../src/errors.js';
import { AwsKmsKeyService, type KmsApi } from '../../src/keys/aws-kms.js';
import type { KeyService } from '../../src/keys/key-service.js';
import { startAwsFixture, type AwsFixture } from '../support/aws-fixture.js';

let fixture: AwsFixture;

test.before(async () => {
  fixture = await startAwsFixture({ setup: false, env: { AWS_MAX_ATTEMPTS: '2' } });
});

test.after.always(async () => {
  await fixture?.stop();
});

test.afterEach.always(() => {
  fixture.kms.clearFaults();
});

async function kms(): Promise<KeyService> {
  return (await fixture.openBackend()).keys;
}

async function failure(promise: Promise<unknown>): Promise<KeyServiceError> {
  try {
    await promise;
  } catch (error: unknown) {
    if (error instanceof KeyServiceError) return error;
    throw error;
  }
  throw new Error('expected a KeyServiceError');
}

// The KMS server's counters are shared, so these tests run one at a time.

test.serial('GenerateDataKey asks for 64 bytes under the context, with no KeySpec', async (t) => {
  const keys = await kms();
  fixture.kms.resetCounters();
  const dataKey = await keys.generateDataKey('alias/credstash', { app: 'web' });
  t.is(dataKey.plaintext.length, 64);
  t.deepEqual(fixture.kms.requests, [
    {
      operation: 'GenerateDataKey',
      body: { KeyId: 'alias/credstash', NumberOfBytes: 64, EncryptionContext: { app: 'web' } },
    },
  ]);
  const unwrapped = await keys.decrypt(dataKey.ciphertextBlob, { app: 'web' });
  t.deepEqual(Buffer.from(unwrapped), Buffer.from(dataKey.plaintext));
  t.deepEqual(fixture.kms.requests[1], {
    operation: 'Decrypt',
    body: { EncryptionContext: { app: 'web' } },
  });
  t.is(keys.description, 'KMS in eu-west-1');
});

test.serial('a key is addressable by alias, id, key ARN and alias ARN', async (t) => {
  const keys = await kms();
  const key = fixture.kms.createKey({ alias: 'alias/team' });
  for (const keyId of [
    'alias/team',
    key.keyId,
    key.arn,
    'arn:aws:kms:eu-west-1:111122223333:alias/team',
  ]) {
    const dataKey = await keys.generateDataKey(keyId, {});
    t.is((await keys.decrypt(dataKey.ciphertextBlob, {})).length, 64, keyId);
  }
});

test.serial('a wrong context is an invalid-ciphertext failure', async (t) => {
  const keys = await kms();
  const dataKey = await keys.generateDataKey('alias/credstash', { env: 'prod' });
  const error = await failure(keys.decrypt(dataKey.ciphertextBlob, { env: 'dev' }));
  t.is(error.reason, 'invalid-ciphertext');
  t.is(
    error.message,
    'kms:Decrypt (KMS in eu-west-1): the data key cannot be unwrapped: wrong encryption context, or not a KMS ciphertext of this account',
  );
  const garbage = await failure(keys.decrypt(Buffer.from('not a blob'), {}));
  t.is(garbage.reason, 'invalid-ciphertext');
});

test.serial('access denied names the KMS action', async (t) => {
  const keys = await kms();
  const dataKey = await keys.generateDataKey('alias/credstash', {});
  fixture.kms.deny('Decrypt');
  const error = await failure(keys.decrypt(dataKey.ciphertextBlob, {}));
  t.is(error.reason, 'access-denied');
  t.true(
    error.message.startsWith(
      'kms:Decrypt (KMS in eu-west-1): access denied; the caller needs kms:Decrypt (User: arn:aws:iam::111122223333:user/test is not authorized',
    ),
  );
  fixture.kms.deny('GenerateDataKey');
  const put = await failure(keys.generateDataKey('alias/credstash', {}));
  t.is(put.reason, 'access-denied');
  t.true(
    put.message.startsWith(
      'kms:GenerateDataKey (key alias/credstash, KMS in eu-west-1): access denied; the caller needs kms:GenerateDataKey',
    ),
  );
});

test.serial('a disabled key is key-disabled for both new and existing data keys', async (t) => {
  const keys = await kms();
  const key = fixture.kms.createKey({ alias: 'alias/disabled-later' });
  const dataKey = await keys.generateDataKey(key.keyId, {});
  fixture.kms.setKeyEnabled(key.keyId, false);
  const put = await failure(keys.generateDataKey('alias/disabled-later', {}));
  t.is(put.reason, 'key-disabled');
  t.is(
    put.message,
    `kms:GenerateDataKey (key alias/disabled-later, KMS in eu-west-1): the KMS key is disabled (${key.arn} is disabled.)`,
  );
  const get = await failure(keys.decrypt(dataKey.ciphertextBlob, {}));
  t.is(get.reason, 'key-disabled');
});

test.serial('an unknown key or alias is key-not-found', async (t) => {
  const keys = await kms();
  const alias = await failure(keys.generateDataKey('alias/nope', {}));
  t.is(alias.reason, 'key-not-found');
  t.is(
    alias.message,
    'kms:GenerateDataKey (key alias/nope, KMS in eu-west-1): the KMS key does not exist (Alias arn:aws:kms:eu-west-1:111122223333:alias/nope is not found.)',
  );
  const id = await failure(keys.generateDataKey('00000000-1111-2222-3333-444444444444', {}));
  t.is(id.reason, 'key-not-found');
});

test.serial('throttling is retried by the SDK, then surfaced as throttled', async (t) => {
  const keys = await kms();
  fixture.kms.resetCounters();
  fixture.kms.throttleNext(1);
  await keys.generateDataKey('alias/credstash', {});
  t.is(fixture.kms.count('GenerateDataKey'), 2);

  fixture.kms.resetCounters();
  fixture.kms.throttleNext(5);
  const error = await failure(keys.generateDataKey('alias/credstash', {}));
  t.is(error.reason, 'throttled');
  t.is(
    error.message,
    'kms:GenerateDataKey (key alias/credstash, KMS in eu-west-1): KMS is throttling requests; giving up after the retries',
  );
  t.is(fixture.kms.count('GenerateDataKey'), 2); // AWS_MAX_ATTEMPTS=2 in this file
});

test.serial('an internal KMS error is retried and then reported as unavailable', async (t) => {
  const keys = await kms();
  fixture.kms.resetCounters();
  fixture.kms.failNext({ type: 'KMSInternalException', message: 'boom', status: 500 }, 5);
  const error = await failure(keys.generateDataKey('alias/credstash', {}));
  t.is(error.reason, 'unavailable');
  t.is(fixture.kms.count('GenerateDataKey'), 2);
});

test.serial('an unreachable KMS endpoint is unavailable', async (t) => {
  const backend = await fixture.openBackend(
    {},
    { AWS_ENDPOINT_URL_KMS: 'http://127.0.0.1:9', AWS_MAX_ATTEMPTS: '1' },
  );
  const error = await failure(backend.keys.generateDataKey('alias/credstash', {}));
  t.is(error.reason, 'unavailable');
  t.regex(
    error.message,
    /^kms:GenerateDataKey \(key alias\/credstash, KMS in eu-west-1\): cannot reach KMS/,
  );
});

test.serial('a request that exceeds CREDEXEC_AWS_TIMEOUT_MS fails as unavailable', async (t) => {
  const backend = await fixture.openBackend(
    {},
    { CREDEXEC_AWS_TIMEOUT_MS: '100', AWS_MAX_ATTEMPTS: '1' },
  );
  fixture.kms.setLatency(1_000);
  const started = Date.now();
  const error = await failure(backend.keys.generateDataKey('alias/credstash', {}));
  t.is(error.reason, 'unavailable');
  t.true(Date.now() - started < 900);
});

test.serial(
  'the kms region comes from --kms-region independently of the table region',
  async (t) => {
    const backend = await fixture.openBackend({ kmsRegion: 'us-east-2' });
    t.is(backend.keys.description, 'KMS in us-east-2');
    t.is(backend.store.description, 'table credential-store in eu-west-1');
  },
);

test('a short data key from the service is rejected and zeroed', async (t) => {
  const short = new Uint8Array([1, 2, 3]);
  const api: KmsApi = {
    generateDataKey: async () => ({ Plaintext: short, CiphertextBlob: new Uint8Array([9]) }),
    decrypt: async () => ({ Plaintext: short }),
  };
  const keys = new AwsKmsKeyService(api, 'test-region');
  const put = await failure(keys.generateDataKey('alias/credstash', {}));
  t.is(put.reason, 'invalid-request');
  t.deepEqual([...short], [0, 0, 0]);
  const get = await failure(keys.decrypt(new Uint8Array([9]), {}));
  t.is(get.reason, 'invalid-ciphertext');
});

test('failures never echo the ciphertext or the context values', async (t) => {
  const blob = Buffer.from('secret-looking-blob-bytes');
  const api: KmsApi = {
    generateDataKey: () => Promise.reject(new Error('unused')),
    decrypt: () =>
      Promise.reject(Object.assign(new Error(''), { name: 'InvalidCiphertextException' })),
  };
  const error = await failure(
    new AwsKmsKeyService(api, 'r').decrypt(blob, { token: 'context-value-42' }),
  );
  t.false(error.message.includes(blob.toString('base64')));
  t.false(error.message.includes('context-value-42'));
});

test('an answer without the data key, or not in bytes, is a malformed response', async (t) => {
  const cases: [object, string][] = [
    [{}, 'Plaintext is missing'],
    [{ Plaintext: 'AAEC' }, 'Plaintext is not binary'],
    [{ Plaintext: null }, 'Plaintext is not binary'],
  ];
  for (const [output, problem] of cases) {
    const api: KmsApi = {
      generateDataKey: () => Promise.reject(new Error('unused')),
      decrypt: () => Promise.resolve(output as never),
    };
    const error = await failure(new AwsKmsKeyService(api, 'r').decrypt(new Uint8Array([9]), {}));
    t.is(error.reason, 'malformed-response');
    t.is(error.message, `malformed response from KMS Decrypt (KMS in r): ${problem}`);
  }
});

test('a data key answer without its ciphertext is malformed, and its plaintext is zeroed', async (t) => {
  const plaintext = new Uint8Array(64);
  const cases: [() => object, string][] = [
    [() => ({ Plaintext: plaintext }), 'CiphertextBlob is missing'],
    [() => ({ Plaintext: plaintext, CiphertextBlob: 'blob' }), 'CiphertextBlob is not binary'],
    [() => ({ CiphertextBlob: new Uint8Array([1]) }), 'Plaintext is missing'],
    [() => ({ Plaintext: [1, 2], CiphertextBlob: new Uint8Array([1]) }), 'Plaintext is not binary'],
  ];
  for (const [output, problem] of cases) {
    plaintext.fill(7);
    const api: KmsApi = {
      generateDataKey: () => Promise.resolve(output() as never),
      decrypt: () => Promise.reject(new Error('unused')),
    };
    const error = await failure(new AwsKmsKeyService(api, 'r').generateDataKey('alias/x', {}));
    t.is(error.reason, 'malformed-response');
    t.is(
      error.message,
      `malformed response from KMS GenerateDataKey (key alias/x, KMS in r): ${problem}`,
    );
    if (problem.startsWith('CiphertextBlob'))
      t.true(
        plaintext.every((byte) => byte === 0),
        problem,
      );
  }
});
