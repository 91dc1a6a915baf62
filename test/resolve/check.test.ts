import test from 'ava';
import { EMPTY_CONTEXT } from '../../src/envelope/context.js';
import { padVersion } from '../../src/envelope/version.js';
import type { ManifestEntry } from '../../src/manifest/manifest-entry.js';
import { checkManifest, formatCheckReport } from '../../src/resolve/check.js';
import { FakeBackend } from './fake-backend.js';

function entry(
  variable: string,
  credential: string,
  more: Partial<ManifestEntry> = {},
): ManifestEntry {
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
