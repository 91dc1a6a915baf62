import test from 'ava';
import type { Backend } from '../../src/backends/backend.js';
import { padVersion } from '../../src/envelope/version.js';
import {
  CredentialKeyError,
  IntegrityError,
  NotFoundError,
  VersionExistsError,
} from '../../src/errors.js';
import { deleteSecrets } from '../../src/secrets/manage-secrets.js';
import { putSecret } from '../../src/secrets/put-secret.js';
import { getSecret } from '../../src/secrets/read-secrets.js';
import type { CredentialItem } from '../../src/stores/item.js';

/**
 * The behaviour every backend must share (SPEC §2–§3). `open` returns a backend over a fresh,
 * empty namespace (new directory, new table) that has not been set up yet.
 */
export function registerBackendContract(label: string, open: () => Promise<Backend>): void {
  const ready = async (): Promise<Backend> => {
    const backend = await open();
    await backend.setup({});
    return backend;
  };
  const v = (version: number) => padVersion(String(version));

  test(`${label}: a credential put with a context reads back with the same context`, async (t) => {
    const backend = await ready();
    const ref = await putSecret(backend, {
      name: 'db.password',
      value: 'hunter2 é',
      context: { app: 'web', env: 'prod' },
    });
    t.deepEqual(ref, { name: 'db.password', version: v(1) });
    const value = await getSecret(backend, {
      name: 'db.password',
      context: { env: 'prod', app: 'web' },
    });
    t.is(value.toString('utf8'), 'hunter2 é');
  });

  test(`${label}: the empty value and binary values round-trip byte for byte`, async (t) => {
    const backend = await ready();
    const bytes = Buffer.from([0, 255, 10, 13, 0x80, 0x7f]);
    await putSecret(backend, { name: 'empty', value: '' });
    await putSecret(backend, { name: 'binary', value: bytes });
    t.is((await getSecret(backend, { name: 'empty' })).length, 0);
    t.deepEqual(await getSecret(backend, { name: 'binary' }), bytes);
  });

  test(`${label}: reading with a wrong or missing context fails with an invalid-ciphertext key-service error`, async (t) => {
    const backend = await ready();
    await putSecret(backend, { name: 'ctx', value: 'v', context: { app: 'web' } });
    for (const context of [{ app: 'api' }, {}, { app: 'web', extra: 'x' }]) {
      const error = await t.throwsAsync(getSecret(backend, { name: 'ctx', context }), {
        instanceOf: CredentialKeyError,
      });
      t.is(error?.code, 'KEY_SERVICE');
      t.is(error?.reason, 'invalid-ciphertext');
      t.is(error?.credential, 'ctx');
      t.is(error?.version, v(1));
    }
  });

  test(`${label}: an existing version is never overwritten`, async (t) => {
    const backend = await ready();
    await putSecret(backend, { name: 'fixed', value: 'first', version: '3' });
    const error = await t.throwsAsync(
      putSecret(backend, { name: 'fixed', value: 'second', version: '0003' }),
      { instanceOf: VersionExistsError },
    );
    t.is(error?.code, 'VERSION_EXISTS');
    t.is(error?.version, v(3));
    const item = await backend.store.get({ name: 'fixed', version: v(3) });
    t.truthy(item);
    await t.throwsAsync(backend.store.put(item!), { instanceOf: VersionExistsError });
    t.is((await getSecret(backend, { name: 'fixed', version: '3' })).toString(), 'first');
  });

  test(`${label}: latest is the highest padded version, not the last written`, async (t) => {
    const backend = await ready();
    for (const version of ['2', '10', '9']) {
      await putSecret(backend, { name: 'multi', value: `value-${version}`, version });
    }
    t.is((await backend.store.getLatest('multi'))?.version, v(10));
    t.is((await getSecret(backend, { name: 'multi' })).toString(), 'value-10');
    t.is((await getSecret(backend, { name: 'multi', version: '9' })).toString(), 'value-9');
    t.is(await backend.store.getLatest('absent'), undefined);
  });

  test(`${label}: latestVersions gives each name's highest version, follows puts and deletes, and undefined for a name without any`, async (t) => {
    const backend = await ready();
    for (const version of ['2', '10', '9']) {
      await putSecret(backend, { name: 'multi', value: `value-${version}`, version });
    }
    await putSecret(backend, { name: 'single', value: 'x' });
    const read = () => backend.store.latestVersions(['multi', 'single', 'absent', 'multi']);
    t.deepEqual(
      await read(),
      new Map([
        ['multi', v(10)],
        ['single', v(1)],
        ['absent', undefined],
      ]),
    );
    await putSecret(backend, { name: 'absent', value: 'now', version: '3' });
    await deleteSecrets(backend, { name: 'multi', version: '10' });
    t.deepEqual(
      await read(),
      new Map([
        ['multi', v(9)],
        ['single', v(1)],
        ['absent', v(3)],
      ]),
    );
    await deleteSecrets(backend, { name: 'single' });
    t.is((await read()).get('single'), undefined);
    t.deepEqual(await backend.store.latestVersions([]), new Map());
  });

  test(`${label}: a stored item reads back with exactly the attributes written`, async (t) => {
    const backend = await ready();
    await putSecret(backend, {
      name: 'attrs',
      value: 'x',
      digest: 'SHA',
      comment: 'rotated by ops',
    });
    const item = await backend.store.get({ name: 'attrs', version: v(1) });
    t.is(item?.digest, 'SHA');
    t.is(item?.comment, 'rotated by ops');
    t.regex(item?.hmac ?? '', /^[0-9a-f]{40}$/);
    t.is((await getSecret(backend, { name: 'attrs' })).toString(), 'x');
    t.deepEqual(await backend.store.scan(), [item]);
    t.deepEqual(await backend.store.getMany([{ name: 'attrs', version: v(1) }]), [item]);
  });

  test(`${label}: getMany returns the existing versions and skips missing ones`, async (t) => {
    const backend = await ready();
    await putSecret(backend, { name: 'a', value: '1' });
    await putSecret(backend, { name: 'a', value: '2', version: '2' });
    await putSecret(backend, { name: 'b', value: '3' });
    const items = await backend.store.getMany([
      { name: 'a', version: v(2) },
      { name: 'missing', version: v(1) },
      { name: 'b', version: v(1) },
      { name: 'a', version: v(7) },
    ]);
    t.deepEqual(items.map(({ name, version }) => `${name}@${version}`).sort(), [
      `a@${v(2)}`,
      `b@${v(1)}`,
    ]);
    t.deepEqual(await backend.store.getMany([]), []);
  });

  test(`${label}: versions lists every version of one name in ascending order`, async (t) => {
    const backend = await ready();
    for (const version of ['11', '2', '1']) {
      await putSecret(backend, { name: 'ver', value: version, version });
    }
    await putSecret(backend, { name: 'ver2', value: 'other' });
    t.deepEqual(await backend.store.versions('ver'), [
      { name: 'ver', version: v(1) },
      { name: 'ver', version: v(2) },
      { name: 'ver', version: v(11) },
    ]);
    t.deepEqual(await backend.store.versions('nothing'), []);
  });

  test(`${label}: scan returns every item of every name`, async (t) => {
    const backend = await ready();
    t.deepEqual(await backend.store.scan(), []);
    for (let index = 0; index < 12; index++) {
      await putSecret(backend, { name: `scan.${index % 4}`, value: `${index}`, autoversion: true });
    }
    const listed = (await backend.store.scan()).map(({ name, version }) => `${name}@${version}`);
    const expected = [0, 1, 2, 3].flatMap((n) => [1, 2, 3].map((k) => `scan.${n}@${v(k)}`));
    t.deepEqual(listed.sort(), expected.sort());
  });

  test(`${label}: delete removes exactly one version and reports whether it existed`, async (t) => {
    const backend = await ready();
    await putSecret(backend, { name: 'gone', value: '1' });
    await putSecret(backend, { name: 'gone', value: '2', version: '2' });
    t.true(await backend.store.delete({ name: 'gone', version: v(1) }));
    t.false(await backend.store.delete({ name: 'gone', version: v(1) }));
    t.is(await backend.store.get({ name: 'gone', version: v(1) }), undefined);
    t.deepEqual(await backend.store.versions('gone'), [{ name: 'gone', version: v(2) }]);
    t.deepEqual(await deleteSecrets(backend, { name: 'gone' }), [{ name: 'gone', version: v(2) }]);
    await t.throwsAsync(deleteSecrets(backend, { name: 'gone' }), { instanceOf: NotFoundError });
    await t.throwsAsync(getSecret(backend, { name: 'gone' }), { instanceOf: NotFoundError });
  });

  test(`${label}: autoversion writes the highest numeric version plus one`, async (t) => {
    const backend = await ready();
    const first = await putSecret(backend, { name: 'auto', value: 'a', autoversion: true });
    await putSecret(backend, { name: 'auto', value: 'b', version: '7' });
    const next = await putSecret(backend, { name: 'auto', value: 'c', autoversion: true });
    t.is(first.version, v(1));
    t.is(next.version, v(8));
    t.is((await getSecret(backend, { name: 'auto' })).toString(), 'c');
  });

  test(`${label}: twenty concurrent autoversion puts leave exactly versions 1 to 20`, async (t) => {
    const backend = await ready();
    const values = Array.from({ length: 20 }, (_, index) => `value-${index}`);
    const refs = await Promise.all(
      values.map((value) => putSecret(backend, { name: 'race', value, autoversion: true })),
    );
    const expected = Array.from({ length: 20 }, (_, index) => v(index + 1));
    t.deepEqual(refs.map(({ version }) => version).sort(), expected);
    t.deepEqual(
      (await backend.store.versions('race')).map(({ version }) => version),
      expected,
    );
    const read = await Promise.all(
      refs.map(async ({ version }) =>
        (await getSecret(backend, { name: 'race', version })).toString(),
      ),
    );
    t.deepEqual(read.sort(), [...values].sort());
  });

  test(`${label}: a tampered item fails the integrity check naming credential and version`, async (t) => {
    const backend = await ready();
    await putSecret(backend, { name: 'tamper', value: 'original value' });
    const item = (await backend.store.get({ name: 'tamper', version: v(1) }))!;
    const contents = Buffer.from(item.contents, 'base64');
    contents[0] = contents[0]! ^ 0x01;
    const forged: CredentialItem = {
      ...item,
      version: v(2),
      contents: contents.toString('base64'),
    };
    await backend.store.put(forged);
    const error = await t.throwsAsync(getSecret(backend, { name: 'tamper' }), {
      instanceOf: IntegrityError,
    });
    t.is(error?.code, 'INTEGRITY');
    t.is(error?.credential, 'tamper');
    t.is(error?.version, v(2));
    t.regex(error?.message ?? '', /integrity/);
    t.false((error?.message ?? '').includes('original value'));
    const wrongMac: CredentialItem = { ...item, version: v(3), hmac: '0'.repeat(64) };
    await backend.store.put(wrongMac);
    await t.throwsAsync(getSecret(backend, { name: 'tamper', version: '3' }), {
      instanceOf: IntegrityError,
    });
  });

  test(`${label}: setup is idempotent and keeps existing credentials`, async (t) => {
    const backend = await ready();
    await putSecret(backend, { name: 'kept', value: 'still here' });
    const again = await backend.setup({ tags: { team: 'ops' } });
    t.deepEqual(again.created, []);
    t.is((await getSecret(backend, { name: 'kept' })).toString(), 'still here');
  });

  test(`${label}: a missing credential is undefined in the store and NotFoundError when read`, async (t) => {
    const backend = await ready();
    t.is(await backend.store.get({ name: 'nope', version: v(1) }), undefined);
    const error = await t.throwsAsync(getSecret(backend, { name: 'nope', version: '4' }), {
      instanceOf: NotFoundError,
    });
    t.is(error?.credential, 'nope');
    t.is(error?.version, v(4));
  });
}
