import test from 'ava';
import { EMPTY_CONTEXT, type EncryptionContext } from '../../src/envelope/context.js';
import { padVersion } from '../../src/envelope/version.js';
import { messageOf, NotFoundError } from '../../src/errors.js';
import type { ManifestEntry } from '../../src/manifest/manifest-entry.js';
import {
  DEFAULT_CONCURRENCY,
  DEFAULT_LOOKUP_CONCURRENCY,
  resolveEntries,
  type Resolution,
} from '../../src/resolve/resolve-entries.js';
import { FakeBackend } from './fake-backend.js';

function entry(
  variable: string,
  credential: string,
  extra: { version?: string; optional?: boolean; context?: EncryptionContext } = {},
): ManifestEntry {
  return {
    variable,
    credential,
    version: extra.version === undefined ? undefined : padVersion(extra.version),
    optional: extra.optional ?? false,
    file: false,
    context: extra.context ?? EMPTY_CONTEXT,
    source: { file: 'test.env', line: 1 },
  };
}

function summary(resolution: Resolution): [string, string, string] {
  if (resolution.status === 'resolved') {
    return [resolution.entry.variable, resolution.version, resolution.value.toString()];
  }
  if (resolution.status === 'absent') return [resolution.entry.variable, 'absent', ''];
  return [resolution.entry.variable, 'failed', messageOf(resolution.error)];
}

test('50 pinned entries are fetched with one getMany and decrypted in parallel within the bound', async (t) => {
  const backend = new FakeBackend();
  const entries = Array.from({ length: 50 }, (_, i) => {
    backend.add(`secret-${i}`, '1', `value-${i}`);
    return entry(`VAR_${i}`, `secret-${i}`, { version: '1' });
  });
  const results = await resolveEntries(backend, entries, { concurrency: 8 });
  t.is(backend.calls.getMany.length, 1);
  t.is(backend.calls.getMany[0]?.length, 50);
  t.is(backend.calls.getLatest.length, 0);
  t.is(backend.calls.decrypt, 50);
  t.is(backend.peakDecrypts, 8, 'the bound is reached and never exceeded');
  t.deepEqual(results.map(summary)[49], ['VAR_49', '0000000000000000001', 'value-49']);
});

test('200 latest entries make 200 getLatest calls in parallel and no getMany', async (t) => {
  const backend = new FakeBackend();
  const entries = Array.from({ length: 200 }, (_, i) => {
    backend.add(`secret-${i}`, '1', 'old');
    backend.add(`secret-${i}`, '2', `new-${i}`);
    return entry(`VAR_${i}`, `secret-${i}`);
  });
  const results = await resolveEntries(backend, entries);
  t.is(backend.calls.getLatest.length, 200);
  t.is(
    backend.peakLookups,
    DEFAULT_LOOKUP_CONCURRENCY,
    'the lookup bound is reached, never exceeded',
  );
  t.is(backend.calls.getMany.length, 0);
  t.is(backend.calls.decrypt, 200);
  t.is(backend.peakDecrypts, DEFAULT_CONCURRENCY, 'the default bound is reached, never exceeded');
  // Typical manifests go out in one wave.
  t.is(DEFAULT_CONCURRENCY, 128);
  t.is(DEFAULT_LOOKUP_CONCURRENCY, 128);
  t.deepEqual(results.map(summary)[7], ['VAR_7', '0000000000000000002', 'new-7']);
  t.deepEqual(results.map(summary)[199], ['VAR_199', '0000000000000000002', 'new-199']);
});

