import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import {
  deleteSecrets,
  getAllSecrets,
  getAllSecretsBytes,
  getSecret,
  getSecretBytes,
  IntegrityError,
  listSecrets,
  MultipleFailuresError,
  NotFoundError,
  NotTextError,
  putSecret,
  setup,
  VersionExistsError,
} from '../src/index.js';

function localOptions() {
  const dir = mkdtempSync(join(tmpdir(), 'credexec-api-'));
  return {
    options: { backend: 'local' as const, localDir: dir },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

test('the library API stores, reads, lists and deletes with the CLI’s semantics', async (t) => {
  const { options, cleanup } = localOptions();
  try {
    t.deepEqual((await setup(options)).created.length, 2);
    t.deepEqual(
      await putSecret({
        ...options,
        name: 'db',
        value: 's3cret',
        context: { env: 'prod' },
        comment: 'c',
      }),
      {
        name: 'db',
        version: '0000000000000000001',
      },
    );
    t.deepEqual(
      await putSecret({
        ...options,
        name: 'db',
        value: 'newer',
        context: { env: 'prod' },
        autoversion: true,
        digest: 'sha512',
      }),
      {
        name: 'db',
        version: '0000000000000000002',
      },
    );
    t.is(await getSecret({ ...options, name: 'db', context: { env: 'prod' } }), 'newer');
    t.is(
      await getSecret({ ...options, name: 'db', version: '1', context: { env: 'prod' } }),
      's3cret',
    );
    t.deepEqual(await getAllSecrets({ ...options, context: { env: 'prod' } }), { db: 'newer' });
    t.deepEqual(await listSecrets(options), [
      { name: 'db', version: '0000000000000000001', comment: 'c' },
      { name: 'db', version: '0000000000000000002' },
    ]);
    await t.throwsAsync(putSecret({ ...options, name: 'db', value: 'x', version: '2' }), {
      instanceOf: VersionExistsError,
    });
    t.deepEqual(await deleteSecrets({ ...options, name: 'db' }), [
      { name: 'db', version: '0000000000000000001' },
      { name: 'db', version: '0000000000000000002' },
    ]);
    await t.throwsAsync(getSecret({ ...options, name: 'db' }), {
      instanceOf: NotFoundError,
      message: /"db" not found/,
    });
  } finally {
    cleanup();
  }
});

test('error classes are exported so callers can tell failures apart', (t) => {
  const error = new IntegrityError('n', '0000000000000000001', 'bad');
  t.is(error.code, 'INTEGRITY');
  t.true(error.message.includes('integrity'));
});

const V1 = '0000000000000000001';

test('getSecret and getAllSecrets refuse a value that is not text; the Bytes variants return it exactly', async (t) => {
  const { options, cleanup } = localOptions();
  t.teardown(cleanup);
  await setup(options);
  const binary = Buffer.from([0xc3, 0x28, 0xff]);
  await putSecret({ ...options, name: 'bin', value: binary });
  await putSecret({ ...options, name: 'nul', value: Buffer.from('a\0b') });
  await putSecret({ ...options, name: 'text', value: 'plain é' });
  await t.throwsAsync(getSecret({ ...options, name: 'bin' }), {
    instanceOf: NotTextError,
    message: `credential "bin" version ${V1} is not valid UTF-8, so it cannot be returned as a string; use getSecretBytes`,
  });
  t.deepEqual(await getSecretBytes({ ...options, name: 'bin' }), binary);
  t.is(await getSecret({ ...options, name: 'text' }), 'plain é');
  await t.throwsAsync(getAllSecrets({ ...options, pattern: 'n*' }), {
    instanceOf: NotTextError,
    message: `credential "nul" version ${V1} contains a NUL byte, so it cannot be returned as a string; use getSecretBytes`,
  });
  const both = await t.throwsAsync(getAllSecrets(options), { instanceOf: MultipleFailuresError });
  t.deepEqual(both.message.split('\n'), [
    'getAllSecrets failed for 2 credential(s):',
    `  bin: credential "bin" version ${V1} is not valid UTF-8, so it cannot be returned as a string; use getSecretBytes`,
    `  nul: credential "nul" version ${V1} contains a NUL byte, so it cannot be returned as a string; use getSecretBytes`,
  ]);
  t.deepEqual(await getAllSecretsBytes(options), {
    bin: binary,
    nul: Buffer.from('a\0b'),
    text: Buffer.from('plain é'),
  });
});

test('getAllSecrets returns a credential named __proto__ as an ordinary property', async (t) => {
  const { options, cleanup } = localOptions();
  t.teardown(cleanup);
  await setup(options);
  await putSecret({ ...options, name: '__proto__', value: 'x' });
  const all = await getAllSecrets(options);
  t.deepEqual(Object.entries(all), [['__proto__', 'x']]);
  t.is(Object.getPrototypeOf(all), Object.prototype);
});
