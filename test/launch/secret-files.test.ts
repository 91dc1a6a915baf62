import { spawn } from 'node:child_process';
import {
  chownSync,
  closeSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { SecretFileError } from '../../src/errors.js';
import {
  SecretFiles,
  secretFilesBase,
  sweepStaleSecretDirs,
} from '../../src/launch/secret-files.js';
import { REPO_ROOT } from '../support/vectors.js';

const OWNER_SCRIPT = join(REPO_ROOT, 'test', 'support', 'secret-files-owner.ts');

function tempBase(): { base: string; cleanup: () => void } {
  const base = mkdtempSync(join(tmpdir(), 'credexec-files-test-'));
  return { base, cleanup: () => rmSync(base, { recursive: true, force: true }) };
}

function makeOld(path: string): void {
  const anHourAgo = Date.now() / 1000 - 3600;
  utimesSync(path, anHourAgo, anHourAgo);
}

/** Another process that wrote a secret file and is still running; returns its directory. */
async function startOwner(base: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', OWNER_SCRIPT, base], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const directory = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      if (out.endsWith('\n')) resolve(out.trim());
    });
    child.on('exit', (code, signal) => reject(new Error(`owner ended: ${code ?? signal}`)));
  });
  const kill = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  return { directory, kill };
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
    instanceOf: SecretFileError,
    message: `cannot write the secret file of LATE in ${files.directory}: the secret files were already removed`,
  });
  t.false(existsSync(files.directory));
});

test('a rewritten secret file is replaced whole by a rename at the same path, 0600, leaving nothing else behind', async (t) => {
  const { base, cleanup } = tempBase();
  t.teardown(cleanup);
  const files = new SecretFiles(base, 4242);
  const path = await files.write('TLS_KEY', Buffer.from('old-value'));
  const before = statSync(path);
  // Someone holding the old file open keeps reading the old value: the new one is a new inode.
  const held = openSync(path, 'r');
  t.teardown(() => closeSync(held));
  t.is(await files.rewrite('TLS_KEY', Buffer.from('new-value\u0000bytes')), path);
  const after = statSync(path);
  t.not(after.ino, before.ino);
  t.is(after.mode & 0o777, 0o600);
  t.is(readFileSync(path, 'utf8'), 'new-value\u0000bytes');
  t.is(readFileSync(held, 'utf8'), 'old-value');
  t.deepEqual(
    readdirSync(files.directory)
      .filter((name) => name !== '.owner')
      .sort(),
    ['TLS_KEY'],
  );
  files.discard('TLS_KEY');
  t.false(existsSync(path));
  files.discard('TLS_KEY');
  files.remove();
  t.false(existsSync(files.directory));
  await t.throwsAsync(files.rewrite('TLS_KEY', Buffer.from('x')), {
    instanceOf: SecretFileError,
    message: `cannot write the secret file of TLS_KEY in ${files.directory}: the secret files were already removed`,
  });
});

test('a secret file that cannot be written is a named error: the variable, the directory, the errno', async (t) => {
  const { base, cleanup } = tempBase();
  t.teardown(cleanup);
  // A base that is not a directory stands in for a full or read-only file system.
  const notADirectory = join(base, 'file');
  writeFileSync(notADirectory, '');
  const files = new SecretFiles(notADirectory);
  const error = await t.throwsAsync(files.write('TLS_KEY', Buffer.from('secret-canary')), {
    instanceOf: SecretFileError,
  });
  t.is(error.message, `cannot write the secret file of TLS_KEY in ${files.directory}: ENOTDIR`);
  t.is(error.code, 'SECRET_FILE');
  files.remove();
});

test("a run's directory holds its owner socket next to its secret files", async (t) => {
  const { base, cleanup } = tempBase();
  t.teardown(cleanup);
  const files = new SecretFiles(base);
  t.teardown(() => files.remove());
  await files.write('A', Buffer.from('a'));
  t.true(lstatSync(join(files.directory, '.owner')).isSocket());
});

test('a live run is never swept, even when its pid means nothing here (another PID namespace)', async (t) => {
  const { base, cleanup } = tempBase();
  t.teardown(cleanup);
  // The pid in the name is not a process of this namespace, as for a run inside a container.
  const files = new SecretFiles(base, 999_999_999);
  t.teardown(() => files.remove());
  const path = await files.write('KEY_FILE', Buffer.from('still needed'));
  t.deepEqual(await sweepStaleSecretDirs(base), []);
  t.is(readFileSync(path, 'utf8'), 'still needed');
});

test('the directory of a run in another process is kept while it runs and swept once it was SIGKILLed', async (t) => {
  const { base, cleanup } = tempBase();
  t.teardown(cleanup);
  const owner = await startOwner(base);
  t.teardown(owner.kill);
  t.deepEqual(await sweepStaleSecretDirs(base), []);
  t.is(readFileSync(join(owner.directory, 'KEY_FILE'), 'utf8'), 'secret-bytes');
  await owner.kill();
  t.deepEqual(await sweepStaleSecretDirs(base), [owner.directory]);
  t.false(existsSync(owner.directory));
});

test('runs under a base path too long for a socket address are kept while alive and swept once killed', async (t) => {
  const { base: root, cleanup } = tempBase();
  t.teardown(cleanup);
  const base = join(root, 'b'.repeat(60), 'c'.repeat(40));
  mkdirSync(base, { recursive: true });
  const owner = await startOwner(base);
  t.teardown(owner.kill);
  t.true(Buffer.byteLength(join(owner.directory, '.owner')) > 107);
  t.true(lstatSync(join(owner.directory, '.owner')).isSocket());
  t.deepEqual(await sweepStaleSecretDirs(base), []);
  await owner.kill();
  t.deepEqual(await sweepStaleSecretDirs(base), [owner.directory]);
});

test('a directory without an owner socket is kept while it holds a file; an empty one only once it is old', async (t) => {
  const { base, cleanup } = tempBase();
  t.teardown(cleanup);
  const withFile = join(base, 'credexec-999999999-0123456789abcdef');
  const emptyOld = join(base, 'credexec-999999999-1111111111111111');
  const emptyNew = join(base, 'credexec-999999999-2222222222222222');
  for (const dir of [withFile, emptyOld, emptyNew]) mkdirSync(dir, { mode: 0o700 });
  writeFileSync(join(withFile, 'KEY_FILE'), 'x');
  for (const dir of [withFile, emptyOld]) makeOld(dir);
  t.deepEqual(await sweepStaleSecretDirs(base), [emptyOld]);
  t.true(existsSync(join(withFile, 'KEY_FILE')));
  t.true(existsSync(emptyNew));
});

test('the sweep never touches other names, symlinks or directories of other users', async (t) => {
  const { base, cleanup } = tempBase();
  t.teardown(cleanup);
  const target = mkdtempSync(join(tmpdir(), 'credexec-target-'));
  t.teardown(() => rmSync(target, { recursive: true, force: true }));
  const unrelated = join(base, 'credexec-notapid');
  const link = join(base, 'credexec-999999999-3333333333333333');
  const foreign = join(base, 'credexec-999999999-4444444444444444');
  mkdirSync(unrelated);
  symlinkSync(target, link);
  mkdirSync(foreign);
  chownSync(foreign, 65534, 65534);
  for (const dir of [unrelated, foreign, target]) makeOld(dir);
  t.deepEqual(await sweepStaleSecretDirs(base), []);
  for (const path of [unrelated, link, foreign, target]) t.true(existsSync(path), path);
});

test('the sweep of a missing base directory does nothing', async (t) => {
  t.deepEqual(await sweepStaleSecretDirs('/nonexistent/credexec-base'), []);
});
