import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import fc from 'fast-check';
import { StoreError, VersionExistsError } from '../../src/errors.js';
import { LocalFileStore } from '../../src/stores/local-file.js';
import { PrivateDirectory } from '../../src/util/private-files.js';
import { nearlyValidWireItems, wireAttributeMaps } from '../support/item-arbitraries.js';
import { killAndWait, startLockHolder } from '../support/lock-holder.js';

const item = (version: string) => ({
  name: 'n',
  version,
  key: 'a2V5',
  contents: '',
  hmac: 'ab',
  digest: 'SHA256',
});

const V1 = '0000000000000000001';
const STORE = 'credential-store.json';
async function withStore(run: (store: LocalFileStore, dir: string) => Promise<void>) {
  const dir = mkdtempSync(join(tmpdir(), 'credexec-store-'));
  try {
    const store = new LocalFileStore(join(dir, STORE));
    await store.setup({});
    await run(store, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Backdate a file, as a leftover of an old crash would be. */
function makeOld(path: string): void {
  const anHourAgo = Date.now() / 1000 - 3600;
  utimesSync(path, anHourAgo, anHourAgo);
}

test('writes leave no temp or lock files behind', async (t) => {
  await withStore(async (store, dir) => {
    await store.put(item(V1));
    await store.delete({ name: 'n', version: V1 });
    t.deepEqual(readdirSync(dir), [STORE]);
  });
});

// Lock files of an older credexec (a pid in a regular file), or what a writer killed or out of
// space left of one, never wedge the writers after it once they are old.
for (const [what, contents] of [
  ['an old pid lock left by a dead process', '999999999'],
  ['an empty lock file (a writer killed or out of space before it wrote its pid)', ''],
  ['a garbled lock file', '\u0000\u0000garbage 12 x'],
] as const) {
  test(`${what} is broken, so writers do not hang`, async (t) => {
    await withStore(async (store, dir) => {
      writeFileSync(join(dir, `${STORE}.lock`), contents);
      makeOld(join(dir, `${STORE}.lock`));
      await store.put(item(V1));
      t.is((await store.getLatest('n'))?.version, V1);
      t.deepEqual(readdirSync(dir), [STORE]);
    });
  });
}

test('a fresh lock file that is not a lock socket is waited on for a few seconds, then broken', async (t) => {
  await withStore(async (store, dir) => {
    writeFileSync(join(dir, `${STORE}.lock`), 'garbage');
    const started = Date.now();
    await store.put(item(V1));
    const waited = Date.now() - started;
    t.true(waited >= 4_000, `waited ${waited} ms`);
    t.true(waited < 14_000, `waited ${waited} ms`);
    t.deepEqual(readdirSync(dir), [STORE]);
  });
});

test('a lock whose holder was SIGKILLed is broken at once', async (t) => {
  await withStore(async (store, dir) => {
    const holder = await startLockHolder(join(dir, STORE));
    await killAndWait(holder);
    const started = Date.now();
    await store.put(item(V1));
    t.true(Date.now() - started < 5_000, `took ${Date.now() - started} ms`);
    t.is(await store.getLatest('held'), undefined);
    t.is((await store.getLatest('n'))?.version, V1);
    t.deepEqual(readdirSync(dir), [STORE]);
  });
});

test('a lock held by a live but stopped process is never broken: the writer times out', async (t) => {
  await withStore(async (_store, dir) => {
    const path = join(dir, STORE);
    const holder = await startLockHolder(path);
    t.teardown(() => killAndWait(holder));
    holder.kill('SIGSTOP');
    const store = new LocalFileStore(path, { lockTimeoutMs: 2_000 });
    await t.throwsAsync(store.put(item(V1)), {
      instanceOf: StoreError,
      message: `timed out waiting for the lock ${path}.lock; if no credexec is running, delete it`,
    });
    t.is(await store.getLatest('n'), undefined);
    await killAndWait(holder);
    await store.put(item(V1));
    t.deepEqual(readdirSync(dir), [STORE]);
  });
});

test('a put of an existing version is refused and the store is unchanged', async (t) => {
  await withStore(async (store) => {
    await store.put(item(V1));
    await t.throwsAsync(store.put({ ...item(V1), hmac: 'cd' }), {
      instanceOf: VersionExistsError,
    });
    t.is((await store.get({ name: 'n', version: V1 }))?.hmac, 'ab');
  });
});

test('latest, versions, getMany and scan agree', async (t) => {
  await withStore(async (store) => {
    for (const version of ['0000000000000000002', '0000000000000000010', V1])
      await store.put(item(version));
    t.is((await store.getLatest('n'))?.version, '0000000000000000010');
    t.deepEqual(
      (await store.versions('n')).map((ref) => ref.version),
      [V1, '0000000000000000002', '0000000000000000010'],
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
    const path = join(dir, STORE);
    writeFileSync(`${path}.lock`, '999999999');
    makeOld(`${path}.lock`);
    const versions = Array.from({ length: 20 }, (_, index) => String(index + 1).padStart(19, '0'));
    await Promise.all(versions.map((version) => new LocalFileStore(path).put(item(version))));
    t.deepEqual(
      (await new LocalFileStore(path).versions('n')).map((ref) => ref.version),
      versions,
    );
    t.deepEqual(readdirSync(dir), [STORE]);
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

test('writers racing to break the lock of a SIGKILLed holder never lose an item', async (t) => {
  await withStore(async (_store, dir) => {
    const path = join(dir, STORE);
    await killAndWait(await startLockHolder(path));
    const versions = Array.from({ length: 20 }, (_, index) => String(index + 1).padStart(19, '0'));
    await Promise.all(versions.map((version) => new LocalFileStore(path).put(item(version))));
    t.deepEqual(
      (await new LocalFileStore(path).versions('n')).map((ref) => ref.version),
      versions,
    );
    t.deepEqual(readdirSync(dir), [STORE]);
  });
});

test('temp files of writers that were killed are removed by the next writer, and only those', async (t) => {
  await withStore(async (store, dir) => {
    const orphans = [`.${STORE}.12345.0123abcd.tmp`, `.${STORE}.999999999.ffffffff.tmp`];
    const kept = [`.${STORE}.notes.tmp`, `.other.json.12345.0123abcd.tmp`, `${STORE}.bak`];
    for (const name of [...orphans, ...kept]) writeFileSync(join(dir, name), '{"partial');
    await store.put(item(V1));
    t.deepEqual(readdirSync(dir).sort(), [...kept, STORE].sort());
    t.is((await store.getLatest('n'))?.version, V1);
  });
});

test('a store file owned by another user is refused, naming the fix', async (t) => {
  await withStore(async (store, dir) => {
    const path = join(dir, STORE);
    chownSync(path, 65534, 65534);
    await t.throwsAsync(store.getLatest('n'), {
      instanceOf: StoreError,
      message: `store file ${path} is owned by uid 65534, not by you (uid 0); refusing to use it — run \`chown 0 ${path}\` if you trust it`,
    });
    await t.throwsAsync(store.put(item(V1)), { instanceOf: StoreError, message: /uid 65534/ });
  });
});

test('a store file that group or others can write is refused, naming the fix', async (t) => {
  await withStore(async (store, dir) => {
    const path = join(dir, STORE);
    chmodSync(path, 0o662);
    await t.throwsAsync(store.scan(), {
      instanceOf: StoreError,
      message: `store file ${path} is writable by group or others (mode 0662); refusing to use it — run \`chmod go-w ${path}\``,
    });
  });
});

test('a store in a directory that group or others can write to is refused, naming the fix', async (t) => {
  await withStore(async (store, dir) => {
    chmodSync(dir, 0o777);
    await t.throwsAsync(store.getLatest('n'), {
      instanceOf: StoreError,
      message: `local directory ${dir} is writable by group or others (mode 0777); refusing to use it — run \`chmod go-w ${dir}\``,
    });
    await t.throwsAsync(store.put(item(V1)), { instanceOf: StoreError, message: /chmod go-w/ });
    chmodSync(dir, 0o755);
    await store.put(item(V1));
  });
});

test('root-owned store files are accepted, as OpenSSH does', async (t) => {
  await withStore(async (store, dir) => {
    chownSync(join(dir, STORE), 0, 0);
    await store.put(item(V1));
    t.is((await store.getLatest('n'))?.version, V1);
  });
});

// A tiny tmpfs makes ENOSPC real. Mounting needs root (CAP_SYS_ADMIN); without it these are skipped.
function mountTinyTmpfs(options: string): { dir: string; unmount: () => void } | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'credexec-tinyfs-'));
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir]);
  if (mounted.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
  return {
    dir,
    unmount: () => {
      spawnSync('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const probe = mountTinyTmpfs('size=64k');
probe?.unmount();
const withTmpfs = probe === undefined ? test.skip : test;

/** Fill the file system with one file until it is out of space; returns the filler's path. */
function fillUp(dir: string): string {
  const filler = join(dir, 'filler');
  const fd = openSync(filler, 'w');
  try {
    for (;;) writeSync(fd, Buffer.alloc(4096));
  } catch {
    // ENOSPC: full.
  } finally {
    closeSync(fd);
  }
  return filler;
}

withTmpfs(
  'a put that runs out of space fails, and the next put after space is freed succeeds at once',
  async (t) => {
    const fs = mountTinyTmpfs('size=256k,mode=0700')!;
    t.teardown(fs.unmount);
    const dir = join(fs.dir, 'store');
    mkdirSync(dir, { mode: 0o700 });
    const path = join(dir, STORE);
    const store = new LocalFileStore(path);
    await store.setup({});
    const filler = fillUp(fs.dir);
    await t.throwsAsync(store.put(item(V1)), { instanceOf: StoreError, message: /: ENOSPC/ });
    unlinkSync(filler);
    const started = Date.now();
    await store.put(item(V1));
    t.true(Date.now() - started < 5_000, `took ${Date.now() - started} ms`);
    t.deepEqual(readdirSync(dir), [STORE]);
  },
);

withTmpfs(
  'a put that runs out of space writing the store says so and leaves nothing behind',
  async (t) => {
    const fs = mountTinyTmpfs('size=256k,mode=0700')!;
    t.teardown(fs.unmount);
    const dir = join(fs.dir, 'store');
    mkdirSync(dir, { mode: 0o700 });
    const path = join(dir, STORE);
    const store = new LocalFileStore(path);
    await store.setup({});
    fillUp(fs.dir);
    await t.throwsAsync(store.put(item(V1)), {
      instanceOf: StoreError,
      message: `cannot write store file ${path}: ENOSPC; it was left untouched`,
    });
    t.deepEqual(readdirSync(dir), [STORE]);
  },
);

withTmpfs(
  'running out of inodes half-way through taking the lock leaves nothing behind',
  async (t) => {
    const fs = mountTinyTmpfs('size=1m,nr_inodes=40,mode=0700')!;
    t.teardown(fs.unmount);
    const dir = join(fs.dir, 'store');
    mkdirSync(dir, { mode: 0o700 });
    const path = join(dir, STORE);
    const store = new LocalFileStore(path);
    await store.setup({});
    const fillers: string[] = [];
    try {
      for (let index = 0; ; index++) {
        const filler = join(fs.dir, `f${index}`);
        writeFileSync(filler, '');
        fillers.push(filler);
      }
    } catch {
      // ENOSPC: no inode left.
    }
    for (const free of [0, 1]) {
      // With one inode free, taking the lock gets half-way (a directory) before ENOSPC.
      if (free === 1) unlinkSync(fillers.pop()!);
      await t.throwsAsync(store.put(item(V1)), {
        instanceOf: StoreError,
        message: `cannot lock store file ${path}: ENOSPC`,
      });
      t.deepEqual(readdirSync(dir), [STORE]);
    }
    for (const filler of fillers.splice(0, 10)) unlinkSync(filler);
    await store.put(item(V1));
    t.deepEqual(readdirSync(dir), [STORE]);
  },
);

test('latestVersions reads the store file again only when it changed', async (t) => {
  await withStore(async (_, dir) => {
    // Every read of the store file checks its directory first: the check counts the reads.
    class CountingDirectory extends PrivateDirectory {
      reads = 0;
      override problem() {
        this.reads++;
        return super.problem();
      }
    }
    const directory = new CountingDirectory(dir);
    const store = new LocalFileStore(join(dir, STORE), { directory });
    await store.put(item(V1));
    const before = directory.reads;
    const m = new Map([
      ['n', V1],
      ['m', undefined],
    ]);
    t.deepEqual(await store.latestVersions(['n', 'm']), m);
    t.is(directory.reads, before + 1);
    t.deepEqual(await store.latestVersions(['n', 'm']), m);
    t.deepEqual(await store.latestVersions(['n']), new Map([['n', V1]]));
    t.is(directory.reads, before + 1, 'unchanged: not read again');
    await store.put(item('0000000000000000002'));
    const afterPut = directory.reads;
    t.deepEqual(await store.latestVersions(['n']), new Map([['n', '0000000000000000002']]));
    t.is(directory.reads, afterPut + 1);
    await store.delete({ name: 'n', version: '0000000000000000002' });
    t.deepEqual(await store.latestVersions(['n']), new Map([['n', V1]]));
    // A change made by another process, in place, shows too (size, times).
    const text = readFileSync(join(dir, STORE), 'utf8');
    writeFileSync(join(dir, STORE), text.replace(V1, '0000000000000000007'));
    t.deepEqual(await store.latestVersions(['n']), new Map([['n', '0000000000000000007']]));
  });
});
