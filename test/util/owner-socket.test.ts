import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { listenOwnerSocket, probeOwnerSocket } from '../../src/util/owner-socket.js';
import { REPO_ROOT } from '../support/vectors.js';

const CHILD = join(REPO_ROOT, 'test', 'support', 'owner-socket-child.ts');

function tempDir(t: { teardown: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'credexec-owner-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A directory deep enough that a socket in it is past the 107 bytes of sun_path. */
function longDir(base: string): string {
  const dir = join(base, 'd'.repeat(60), 'e'.repeat(60));
  mkdirSync(dir, { recursive: true });
  return dir;
}

async function startChild(path: string, mode: 'hold' | 'idle'): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, path, mode], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`child ended with ${code}`)));
  });
  return child;
}

function kill(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

test('a listening owner is alive; once closed its socket file is gone', async (t) => {
  const path = join(tempDir(t), 'owner');
  const owner = await listenOwnerSocket(path);
  t.true(lstatSync(path).isSocket());
  t.is(await probeOwnerSocket(path), 'alive');
  owner.close();
  owner.close();
  t.false(existsSync(path));
  t.is(await probeOwnerSocket(path), 'absent');
});

test('the socket of an owner that was SIGKILLed proves it gone', async (t) => {
  const path = join(tempDir(t), 'owner');
  const child = await startChild(path, 'hold');
  t.is(await probeOwnerSocket(path), 'alive');
  await kill(child);
  t.true(lstatSync(path).isSocket());
  t.is(await probeOwnerSocket(path), 'gone');
});

test('a stopped owner still counts as alive', async (t) => {
  const path = join(tempDir(t), 'owner');
  const child = await startChild(path, 'hold');
  t.teardown(() => kill(child));
  child.kill('SIGSTOP');
  for (let probe = 0; probe < 20; probe++) t.is(await probeOwnerSocket(path), 'alive');
});

test('a socket nobody listens on any more is gone, wherever it was linked', async (t) => {
  const dir = tempDir(t);
  const owner = await listenOwnerSocket(join(dir, 'bound'));
  linkSync(join(dir, 'bound'), join(dir, 'linked'));
  t.is(await probeOwnerSocket(join(dir, 'linked')), 'alive');
  owner.close();
  t.is(await probeOwnerSocket(join(dir, 'linked')), 'gone');
});

test('a file, a directory or a missing path is never taken for a dead owner', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'file'), '1234');
  mkdirSync(join(dir, 'directory'));
  t.is(await probeOwnerSocket(join(dir, 'file')), 'not-a-socket');
  t.is(await probeOwnerSocket(join(dir, 'directory')), 'not-a-socket');
  t.is(await probeOwnerSocket(join(dir, 'missing')), 'absent');
  t.is(await probeOwnerSocket(join(dir, 'file', 'below')), 'absent');
});

test('paths longer than a unix socket address work, at their full path, and leave the working directory alone', async (t) => {
  const dir = longDir(tempDir(t));
  const path = join(dir, 'owner-socket');
  t.true(Buffer.byteLength(path) > 107);
  const cwd = process.cwd();
  const owner = await listenOwnerSocket(path);
  t.is(process.cwd(), cwd);
  t.deepEqual(readdirSync(dir), ['owner-socket']);
  t.true(lstatSync(path).isSocket());
  t.is(await probeOwnerSocket(path), 'alive');
  t.is(process.cwd(), cwd);
  owner.close();
  t.deepEqual(readdirSync(dir), []);
  t.is(process.cwd(), cwd);

  const child = await startChild(path, 'hold');
  await kill(child);
  t.is(await probeOwnerSocket(path), 'gone');
});

test('an owner socket does not keep its process alive', async (t) => {
  const path = join(tempDir(t), 'owner');
  const child = await startChild(path, 'idle');
  const code = await new Promise((resolve) => child.once('exit', resolve));
  t.is(code, 0);
});

test('children do not inherit the owner socket', async (t) => {
  const owner = await listenOwnerSocket(join(tempDir(t), 'owner'));
  t.teardown(() => owner.close());
  const listing = spawnSync(
    'sh',
    ['-c', 'for f in /proc/$$/fd/*; do echo "${f##*/} $(readlink "$f")"; done'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const sockets = listing.stdout
    .split('\n')
    .filter((line) => line.includes('socket:') && !line.startsWith('1 '));
  t.deepEqual(sockets, []);
});