test('a decrypt starts as soon as its latest item arrives, before slower lookups finish', async (t) => {
  const backend = new FakeBackend(0);
  backend.add('fast', '1', 'f');
  backend.add('slow', '1', 's');
  const order: string[] = [];
  const getLatest = backend.store.getLatest;
  backend.store.getLatest = async (name) => {
    await new Promise((resolve) => setTimeout(resolve, name === 'slow' ? 50 : 0));
    order.push(`lookup ${name}`);
    return getLatest(name);
  };
  const decrypt = backend.keys.decrypt.bind(backend.keys);
  Object.assign(backend.keys, {
    decrypt: async (blob: Uint8Array, context: EncryptionContext) => {
      order.push('decrypt');
      return decrypt(blob, context);
    },
  });
  await resolveEntries(backend, [entry('SLOW', 'slow'), entry('FAST', 'fast')]);
  t.deepEqual(order, ['lookup fast', 'decrypt', 'lookup slow', 'decrypt']);
});

test('the same credential, version and context is fetched and decrypted once for several variables', async (t) => {
  const backend = new FakeBackend();
  backend.add('shared', '1', 'one');
  backend.add('shared', '2', 'two');
  backend.add('scoped', '1', 'ctx', { env: 'prod' });
  const results = await resolveEntries(backend, [
    entry('A', 'shared'),
    entry('B', 'shared'),
    entry('C', 'shared', { version: '1' }),
    entry('D', 'shared', { version: '1' }),
    entry('E', 'scoped', { context: { env: 'prod' } }),
    entry('F', 'scoped', { context: { env: 'prod' } }),
  ]);
  t.deepEqual(backend.calls.getLatest.sort(), ['scoped', 'shared']);
  t.deepEqual(backend.calls.getMany, [[{ name: 'shared', version: '0000000000000000001' }]]);
  t.is(backend.calls.decrypt, 3);
  t.deepEqual(results.map(summary), [
    ['A', '0000000000000000002', 'two'],
    ['B', '0000000000000000002', 'two'],
    ['C', '0000000000000000001', 'one'],
    ['D', '0000000000000000001', 'one'],
    ['E', '0000000000000000001', 'ctx'],
    ['F', '0000000000000000001', 'ctx'],
  ]);
});

test('every failure is collected and optional entries that do not exist are absent', async (t) => {
  const backend = new FakeBackend();
  backend.add('good', '1', 'ok');
  backend.add('scoped', '1', 'x', { env: 'prod' });
  const results = await resolveEntries(backend, [
    entry('GOOD', 'good'),
    entry('MISSING', 'missing'),
    entry('MISSING_PIN', 'good', { version: '9' }),
    entry('MAYBE', 'missing', { optional: true }),
    entry('MAYBE_PIN', 'good', { version: '9', optional: true }),
    entry('WRONG_CONTEXT', 'scoped', { context: { env: 'dev' }, optional: true }),
  ]);
  t.deepEqual(results.map(summary), [
    ['GOOD', '0000000000000000001', 'ok'],
    ['MISSING', 'failed', 'credential "missing" not found in fake store'],
    [
      'MISSING_PIN',
      'failed',
      'credential "good" version 0000000000000000009 not found in fake store',
    ],
    ['MAYBE', 'absent', ''],
    ['MAYBE_PIN', 'absent', ''],
    [
      'WRONG_CONTEXT',
      'failed',
      'cannot decrypt credential "scoped" version 0000000000000000001: the encryption context does not match',
    ],
  ]);
});

test('a failing getMany fails every pinned entry, optional ones included, but not the latest ones', async (t) => {
  const backend = new FakeBackend();
  backend.add('a', '1', 'x');
  backend.failGetMany = new Error('throttled beyond retries');
  const results = await resolveEntries(backend, [
    entry('PIN', 'a', { version: '1' }),
    entry('OPT', 'a', { version: '2', optional: true }),
    entry('LATEST', 'a'),
  ]);
  t.deepEqual(results.map(summary), [
    ['PIN', 'failed', 'throttled beyond retries'],
    ['OPT', 'failed', 'throttled beyond retries'],
    ['LATEST', '0000000000000000001', 'x'],
  ]);
  t.false(results[1]?.status === 'failed' && results[1].error instanceof NotFoundError);
});

