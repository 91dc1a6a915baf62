import test from 'ava';
import { EMPTY_CONTEXT } from '../../src/envelope/context.js';
import { LaunchResolveError, messageOf, NotTextError } from '../../src/errors.js';
import { parseManifests } from '../../src/manifest/parse-manifest.js';
import { entryValues, wipeEntryValues } from '../../src/resolve/entry-values.js';
import { resolveEntries, type Resolution } from '../../src/resolve/resolve-entries.js';
import { FakeBackend } from './fake-backend.js';

function manifest(text: string, name = 'm.env') {
  return parseManifests([{ name, text }], { allowVars: new Set(), context: EMPTY_CONTEXT });
}

/** variable, credential, and the version and value that resolved (or what went wrong). */
function summary(resolution: Resolution): string[] {
  const { entry, reference } = resolution;
  const head = [entry.variable, reference.credential];
  if (resolution.status === 'resolved')
    return [...head, resolution.version, resolution.value.toString()];
  if (resolution.status === 'absent') return [...head, 'absent'];
  return [...head, 'failed', messageOf(resolution.error)];
}

function shown(values: ReturnType<typeof entryValues>) {
  return values.map(({ entry, value, secrets }) => [
    entry.variable,
    value?.toString('utf8') ?? null,
    secrets.map((secret) => secret.toString('utf8')),
  ]);
}

test('references in templates and plain entries are resolved in one batch, each distinct one once', async (t) => {
  const backend = new FakeBackend();
  backend.add('app.db.password', '1', 'pw-1');
  backend.add('app.db.password', '2', 'pw-2');
  backend.add('app.db.user', '1', 'app');
  const entries = manifest(
    [
      'DB_PASSWORD=app.db.password@1',
      'DATABASE_URL:=postgres://{{app.db.user}}:{{app.db.password@1}}@db/app',
      'READ_URL:=postgres://{{ app.db.user }}:{{app.db.password}}@replica/app?user={{app.db.user}}',
    ].join('\n'),
  );
  const resolutions = await resolveEntries(backend, entries);
  t.deepEqual(backend.calls.getMany, [
    [{ name: 'app.db.password', version: '0000000000000000001' }],
  ]);
  t.deepEqual(backend.calls.getLatest.sort(), ['app.db.password', 'app.db.user']);
  t.is(backend.calls.decrypt, 3, 'password@1, password latest and user, each once');
  t.deepEqual(resolutions.map(summary), [
    ['DB_PASSWORD', 'app.db.password', '0000000000000000001', 'pw-1'],
    ['DATABASE_URL', 'app.db.user', '0000000000000000001', 'app'],
    ['DATABASE_URL', 'app.db.password', '0000000000000000001', 'pw-1'],
    ['READ_URL', 'app.db.user', '0000000000000000001', 'app'],
    ['READ_URL', 'app.db.password', '0000000000000000002', 'pw-2'],
  ]);
  t.deepEqual(shown(entryValues(resolutions)), [
    ['DB_PASSWORD', 'pw-1', ['pw-1']],
    ['DATABASE_URL', 'postgres://app:pw-1@db/app', ['postgres://app:pw-1@db/app', 'app', 'pw-1']],
    [
      'READ_URL',
      'postgres://app:pw-2@replica/app?user=app',
      ['postgres://app:pw-2@replica/app?user=app', 'app', 'pw-2'],
    ],
  ]);
});

test("a template's references are read under the entry's context, apart from the same names read without it", async (t) => {
  const backend = new FakeBackend();
  backend.add('token', '1', 'plain');
  backend.add('scoped', '1', 'prod-token', { env: 'prod' });
  const entries = manifest(
    JSON.stringify({
      PLAIN: 'token',
      SCOPED_URL: { template: 'https://x:{{scoped}}@api', context: { env: 'prod' } },
      WRONG: { template: '{{token}}', context: { env: 'prod' } },
    }),
    'm.json',
  );
  const resolutions = await resolveEntries(backend, entries);
  t.deepEqual(resolutions.map(summary), [
    ['PLAIN', 'token', '0000000000000000001', 'plain'],
    ['SCOPED_URL', 'scoped', '0000000000000000001', 'prod-token'],
    [
      'WRONG',
      'token',
      'failed',
      'cannot decrypt credential "token" version 0000000000000000001: the encryption context does not match',
    ],
  ]);
  t.is(backend.calls.decrypt, 3, 'token is decrypted once per context');
});

test('entryValues fails all or nothing, naming every failed reference of every template', async (t) => {
  const backend = new FakeBackend();
  backend.add('user', '1', 'app');
  const resolutions = await resolveEntries(
    backend,
    manifest('URL:={{user}}:{{missing}}@{{gone@3}}\nOTHER=nope'),
  );
  const error = t.throws(() => entryValues(resolutions), { instanceOf: LaunchResolveError });
  t.is(
    error?.message,
    [
      '3 secret(s) could not be resolved; nothing was started:',
      '  URL: {{missing}} — credential "missing" not found in fake store',
      '  URL: {{gone@0000000000000000003}} — credential "gone" version 0000000000000000003 not found in fake store',
      '  OTHER: nope — credential "nope" not found in fake store',
    ].join('\n'),
  );
});

test('an optional template with a reference that does not exist leaves its variable unset', async (t) => {
  const backend = new FakeBackend();
  backend.add('user', '1', 'app');
  const entries = manifest(
    JSON.stringify({ URL: { template: '{{user}}:{{missing}}', optional: true } }),
    'm.json',
  );
  const resolutions = await resolveEntries(backend, entries);
  t.deepEqual(resolutions.map(summary), [
    ['URL', 'user', '0000000000000000001', 'app'],
    ['URL', 'missing', 'absent'],
  ]);
  t.deepEqual(shown(entryValues(resolutions)), [['URL', null, []]]);
});

test('a reference that is not text fails naming its credential and version, even for a file', async (t) => {
  const backend = new FakeBackend();
  backend.add('bin', '4', Buffer.from([0xff, 0xfe]));
  backend.add('nul', '1', 'a\u0000b');
  const entries = manifest(
    JSON.stringify({
      FILE: { template: 'key={{bin}}', file: true },
      VAR: { template: 'x{{nul}}' },
      RAW: { name: 'bin', file: true },
    }),
    'm.json',
  );
  const resolutions = await resolveEntries(backend, entries);
  const error = t.throws(() => entryValues(resolutions), { instanceOf: LaunchResolveError });
  t.is(
    error?.message,
    [
      '2 secret(s) could not be resolved; nothing was started:',
      '  FILE: {{bin}} — credential "bin" version 0000000000000000004 is not valid UTF-8, so it cannot be part of a template; give it an entry of its own with "file": true',
      '  VAR: {{nul}} — credential "nul" version 0000000000000000001 contains a NUL byte, so it cannot be part of a template; give it an entry of its own with "file": true',
    ].join('\n'),
  );
  t.true(error?.failures.every(({ error: cause }) => cause instanceof NotTextError));
});

test('composed values are new buffers that wipeEntryValues zeroes, leaving the values read to their resolutions', async (t) => {
  const backend = new FakeBackend();
  backend.add('pw', '1', 'secret');
  const resolutions = await resolveEntries(backend, manifest('URL:=u:{{pw}}\nPW=pw'));
  const values = entryValues(resolutions);
  const composed = values[0]!.value!;
  t.is(composed.toString(), 'u:secret');
  wipeEntryValues(values);
  t.deepEqual(composed, Buffer.alloc(8));
  t.is(values[1]!.value!.toString(), 'secret', 'a value read is zeroed with its resolution');
});
