import test from 'ava';
import { EMPTY_CONTEXT } from '../../src/envelope/context.js';
import { padVersion } from '../../src/envelope/version.js';
import type { CredentialEntry } from '../../src/manifest/manifest-entry.js';
import { parseManifests } from '../../src/manifest/parse-manifest.js';
import { checkManifest, formatCheckReport } from '../../src/resolve/check.js';
import { FakeBackend } from './fake-backend.js';

function entry(
  variable: string,
  credential: string,
  more: Partial<CredentialEntry> = {},
): CredentialEntry {
  return {
    variable,
    credential,
    version: undefined,
    optional: false,
    file: false,
    context: EMPTY_CONTEXT,
    source: { file: 'm.env', line: 1 },
    ...more,
  };
}

test('check reports variable, credential, version and status, never values', async (t) => {
  const backend = new FakeBackend(0);
  backend.add('db', '1', 'canary-value-1');
  backend.add('db', '2', 'canary-value-2');
  backend.add('cert', '5', 'canary-cert');
  const report = await checkManifest(backend, [
    entry('DB', 'db'),
    entry('DB_OLD', 'db', { version: padVersion('1') }),
    entry('CERT', 'cert', { file: true }),
    entry('MAYBE', 'nope', { optional: true }),
  ]);
  t.true(report.ok);
  t.is(
    formatCheckReport(report),
    [
      'VARIABLE  CREDENTIAL  VERSION              STATUS',
      'DB        db          0000000000000000002  ok',
      'DB_OLD    db          0000000000000000001  ok',
      'CERT      cert        0000000000000000005  ok (file)',
      'MAYBE     nope        latest               absent (optional, left unset)',
      '',
    ].join('\n'),
  );
});

test('check is not ok when a required entry fails, and says why', async (t) => {
  const backend = new FakeBackend(0);
  const report = await checkManifest(backend, [entry('DB', 'db', { version: padVersion('3') })]);
  t.false(report.ok);
  t.deepEqual(report.rows, [
    {
      variable: 'DB',
      credential: 'db',
      version: '0000000000000000003',
      status: 'FAILED: credential "db" version 0000000000000000003 not found in fake store',
    },
  ]);
});

test('check lists a template with each reference and the version it resolved to, never the composed value', async (t) => {
  const backend = new FakeBackend(0);
  backend.add('app.db.user', '1', 'canary-user');
  backend.add('app.db.password', '3', 'canary-password');
  backend.add('bin', '2', Buffer.from([0xff]));
  const entries = parseManifests(
    [
      {
        name: 'm.json',
        text: JSON.stringify({
          DB_USER: 'app.db.user',
          DATABASE_URL: { template: 'postgres://{{app.db.user}}:{{app.db.password@3}}@db/app' },
          PGPASS: { template: '*:*:*:{{app.db.user}}:{{app.db.password}}', file: true },
          MAYBE: { template: '{{app.db.user}}/{{nope}}', optional: true },
          BROKEN: { template: '{{bin}}{{missing@7}}{{app.db.user}}' },
        }),
      },
    ],
    { allowVars: new Set(), context: EMPTY_CONTEXT },
  );
  const report = await checkManifest(backend, entries);
  t.false(report.ok);
  const text = formatCheckReport(report);
  t.is(
    text,
    [
      'VARIABLE      CREDENTIAL           VERSION              STATUS',
      'DB_USER       app.db.user          0000000000000000001  ok',
      'DATABASE_URL  template                                  ok',
      '              {{app.db.user}}      0000000000000000001  ok',
      '              {{app.db.password}}  0000000000000000003  ok',
      'PGPASS        template                                  ok (file)',
      '              {{app.db.user}}      0000000000000000001  ok',
      '              {{app.db.password}}  0000000000000000003  ok',
      'MAYBE         template                                  absent (optional, left unset)',
      '              {{app.db.user}}      0000000000000000001  ok',
      '              {{nope}}             latest               absent (optional)',
      'BROKEN        template                                  FAILED: 2 of 3 reference(s)',
      '              {{bin}}              0000000000000000002  FAILED: credential "bin" version 0000000000000000002 is not valid UTF-8, so it cannot be part of a template; give it an entry of its own with "file": true',
      '              {{missing}}          0000000000000000007  FAILED: credential "missing" version 0000000000000000007 not found in fake store',
      '              {{app.db.user}}      0000000000000000001  ok',
      '',
    ].join('\n'),
  );
  t.false(text.includes('canary'));
  t.deepEqual(report.rows[2], {
    variable: 'DATABASE_URL',
    credential: '{{app.db.user}}',
    version: '0000000000000000001',
    status: 'ok',
    reference: true,
  });
});