test('an aborted resolution starts no further decrypts', async (t) => {
  const backend = new FakeBackend(1);
  const entries = Array.from({ length: 10 }, (_, i) => {
    backend.add(`s${i}`, '1', 'v');
    return entry(`V${i}`, `s${i}`, { version: '1' });
  });
  const controller = new AbortController();
  const decrypt = backend.keys.decrypt.bind(backend.keys);
  Object.assign(backend.keys, {
    decrypt: (blob: Uint8Array, context: EncryptionContext) => {
      controller.abort();
      return decrypt(blob, context);
    },
  });
  const results = await resolveEntries(backend, entries, {
    concurrency: 1,
    signal: controller.signal,
  });
  t.is(backend.calls.decrypt, 1);
  t.is(results[0]?.status, 'resolved');
  t.deepEqual(
    results.slice(1).map(summary),
    entries.slice(1).map(({ variable }) => [variable, 'failed', 'This operation was aborted']),
  );
});

test('a source told how resolution ended gets every entry once, in manifest order, and its answer is the result', async (t) => {
  const backend = new FakeBackend(1);
  backend.add('a', '1', 'va');
  const told: string[][] = [];
  const results = await resolveEntries(
    {
      store: backend.store,
      keys: backend.keys,
      resolved: (resolutions) => {
        told.push(resolutions.map((resolution) => summary(resolution).join(' ')));
        return resolutions.map((resolution) =>
          resolution.status === 'resolved'
            ? { ...resolution, origin: 'fallback' as const }
            : resolution,
        );
      },
    },
    [entry('B', 'b', { optional: true }), entry('A', 'a'), entry('A2', 'a')],
  );
  t.deepEqual(told, [['B absent ', 'A 0000000000000000001 va', 'A2 0000000000000000001 va']]);
  t.deepEqual(
    results.map((resolution) => [
      resolution.entry.variable,
      'origin' in resolution ? resolution.origin : undefined,
    ]),
    [
      ['B', undefined],
      ['A', 'fallback'],
      ['A2', 'fallback'],
    ],
  );
});

test('a source is told once, before its first read, what the batch will read at most at once', async (t) => {
  const backend = new FakeBackend();
  const told: { expected: unknown; readsBefore: number }[] = [];
  const source = Object.assign(Object.create(backend) as FakeBackend, {
    warmUp: async (expected: unknown) => {
      told.push({
        expected,
        readsBefore: backend.calls.getLatest.length + backend.calls.getMany.length,
      });
    },
  });
  const entries = Array.from({ length: 30 }, (_, i) => {
    backend.add(`secret-${i}`, '1', `v-${i}`);
    return entry(`VAR_${i}`, `secret-${i}`);
  });
  // The same credential under another context is decrypted apart (and fails here: it was sealed
  // without one) but looked up once; a repeated reference is read once; two pinned references
  // name one version.
  entries.push(entry('AGAIN', 'secret-0'));
  entries.push(entry('OTHER_CONTEXT', 'secret-0', { context: { app: 'x' } }));
  entries.push(
    entry('PINNED', 'secret-1', { version: '1' }),
    entry('PINNED_TOO', 'secret-1', { version: '1' }),
  );
  const results = await resolveEntries(source, entries, { concurrency: 16, lookupConcurrency: 8 });
  t.deepEqual(
    results.filter((result) => result.status !== 'resolved').map((result) => result.entry.variable),
    ['OTHER_CONTEXT'],
  );
  t.deepEqual(told, [{ expected: { latest: 8, pinned: 1, decrypts: 16 }, readsBefore: 0 }]);

  told.length = 0;
  backend.calls.getLatest.length = 0;
  backend.calls.getMany.length = 0;
  await resolveEntries(source, entries.slice(0, 3));
  t.deepEqual(told, [{ expected: { latest: 3, pinned: 0, decrypts: 3 }, readsBefore: 0 }]);
  told.length = 0;
  await resolveEntries(source, []);
  t.deepEqual(told, [], 'nothing to read: nothing to get ready for');
});
