import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import {
  SecretFiles,
  secretFilesBase,
  sweepStaleSecretDirs,
} from '../../src/launch/secret-files.js';

function tempBase(): { base: string; cleanup: () => void } {
  const base = mkdtempSync(join(tmpdir(), 'credexec-files-test-'));
  return { base, cleanup: () => rmSync(base, { recursive: true, force: true }) };
}

test('XDG_RUNTIME_DIR is preferred, then /dev/shm, then the temp directory', (t) => {
  t.is(
    secretFilesBase({ XDG_RUNTIME_DIR: '/run/user/1000' }, () => true),
    '/run/user/1000',
  );
  t.is(
    secretFilesBase({ XDG_RUNTIME_DIR: '' }, (path) => path === '/dev/shm'),
    '/dev/shm',
  );
  t.is(
    secretFilesBase({ XDG_RUNTIME_DIR: '/gone' }, () => false),
    tmpdir(),
  );
});

test('secret files are 0600 in a 0700 directory and removed together', async (t) => {
  const { base, cleanup } = tempBase();
  t.teardown(cleanup);
  const files = new SecretFiles(base, 4242);
  const path = await files.write('TLS_KEY', Buffer.from('-----BEGIN KEY-----\n\u0000binary'));
  t.regex(files.directory, /\/credexec-4242-[0-9a-f]{16}$/);
  t.is(path, join(files.directory, 'TLS_KEY'));
  t.is(statSync(files.directory).mode & 0o777, 0o700);
  t.is(statSync(path).mode & 0o777, 0o600);
  t.is(readFileSync(path, 'utf8'), '-----BEGIN KEY-----\n\u0000binary');
  files.remove();
  t.false(existsSync(files.directory));
  await t.throwsAsync(files.write('LATE', Buffer.from('x')), {
    message: `secret files in ${files.directory} were already removed`,
  });
  t.false(existsSync(files.directory));
});

test('the sweep removes directories of dead runs only', async (t) => {
  const { base, cleanup } = tempBase();
  t.teardown(cleanup);
  const dead = join(base, 'credexec-999999-0123456789abcdef');
  const alive = join(base, 'credexec-1234-0123456789abcdef');
  const unrelated = join(base, 'credexec-notapid');
  for (const dir of [dead, alive, unrelated]) mkdirSync(dir);
  const swept = await sweepStaleSecretDirs(base, (pid) => pid === 1234);
  t.deepEqual(swept, [dead]);
  t.false(existsSync(dead));
  t.true(existsSync(alive));
  t.true(existsSync(unrelated));
});

test('the sweep of a missing base directory does nothing', async (t) => {
  t.deepEqual(await sweepStaleSecretDirs('/nonexistent/credexec-base'), []);
});
