import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import fc from 'fast-check';
import { StoreError, VersionExistsError } from '../../src/errors.js';
import { LocalFileStore } from '../../src/stores/local-file.js';
import { nearlyValidWireItems, wireAttributeMaps } from '../support/item-arbitraries.js';

const item = (version: string) => ({
  name: 'n',
  version,
  key: 'a2V5',
  contents: '',
  hmac: 'ab',
  digest: 'SHA256',
});

async function withStore(run: (store: LocalFileStore, dir: string) => Promise<void>) {
  const dir = mkdtempSync(join(tmpdir(), 'credexec-store-'));
  try {
    const store = new LocalFileStore(join(dir, 'credential-store.json'));
    await store.setup({});
    await run(store, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('writes leave no temp or lock files behind', async (t) => {
  await withStore(async (store, dir) => {
    await store.put(item('0000000000000000001'));
    await store.delete({ name: 'n', version: '0000000000000000001' });
    t.deepEqual(readdirSync(dir), ['credential-store.json']);
  });
});

test('a lock left by a dead process is broken, so writers do not hang', async (t) => {
  await withStore(async (store, dir) => {
    writeFileSync(join(dir, 'credential-store.json.lock'), '999999999');
    await store.put(item('0000000000000000001'));
    t.is((await store.getLatest('n'))?.version, '0000000000000000001');
  });
});

test('a put of an existing version is refused and the store is unchanged', async (t) => {
  await withStore(async (store) => {
    await store.put(item('0000000000000000001'));
    await t.throwsAsync(store.put({ ...item('0000000000000000001'), hmac: 'cd' }), {
      instanceOf: VersionExistsError,
    });
    t.is((await store.get({ name: 'n', version: '0000000000000000001' }))?.hmac, 'ab');
  });
});

test('latest, versions, getMany and scan agree', async (t) => {
  await withStore(async (store) => {
    for (const version of ['0000000000000000002', '0000000000000000010', '0000000000000000001'])
      await store.put(item(version));
    t.is((await store.getLatest('n'))?.version, '0000000000000000010');
    t.deepEqual(
      (await store.versions('n')).map((ref) => ref.version),
      ['0000000000000000001', '0000000000000000002', '0000000000000000010'],
    );
    t.is(
      (
        await store.getMany([
          { name: 'n', version: '0000000000000000002' },
          { name: 'n', version: '9' },
        ])
      ).length,
      1,
    );
    t.is((await store.scan()).length, 3);
    t.is(await store.getLatest('other'), undefined);
  });
});

test('writers racing to break one stale lock still never lose an item', async (t) => {
  await withStore(async (_store, dir) => {
    const path = join(dir, 'credential-store.json');
    writeFileSync(`${path}.lock`, '999999999');
    const versions = Array.from({ length: 20 }, (_, index) => String(index + 1).padStart(19, '0'));
    await Promise.all(versions.map((version) => new LocalFileStore(path).put(item(version))));
    t.deepEqual(
      (await new LocalFileStore(path).versions('n')).map((ref) => ref.version),
      versions,
    );
    t.deepEqual(readdirSync(dir), ['credential-store.json']);
  });
});

test('a store file with any items reads or is reported corrupt by a StoreError, never a TypeError', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'credexec-store-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'credential-store.json');
  const store = new LocalFileStore(path);
  const items = fc.array(fc.oneof(nearlyValidWireItems, wireAttributeMaps), { maxLength: 3 });
  await fc.assert(
    fc.asyncProperty(items, async (list) => {
      writeFileSync(
        path,
        JSON.stringify({ format: 'credexec-local-store', formatVersion: 1, items: list }),
      );
      try {
        const read = await store.scan();
        return read.every((item) => typeof item.name === 'string' && typeof item.hmac === 'string');
      } catch (error: unknown) {
        return (
          error instanceof StoreError &&
          /^store file .* is corrupt: [^\n]*; it was left untouched$/.test(error.message) &&
          (error.cause === undefined || error.cause instanceof StoreError)
        );
      }
    }),
    { seed: 33_001, numRuns: 500 },
  );
  t.pass();
});

test('a corrupt item in the store file names the item and the problem', async (t) => {
  await withStore(async (store, dir) => {
    const path = join(dir, 'credential-store.json');
    const item = { name: { S: 'db' }, version: { N: '1' }, key: { S: 'k' }, hmac: { B: 'YWI=' } };
    writeFileSync(
      path,
      JSON.stringify({ format: 'credexec-local-store', formatVersion: 1, items: [item] }),
    );
    const error = await t.throwsAsync(store.scan(), { instanceOf: StoreError });
    t.is(
      error?.message,
      `store file ${path} is corrupt: item 0 "db": attribute "version" is not a string; it was left untouched`,
    );
  });
});
