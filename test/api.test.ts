import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import {
  deleteSecrets,
  getAllSecrets,
  getSecret,
  IntegrityError,
  listSecrets,
  NotFoundError,
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
