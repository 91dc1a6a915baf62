import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isatty } from 'node:tty';
import test from 'ava';
import { EMPTY_CONTEXT } from '../../src/envelope/context.js';
import { SpawnError, UsageError } from '../../src/errors.js';
import { LaunchResolveError, ManifestError, NotFoundError } from '../../src/errors.js';
import { spawnStarter } from '../../src/launch/child-starter.js';
import type { LaunchObserver, ObservedEntry } from '../../src/launch/launch-observer.js';
import { PID1_WARNING, processLaunchIo, runLauncher } from '../../src/launch/run-launcher.js';
import { FakeBackend } from '../resolve/fake-backend.js';
import { fakeIo } from '../support/launch-io.js';

function scratch(manifest: string) {
  const dir = mkdtempSync(join(tmpdir(), 'credexec-run-test-'));
  writeFileSync(join(dir, 'm.env'), manifest);
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

test('a signal during resolution stops the launch without starting the command', async (t) => {
  const { dir, cleanup } = scratch('SLOW=slow\n');
  t.teardown(cleanup);
  const backend = new FakeBackend(0);
  let lookups = 0;
  backend.store.getLatest = () => {
    lookups++;
    return new Promise(() => undefined);
  };
  const { io, signals } = fakeIo(dir);
  const marker = join(dir, 'ran');
  const launch = runLauncher(
    backend,
    {
      command: process.execPath,
      args: ['-e', `require('fs').writeFileSync(${JSON.stringify(marker)}, '')`],
      manifests: [join(dir, 'm.env')],
      context: EMPTY_CONTEXT,
      allowVars: [],
      pristine: false,
    },
    io,
  );
  while (lookups === 0) await new Promise((resolve) => setTimeout(resolve, 1));
  signals.emit('SIGWINCH');
  signals.emit('SIGTERM');
  t.deepEqual(await launch, { signal: 'SIGTERM' });
  t.false(existsSync(marker));
  t.is(signals.listenerCount('SIGTERM'), 0, 'the launcher removed its handlers');
});

test('as PID 1 the launcher warns once that zombies are not reaped', async (t) => {
  const { dir, cleanup } = scratch('');
  t.teardown(cleanup);
  const { io, warnings } = fakeIo(dir, { pid: 1 });
  const outcome = await runLauncher(
    new FakeBackend(0),
    {
      command: process.execPath,
      args: ['-e', 'process.exit(3)'],
      manifests: [join(dir, 'm.env')],
      context: EMPTY_CONTEXT,
      allowVars: [],
      pristine: true,
    },
    io,
  );
  t.deepEqual(outcome, { code: 3 });
  t.deepEqual(warnings, [PID1_WARNING]);
});

test('processLaunchIo is this process, with the environment it is given', (t) => {
  const env = { ONLY: 'this' };
  const io = processLaunchIo(env);
  t.is(io.env, env);
  t.is(io.pid, process.pid);
  t.is(io.signals, process);
  t.is(io.stdinIsTty, isatty(0));
  t.is(processLaunchIo().env, process.env);
});

test('a starter composed in starts the command, sees each secret while it starts, and the values are zeroed after', async (t) => {
  const { dir, cleanup } = scratch('TOKEN=app.token\n');
  t.teardown(cleanup);
  const backend = new FakeBackend(0);
  backend.add('app.token', '1', 'starter-canary');
  const { io } = fakeIo(dir);
  const seen: { variable: string; value: string; file: boolean }[] = [];
  let kept: Uint8Array | undefined;
  const outcome = await runLauncher(
    backend,
    {
      command: process.execPath,
      args: ['-e', 'process.exit(process.env.TOKEN === "starter-canary" ? 0 : 9)'],
      manifests: [join(dir, 'm.env')],
      context: EMPTY_CONTEXT,
      allowVars: [],
      pristine: false,
      starter: {
        start(request) {
          for (const { variable, value, file } of request.secrets) {
            seen.push({ variable, value: Buffer.from(value).toString('utf8'), file });
            kept = value;
          }
          return spawnStarter.start(request);
        },
      },
    },
    io,
  );
  t.deepEqual(outcome, { code: 0 });
  t.deepEqual(seen, [{ variable: 'TOKEN', value: 'starter-canary', file: false }]);
  t.true(kept !== undefined && kept.every((byte) => byte === 0));
});

/** An observer that writes down each call, as the launcher made it. */
function recordingObserver() {
  const calls: [string, unknown][] = [];
  const observer: LaunchObserver = {
    resolved: (entries) => calls.push(['resolved', entries]),
    started: (pid) => calls.push(['started', pid]),
    ended: (exit) => calls.push(['ended', exit]),
    failed: (failure) => calls.push(['failed', failure]),
  };
  return { observer, calls };
}

const launchOptions = (dir: string, args: string[]) => ({
  command: process.execPath,
  args,
  manifests: [join(dir, 'm.env')],
  context: EMPTY_CONTEXT,
  allowVars: [],
  pristine: false,
});

test('an observer is told the entries without their values, then the pid, then how the command ended', async (t) => {
  const { dir, cleanup } = scratch('TOKEN=app.token\nOLD=app.token@1\n');
  t.teardown(cleanup);
  const backend = new FakeBackend(0);
  backend.add('app.token', '1', 'observer-canary-1');
  backend.add('app.token', '2', 'observer-canary-2');
  const { io } = fakeIo(dir);
  const { observer, calls } = recordingObserver();
  let childPid: number | undefined;
  const outcome = await runLauncher(
    backend,
    {
      ...launchOptions(dir, ['-e', 'process.exit(4)']),
      observer,
      starter: {
        async start(request) {
          const child = await spawnStarter.start(request);
          childPid = child.process.pid;
          return child;
        },
      },
    },
    io,
  );
  t.deepEqual(outcome, { code: 4 });
  t.deepEqual(calls, [
    [
      'resolved',
      [
        {
          variable: 'TOKEN',
          credential: 'app.token',
          requestedVersion: undefined,
          status: 'resolved',
          version: '0000000000000000002',
          origin: 'store',
          file: false,
          optional: false,
          error: undefined,
        },
        {
          variable: 'OLD',
          credential: 'app.token',
          requestedVersion: '0000000000000000001',
          status: 'resolved',
          version: '0000000000000000001',
          origin: 'store',
          file: false,
          optional: false,
          error: undefined,
        },
      ],
    ],
    ['started', childPid],
    ['ended', { code: 4 }],
  ]);
  t.false(JSON.stringify(calls).includes('canary'));
});

test('an observer is told that nothing started, with the error, when a secret does not resolve', async (t) => {
  const { dir, cleanup } = scratch('GONE=app.gone\n');
  t.teardown(cleanup);
  const { io } = fakeIo(dir);
  const { observer, calls } = recordingObserver();
  const error = await t.throwsAsync(
    runLauncher(new FakeBackend(0), { ...launchOptions(dir, ['-e', '']), observer }, io),
    { instanceOf: LaunchResolveError },
  );
  t.deepEqual(
    calls.map(([call]) => call),
    ['resolved', 'failed'],
  );
  const [entry] = calls[0]![1] as ObservedEntry[];
  t.like(entry, { variable: 'GONE', status: 'failed', version: undefined, origin: undefined });
  t.true(entry!.error instanceof NotFoundError);
  t.deepEqual(calls[1]![1], { error });
});

test('an observer is told of a manifest error, and of a signal during resolution, without entries', async (t) => {
  const broken = scratch('not a line\n');
  t.teardown(broken.cleanup);
  const manifest = recordingObserver();
  const error = await t.throwsAsync(
    runLauncher(
      new FakeBackend(0),
      { ...launchOptions(broken.dir, ['-e', '']), observer: manifest.observer },
      fakeIo(broken.dir).io,
    ),
    { instanceOf: ManifestError },
  );
  t.deepEqual(manifest.calls, [['failed', { error }]]);

  const slow = scratch('SLOW=slow\n');
  t.teardown(slow.cleanup);
  const backend = new FakeBackend(0);
  let lookups = 0;
  let answer: (() => void) | undefined;
  backend.store.getLatest = () => {
    lookups++;
    return new Promise((resolve) => (answer = () => resolve(undefined)));
  };
  const { io, signals } = fakeIo(slow.dir);
  const signalled = recordingObserver();
  const launch = runLauncher(
    backend,
    { ...launchOptions(slow.dir, ['-e', '']), observer: signalled.observer },
    io,
  );
  while (lookups === 0) await new Promise((resolve) => setTimeout(resolve, 1));
  signals.emit('SIGTERM');
  t.deepEqual(await launch, { signal: 'SIGTERM' });
  // Resolution finishing after the signal is not reported: the launch is over.
  answer!();
  await new Promise((resolve) => setTimeout(resolve, 10));
  t.deepEqual(signalled.calls, [['failed', { signal: 'SIGTERM' }]]);
});

test('a template gives the starter its composed value and each value it was composed of, all zeroed after', async (t) => {
  const { dir, cleanup } = scratch(
    'DATABASE_URL:=postgres://{{app.db.user}}:{{app.db.password}}@db/app\nUSER=app.db.user\n',
  );
  t.teardown(cleanup);
  const backend = new FakeBackend(0);
  backend.add('app.db.user', '1', 'canary-user');
  backend.add('app.db.password', '1', 'canary-password');
  const { io } = fakeIo(dir);
  const seen: { variable: string; value: string; file: boolean }[] = [];
  const kept: Uint8Array[] = [];
  const expected = 'postgres://canary-user:canary-password@db/app';
  const outcome = await runLauncher(
    backend,
    {
      command: process.execPath,
      args: [
        '-e',
        `process.exit(process.env.DATABASE_URL === ${JSON.stringify(expected)} && process.env.USER === "canary-user" ? 0 : 9)`,
      ],
      manifests: [join(dir, 'm.env')],
      context: EMPTY_CONTEXT,
      allowVars: [],
      pristine: false,
      starter: {
        start(request) {
          for (const { variable, value, file } of request.secrets) {
            seen.push({ variable, value: Buffer.from(value).toString('utf8'), file });
            kept.push(value);
          }
          return spawnStarter.start(request);
        },
      },
    },
    io,
  );
  t.deepEqual(outcome, { code: 0 });
  t.deepEqual(seen, [
    { variable: 'DATABASE_URL', value: expected, file: false },
    { variable: 'DATABASE_URL', value: 'canary-user', file: false },
    { variable: 'DATABASE_URL', value: 'canary-password', file: false },
    { variable: 'USER', value: 'canary-user', file: false },
  ]);
  t.true(kept.every((value) => value.every((byte) => byte === 0)));
});

/** A backend that counts close() calls, as the launcher's release must close it. */
function closableBackend() {
  const backend = new FakeBackend(0);
  const closes = { count: 0 };
  Object.assign(backend, { close: () => closes.count++ });
  return { backend, closes };
}

test('release lets go of everything before a starter replaces the process: signal handlers, the store and the values', async (t) => {
  const { dir, cleanup } = scratch('TOKEN=app.token\n');
  t.teardown(cleanup);
  const { backend, closes } = closableBackend();
  backend.add('app.token', '1', 'release-canary');
  const { io, signals } = fakeIo(dir);
  let seen: { listeners: number; closes: number; zeroed: boolean } | undefined;
  const launch = runLauncher(
    backend,
    {
      command: 'unused',
      args: [],
      manifests: [join(dir, 'm.env')],
      context: EMPTY_CONTEXT,
      allowVars: [],
      pristine: false,
      starter: {
        async start(request) {
          t.is(signals.listenerCount('SIGTERM'), 1, 'handled until release');
          t.is(closes.count, 0);
          t.is(request.env.TOKEN, 'release-canary');
          await request.release();
          seen = {
            listeners: signals.listenerCount('SIGTERM') + signals.listenerCount('SIGHUP'),
            closes: closes.count,
            zeroed: request.secrets.every(({ value }) => value.every((byte) => byte === 0)),
          };
          // What an exec that failed would do.
          throw new SpawnError('not-found', 'unused: command not found (ENOENT)');
        },
      },
    },
    io,
  );
  await t.throwsAsync(launch, { instanceOf: SpawnError });
  t.deepEqual(seen, { listeners: 0, closes: 1, zeroed: true });
});

test('a stopping signal that arrives before release makes it reject, and the launch ends stopped by that signal', async (t) => {
  const { dir, cleanup } = scratch('');
  t.teardown(cleanup);
  const { io, signals } = fakeIo(dir);
  const options = {
    command: 'unused',
    args: [],
    manifests: [join(dir, 'm.env')],
    context: EMPTY_CONTEXT,
    allowVars: [],
    pristine: false,
  };
  let proceeded = false;
  const stopped = await runLauncher(
    new FakeBackend(0),
    {
      ...options,
      starter: {
        async start(request) {
          signals.emit('SIGWINCH');
          signals.emit('SIGHUP');
          await request.release();
          proceeded = true;
          throw new Error('not reached');
        },
      },
    },
    io,
  );
  t.deepEqual(stopped, { signal: 'SIGHUP' });
  t.false(proceeded);

  // SIGWINCH alone does not stop anything.
  const resized = runLauncher(
    new FakeBackend(0),
    {
      ...options,
      starter: {
        async start(request) {
          signals.emit('SIGWINCH');
          await request.release();
          throw new SpawnError('failed', 'unused: cannot start (EIO)');
        },
      },
    },
    io,
  );
  await t.throwsAsync(resized, { instanceOf: SpawnError });
});

test('a starter that refuses the manifest stops the launch before any lookup or decrypt', async (t) => {
  const { dir, cleanup } = scratch('TOKEN=app.token\nOTHER=app.other@2\n');
  t.teardown(cleanup);
  const backend = new FakeBackend(0);
  const { io } = fakeIo(dir);
  let started = false;
  const refused: string[] = [];
  const launch = runLauncher(
    backend,
    {
      command: 'unused',
      args: [],
      manifests: [join(dir, 'm.env')],
      context: EMPTY_CONTEXT,
      allowVars: [],
      pristine: false,
      starter: {
        refuse(entries) {
          refused.push(...entries.map((entry) => entry.variable));
          throw new UsageError('refused');
        },
        start() {
          started = true;
          throw new Error('not reached');
        },
      },
    },
    io,
  );
  await t.throwsAsync(launch, { instanceOf: UsageError, message: 'refused' });
  t.deepEqual(refused, ['TOKEN', 'OTHER']);
  t.false(started);
  t.deepEqual(backend.calls, { getMany: [], getLatest: [], decrypt: 0 });
});
