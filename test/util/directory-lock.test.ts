import {
  linkSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import fc from 'fast-check';
import { acquireLock } from '../../src/util/directory-lock.js';
import { listenOwnerSocket } from '../../src/util/owner-socket.js';
import { sleep } from '../../src/util/system.js';

function tempDir(t: { teardown: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'credexec-lock-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('a held lock excludes the next taker until it is released, and release leaves nothing', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'store.lock');
  const first = await acquireLock(path, { timeoutMs: 1_000 });
  t.truthy(first);
  t.true(await first!.stillHeld());
  t.is(await acquireLock(path, { timeoutMs: 200 }), undefined);
  // The failed taker cleaned up after itself.
  t.deepEqual(readdirSync(dir), ['store.lock']);
  const second = acquireLock(path, { timeoutMs: 5_000 });
  await sleep(50);
  await first!.release();
  t.false(await first!.stillHeld());
  const held = await second;
  t.truthy(held);
  await held!.release();
  t.deepEqual(readdirSync(dir), []);
});

test('a holder knows when its lock was deleted by hand', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'store.lock');
  const held = await acquireLock(path, { timeoutMs: 1_000 });
  t.true(await held!.stillHeld());
  rmSync(path, { recursive: true });
  t.false(await held!.stillHeld());
  await held!.release();
  t.deepEqual(readdirSync(dir), []);
});

test('a lock whose socket nobody listens on is broken at once', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'store.lock');
  mkdirSync(path);
  // A dead holder: its socket file stays, nobody listens (as after SIGKILL).
  const owner = await listenOwnerSocket(join(dir, 'bound'));
  linkSync(join(dir, 'bound'), join(path, '0123456789abcdef'));
  owner.close();
  const held = await acquireLock(path, { timeoutMs: 200 });
  t.truthy(held);
  await held!.release();
  t.deepEqual(readdirSync(dir), []);
});

test('an empty lock directory is a free lock', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'store.lock');
  mkdirSync(path);
  const held = await acquireLock(path, { timeoutMs: 200 });
  t.truthy(held);
  await held!.release();
  t.deepEqual(readdirSync(dir), []);
});

test('a lock file of another kind is waited on while young and removed once older than the grace', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'store.lock');
  writeFileSync(path, '');
  t.is(await acquireLock(path, { timeoutMs: 200, legacyGraceMs: 60_000 }), undefined);
  const held = await acquireLock(path, { timeoutMs: 2_000, legacyGraceMs: 300 });
  t.truthy(held);
  await held!.release();
  t.deepEqual(readdirSync(dir), []);
});

test('locks work where the socket path is longer than a unix socket address', async (t) => {
  const dir = join(tempDir(t), 'x'.repeat(70), 'y'.repeat(40));
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'credential-store.json.lock');
  const held = await acquireLock(path, { timeoutMs: 1_000 });
  t.truthy(held);
  t.is(readdirSync(path).length, 1);
  t.is(await acquireLock(path, { timeoutMs: 200 }), undefined);
  await held!.release();
  t.deepEqual(readdirSync(dir), []);
});

test('the holder sweeps half-made locks of dead takers and keeps those of live ones', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'store.lock');
  const held = await acquireLock(path, { timeoutMs: 1_000 });
  const waiting = acquireLock(path, { timeoutMs: 10_000 });
  await sleep(100);
  const dead = join(dir, '.store.lock.1111111111111111');
  const empty = join(dir, '.store.lock.2222222222222222');
  mkdirSync(dead);
  mkdirSync(empty);
  const owner = await listenOwnerSocket(join(dir, 'bound'));
  linkSync(join(dir, 'bound'), join(dead, '1111111111111111'));
  owner.close();
  writeFileSync(join(dir, 'orphan.tmp'), '');
  writeFileSync(join(dir, 'keep.txt'), '');
  await held!.sweep((name) => name.endsWith('.tmp'));
  const left = readdirSync(dir).sort();
  t.is(left.length, 3, left.join(' '));
  t.true(left.includes('keep.txt'));
  t.true(left.includes('store.lock'));
  t.true(
    left.some((name) => /^\.store\.lock\.[0-9a-f]{16}$/.test(name)),
    'the live taker',
  );
  await held!.release();
  const next = await waiting;
  t.truthy(next);
  await next!.release();
  unlinkSync(join(dir, 'keep.txt'));
  t.deepEqual(readdirSync(dir), []);
});

test('however takers interleave, at most one holds the lock at a time', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'store.lock');
  let holders = 0;
  let most = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(fc.nat(5), { minLength: 2, maxLength: 8 }), async (holds) => {
      await Promise.all(
        holds.map(async (ms) => {
          const held = await acquireLock(path, { timeoutMs: 10_000 });
          if (held === undefined) throw new Error('timed out');
          most = Math.max(most, ++holders);
          await sleep(ms);
          holders--;
          await held.release();
        }),
      );
    }),
    { seed: 20_261_130, numRuns: 25 },
  );
  t.is(most, 1);
  t.deepEqual(readdirSync(dir), []);
});
