import {
  chmodSync,
  chownSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { KeyServiceError, SetupRequiredError } from '../../src/errors.js';
import { createMasterKey, LOCAL_KEY_ID, LocalKeyring } from '../../src/keys/local-keyring.js';

async function withKeys(run: (dir: string) => Promise<void>) {
  const dir = mkdtempSync(join(tmpdir(), 'credexec-keys-'));
  try {
    await run(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a generated data key is 64 bytes and unwraps under the same context only', async (t) => {
  await withKeys(async (dir) => {
    t.true(await createMasterKey(join(dir, 'master.key')));
    t.is(statSync(join(dir, 'master.key')).mode & 0o777, 0o600);
    const keys = new LocalKeyring(join(dir, 'master.key'));
    const { plaintext, ciphertextBlob } = await keys.generateDataKey(LOCAL_KEY_ID, {
      env: 'prod',
      app: 'web',
    });
    t.is(plaintext.length, 64);
    t.deepEqual(
      Buffer.from(await keys.decrypt(ciphertextBlob, { app: 'web', env: 'prod' })),
      Buffer.from(plaintext),
    );
    const wrong = await t.throwsAsync(keys.decrypt(ciphertextBlob, { env: 'dev', app: 'web' }), {
      instanceOf: KeyServiceError,
    });
    t.is(wrong.reason, 'invalid-ciphertext');
    await t.throwsAsync(keys.decrypt(ciphertextBlob, {}), { instanceOf: KeyServiceError });
  });
});

test('a data key wrapped by another master key is named as such', async (t) => {
  await withKeys(async (dir) => {
    await createMasterKey(join(dir, 'a.key'));
    await createMasterKey(join(dir, 'b.key'));
    const { ciphertextBlob } = await new LocalKeyring(join(dir, 'a.key')).generateDataKey(
      LOCAL_KEY_ID,
      {},
    );
    await t.throwsAsync(new LocalKeyring(join(dir, 'b.key')).decrypt(ciphertextBlob, {}), {
      message: /different master key/,
    });
    await t.throwsAsync(new LocalKeyring(join(dir, 'b.key')).decrypt(Buffer.from('garbage'), {}), {
      message: /not made by a credexec local master key/,
    });
  });
});

test('createMasterKey never replaces an existing key', async (t) => {
  await withKeys(async (dir) => {
    t.true(await createMasterKey(join(dir, 'master.key')));
    t.false(await createMasterKey(join(dir, 'master.key')));
  });
});

test('a missing master key asks for setup; another key id is refused', async (t) => {
  await withKeys(async (dir) => {
    const keys = new LocalKeyring(join(dir, 'master.key'));
    await t.throwsAsync(keys.generateDataKey(LOCAL_KEY_ID, {}), {
      instanceOf: SetupRequiredError,
      message: /credexec setup/,
    });
    await createMasterKey(join(dir, 'master.key'));
    const error = await t.throwsAsync(keys.generateDataKey('alias/other', {}), {
      instanceOf: KeyServiceError,
    });
    t.is(error.reason, 'key-not-found');
  });
});

test('a master key open to group or others, or of the wrong length, is refused and named', async (t) => {
  await withKeys(async (dir) => {
    const path = join(dir, 'master.key');
    await createMasterKey(path);
    const { ciphertextBlob } = await new LocalKeyring(path).generateDataKey(LOCAL_KEY_ID, {});
    chmodSync(path, 0o640);
    const open = await t.throwsAsync(new LocalKeyring(path).decrypt(ciphertextBlob, {}), {
      instanceOf: KeyServiceError,
    });
    t.is(open.reason, 'access-denied');
    t.is(
      open.message,
      `master key ${path} is accessible to group or others (mode 0640); refusing to use it — run \`chmod 600 ${path}\``,
    );
    chmodSync(path, 0o600);
    writeFileSync(path, Buffer.alloc(31));
    const short = await t.throwsAsync(new LocalKeyring(path).decrypt(ciphertextBlob, {}), {
      instanceOf: KeyServiceError,
    });
    t.is(short.reason, 'unavailable');
    t.is(short.message, `master key ${path} is corrupt: expected 32 bytes, found 31`);
  });
});

test('a master key owned by another user is refused, naming the fix; a root-owned one is used', async (t) => {
  await withKeys(async (dir) => {
    const path = join(dir, 'master.key');
    await createMasterKey(path);
    chownSync(path, 65534, 65534);
    const foreign = await t.throwsAsync(new LocalKeyring(path).generateDataKey(LOCAL_KEY_ID, {}), {
      instanceOf: KeyServiceError,
    });
    t.is(foreign.reason, 'access-denied');
    t.is(
      foreign.message,
      `master key ${path} is owned by uid 65534, not by you (uid 0); refusing to use it — run \`chown 0 ${path}\` if you trust it`,
    );
    chownSync(path, 0, 0);
    await t.notThrowsAsync(new LocalKeyring(path).generateDataKey(LOCAL_KEY_ID, {}));
  });
});

test('a master key in a directory that group or others can write to is refused, naming the fix', async (t) => {
  await withKeys(async (dir) => {
    const path = join(dir, 'master.key');
    await createMasterKey(path);
    chmodSync(dir, 0o777);
    const open = await t.throwsAsync(new LocalKeyring(path).generateDataKey(LOCAL_KEY_ID, {}), {
      instanceOf: KeyServiceError,
    });
    t.is(open.reason, 'access-denied');
    t.is(
      open.message,
      `local directory ${dir} is writable by group or others (mode 0777); refusing to use it — run \`chmod go-w ${dir}\``,
    );
    chmodSync(dir, 0o700);
    chownSync(dir, 65534, 65534);
    await t.throwsAsync(new LocalKeyring(path).generateDataKey(LOCAL_KEY_ID, {}), {
      instanceOf: KeyServiceError,
      message: `local directory ${dir} is owned by uid 65534, not by you (uid 0); refusing to use it — run \`chown 0 ${dir}\` if you trust it`,
    });
  });
});

/** Records every 32-byte buffer zeroed with fill(0) while it still held `key`. */
function watchZeroing(key: Buffer): { zeroed: Buffer[]; stop: () => void } {
  const zeroed: Buffer[] = [];
  const original = Buffer.prototype.fill;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- fill has many overloads
  Buffer.prototype.fill = function (this: Buffer, ...args: any[]) {
    if (args[0] === 0 && this.length === key.length && this.equals(key)) zeroed.push(this);
    return original.apply(this, args as Parameters<typeof original>);
  };
  return { zeroed, stop: () => (Buffer.prototype.fill = original) };
}

// Serial: these two patch Buffer.prototype.fill, which concurrent tests would tangle.
test.serial('close() zeroes the cached master key, and a later use reads it again', async (t) => {
  await withKeys(async (dir) => {
    const path = join(dir, 'master.key');
    await createMasterKey(path);
    const key = readFileSync(path);
    const keys = new LocalKeyring(path);
    const watch = watchZeroing(key);
    t.teardown(watch.stop);
    const { ciphertextBlob } = await keys.generateDataKey(LOCAL_KEY_ID, {});
    t.deepEqual(watch.zeroed, []);
    keys.close();
    await new Promise((resolve) => setImmediate(resolve));
    watch.stop();
    t.is(watch.zeroed.length, 1);
    t.true(watch.zeroed[0]!.equals(Buffer.alloc(32)));
    // The next use reads the file again: a different key there is noticed.
    await createMasterKey(join(dir, 'other.key'));
    writeFileSync(path, readFileSync(join(dir, 'other.key')));
    await t.throwsAsync(keys.decrypt(ciphertextBlob, {}), { message: /different master key/ });
  });
});

test.serial(
  'close() while the key is still being read zeroes it once the callers that were waiting used it',
  async (t) => {
    await withKeys(async (dir) => {
      const path = join(dir, 'master.key');
      await createMasterKey(path);
      const key = readFileSync(path);
      const keys = new LocalKeyring(path);
      const watch = watchZeroing(key);
      t.teardown(watch.stop);
      const pending = keys.generateDataKey(LOCAL_KEY_ID, { app: 'web' });
      keys.close();
      const { plaintext, ciphertextBlob } = await pending;
      await new Promise((resolve) => setImmediate(resolve));
      watch.stop();
      t.is(watch.zeroed.length, 1);
      t.deepEqual(
        Buffer.from(await keys.decrypt(ciphertextBlob, { app: 'web' })),
        Buffer.from(plaintext),
      );
    });
  },
);
