import { EventEmitter } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import { EMPTY_CONTEXT } from '../../src/envelope/context.js';
import { padVersion } from '../../src/envelope/version.js';
import type { LaunchObserver } from '../../src/launch/launch-observer.js';
import { runLauncher } from '../../src/launch/run-launcher.js';
import { RESTART, type ChangePolicy } from '../../src/manifest/change-policy.js';
import { refKey } from '../../src/stores/credential-store.js';
import {
  watchSupervisor,
  type WatchBackend,
  type WatchSettings,
} from '../../src/watch/watch-supervisor.js';
import { FakeBackend } from '../resolve/fake-backend.js';
import { fakeIo } from '../support/launch-io.js';

/**
 * The watch room composed into the real launcher, with real commands (node) and an in-memory
 * store: polls every 40 ms, so that each test takes well under a second of waiting.
 */
const INTERVAL_MS = 40;
const v = (version: number) => padVersion(String(version));

/**
 * The command: notes every event in its log as a JSON line — its start with what it got (DB, the
 * content of the file TLS points to, OPT), the signals it receives and its exit. `mode` says how
 * it takes SIGTERM: `quick` (exits 0), `slow` (exits 7 after 300 ms), `stubborn` (ignores it),
 * `exit3` (exits 3 on its own after 300 ms, without any signal).
 */
const COMMAND = `
const fs = require('fs');
const [log, mode] = process.argv.slice(1);
const note = (event) => fs.appendFileSync(log, JSON.stringify({ pid: process.pid, ...event }) + '\\n');
const file = () => (process.env.TLS && fs.existsSync(process.env.TLS) ? fs.readFileSync(process.env.TLS, 'utf8') : null);
// Handlers first: a test may signal the command as soon as its start is noted.
process.on('SIGHUP', () => note({ event: 'SIGHUP', file: file() }));
process.on('SIGTERM', () => {
  note({ event: 'SIGTERM' });
  if (mode === 'quick') process.exit(0);
  if (mode === 'slow') setTimeout(() => process.exit(7), 300);
});
process.on('exit', () => note({ event: 'exit' }));
note({ event: 'start', DB: process.env.DB ?? null, TLS: process.env.TLS ?? null, file: file(), OPT: process.env.OPT ?? null });
if (mode === 'exit3') setTimeout(() => process.exit(3), 300);
setInterval(() => {}, 1000);
`;

interface Noted {
  readonly pid: number;
  readonly event: string;
  readonly DB?: string | null;
  readonly TLS?: string | null;
  readonly file?: string | null;
  readonly OPT?: string | null;
}

/** An in-memory store that also answers latestVersions, counting each poll. */
class WatchableBackend extends FakeBackend {
  readonly polls: string[][] = [];
  failPolls: Error | undefined;
  /** The same store, seen as the watch sees it. */
  readonly watched: WatchBackend;

  constructor() {
    super(0);
    const store = Object.assign(this.store, {
      latestVersions: (names: readonly string[]) => {
        this.polls.push([...names]);
        if (this.failPolls !== undefined) return Promise.reject(this.failPolls);
        return Promise.resolve(
          new Map(
            names.map((name) => [
              name,
              [...this.items.values()]
                .filter((item) => item.name === name)
                .map((item) => item.version)
                .sort()
                .at(-1),
            ]),
          ),
        );
      },
    });
    this.watched = { store, keys: this.keys };
  }

  remove(name: string, version: number): void {
    this.items.delete(refKey({ name, version: v(version) }));
  }
}

interface Run {
  readonly backend: WatchableBackend;
  readonly signals: EventEmitter;
  readonly lines: string[];
  readonly outcome: Promise<Awaited<ReturnType<typeof runLauncher>>>;
  readonly dir: string;
  /** What the commands noted so far. */
  noted(): Noted[];
  /** Wait until the commands noted something that `done` accepts. */
  until(done: (noted: Noted[]) => boolean, what: string): Promise<Noted[]>;
}

function scratch(t: { teardown(fn: () => void): void }) {
  const dir = mkdtempSync(join(tmpdir(), 'credexec-watch-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function launch(
  t: { teardown(fn: () => void | Promise<void>): void },
  manifest: Record<string, unknown>,
  setup: (backend: WatchableBackend) => void,
  options: {
    mode?: 'quick' | 'slow' | 'stubborn' | 'exit3';
    settings?: Partial<WatchSettings>;
    observer?: LaunchObserver;
  } = {},
): Run {
  const dir = scratch(t);
  const backend = new WatchableBackend();
  setup(backend);
  writeFileSync(join(dir, 'm.json'), JSON.stringify(manifest));
  const log = join(dir, 'log');
  writeFileSync(log, '');
  const { io, signals, warnings: lines } = fakeIo(dir);
  const settings: WatchSettings = {
    intervalMs: INTERVAL_MS,
    defaultPolicy: RESTART,
    defaultPolicySource: '--on-change',
    killSignal: 'SIGTERM',
    killTimeoutMs: 2_000,
    splayMs: 0,
    ...options.settings,
  };
  const outcome = runLauncher(
    backend,
    {
      command: process.execPath,
      args: ['-e', COMMAND, log, options.mode ?? 'quick'],
      manifests: [join(dir, 'm.json')],
      context: EMPTY_CONTEXT,
      allowVars: [],
      pristine: true,
      supervisor: watchSupervisor({
        ...settings,
        backend: backend.watched,
        warn: io.warn,
        random: () => 0.5,
      }),
      ...(options.observer === undefined ? {} : { observer: options.observer }),
    },
    io,
  );
  // Whatever the test did, nothing outlives it.
  t.teardown(async () => {
    signals.emit('SIGINT');
    await outcome.catch(() => undefined);
  });
  const noted = () =>
    readFileSync(log, 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Noted);
  return {
    backend,
    signals,
    lines,
    outcome,
    dir,
    noted,
    async until(done, what) {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const seen = noted();
        if (done(seen)) return seen;
        if (Date.now() > deadline)
          throw new Error(`timed out waiting for ${what}: ${JSON.stringify(seen)}`);
        await sleep(10);
      }
    },
  };
}

const starts = (noted: readonly Noted[]) => noted.filter(({ event }) => event === 'start');
const events = (noted: readonly Noted[]) => noted.map(({ event }) => event);

/** Stop the run (SIGTERM, forwarded) and return how it ended. */
async function stop(run: Run) {
  run.signals.emit('SIGTERM');
  return run.outcome;
}

test('a new version reaches the command by a restart: one line, the old command gone before the new one starts', async (t) => {
  const run = launch(t, { DB: 'app.db' }, (backend) => backend.add('app.db', '1', 'first'));
  await run.until((noted) => starts(noted).length === 1, 'the first start');
  run.backend.add('app.db', '2', 'second');
  const noted = await run.until((seen) => starts(seen).length === 2, 'the restart');
  t.deepEqual(
    noted.map(({ event, DB }) => [event, DB ?? null]),
    [
      ['start', 'first'],
      ['SIGTERM', null],
      ['exit', null],
      ['start', 'second'],
    ],
  );
  t.not(noted[0]!.pid, noted[3]!.pid);
  t.deepEqual(run.lines, [
    'credexec: DB: app.db 0000000000000000001 -> 0000000000000000002; restarting (SIGTERM)',
  ]);
  t.deepEqual(await stop(run), { code: 0 });
});

test('several changes in one poll make one restart, and a template is changed by any of its references', async (t) => {
  const run = launch(
    t,
    { DB: 'app.db', DSN: { template: 'u={{app.user}};p={{app.db}}' }, OTHER: 'app.other' },
    (backend) => {
      backend.add('app.db', '1', 'db1');
      backend.add('app.user', '1', 'user1');
      backend.add('app.other', '1', 'other1');
    },
  );
  await run.until((noted) => starts(noted).length === 1, 'the first start');
  // Held back from the poll until all are there: one poll sees both.
  run.backend.failPolls = new Error('paused');
  await sleep(INTERVAL_MS * 2);
  run.backend.add('app.db', '2', 'db2');
  run.backend.add('app.user', '5', 'user5');
  run.lines.length = 0;
  run.backend.failPolls = undefined;
  const noted = await run.until((seen) => starts(seen).length === 2, 'the restart');
  await sleep(INTERVAL_MS * 4);
  t.is(starts(run.noted()).length, 2, 'one restart');
  t.is(noted.at(-1)!.DB, 'db2');
  t.deepEqual(
    run.lines.filter((line) => !line.includes('paused')),
    [
      'credexec: DB: app.db 0000000000000000001 -> 0000000000000000002; restarting (SIGTERM)',
      'credexec: DSN: {{app.user}} 0000000000000000001 -> 0000000000000000005; restarting (SIGTERM)',
      'credexec: DSN: {{app.db}} 0000000000000000001 -> 0000000000000000002; restarting (SIGTERM)',
    ],
  );
  await stop(run);
});

test('a new version that cannot be resolved leaves the command alone, says why once per poll, and is applied once it can be', async (t) => {
  const run = launch(t, { DB: 'app.db' }, (backend) => backend.add('app.db', '1', 'first'));
  await run.until((noted) => starts(noted).length === 1, 'the first start');
  const calls = run.backend.calls.decrypt;
  // Sealed under another encryption context: the key service refuses it.
  run.backend.add('app.db', '2', 'broken', { other: 'context' });
  while (run.lines.length < 2) await sleep(10);
  t.is(starts(run.noted()).length, 1);
  t.is(
    run.lines[0],
    'credexec: DB: cannot apply the new version of app.db: cannot decrypt credential "app.db" version 0000000000000000002: the encryption context does not match; the command keeps running; retrying at the next poll',
  );
  t.is(run.lines[1], run.lines[0]);
  t.true(run.backend.calls.decrypt > calls);
  run.backend.add('app.db', '3', 'third');
  const noted = await run.until((seen) => starts(seen).length === 2, 'the restart');
  t.is(noted.at(-1)!.DB, 'third');
  t.is(
    run.lines.at(-1),
    'credexec: DB: app.db 0000000000000000001 -> 0000000000000000003; restarting (SIGTERM)',
  );
  await stop(run);
});

test('an idle poll reads the versions of the latest entries only: no item, no decrypt; pinned entries are never polled', async (t) => {
  const run = launch(
    t,
    {
      DB: 'app.db',
      PIN: { name: 'app.pin', version: '1' },
      T: { template: '{{app.a}}{{app.b@1}}' },
    },
    (backend) => {
      backend.add('app.db', '1', 'db');
      backend.add('app.pin', '1', 'pin');
      backend.add('app.a', '1', 'a');
      backend.add('app.b', '1', 'b');
    },
  );
  await run.until((noted) => starts(noted).length === 1, 'the first start');
  const { getLatest, getMany, decrypt } = run.backend.calls;
  const before = { getLatest: getLatest.length, getMany: getMany.length, decrypt };
  while (run.backend.polls.length < 5) await sleep(10);
  t.deepEqual(
    {
      getLatest: run.backend.calls.getLatest.length,
      getMany: run.backend.calls.getMany.length,
      decrypt: run.backend.calls.decrypt,
    },
    before,
  );
  for (const poll of run.backend.polls) t.deepEqual(poll, ['app.db', 'app.a']);
  t.deepEqual(run.lines, []);
  await stop(run);
});

test('a command that does not stop within the kill timeout is killed, with one line', async (t) => {
  const run = launch(t, { DB: 'app.db' }, (backend) => backend.add('app.db', '1', 'first'), {
    mode: 'stubborn',
    settings: { killTimeoutMs: 200, killSignal: 'SIGTERM' },
  });
  await run.until((noted) => starts(noted).length === 1, 'the first start');
  run.backend.add('app.db', '2', 'second');
  const noted = await run.until((seen) => starts(seen).length === 2, 'the restart');
  t.deepEqual(events(noted), ['start', 'SIGTERM', 'start']);
  t.deepEqual(run.lines, [
    'credexec: DB: app.db 0000000000000000001 -> 0000000000000000002; restarting (SIGTERM)',
    'credexec: the command did not stop within 200 ms of SIGTERM; sending SIGKILL',
  ]);
  run.signals.emit('SIGINT');
  t.deepEqual(await run.outcome, { signal: 'SIGINT' });
});

test('SIGTERM while a restart waits for the command to stop ends everything as that command ends; nothing new starts', async (t) => {
  const run = launch(t, { DB: 'app.db' }, (backend) => backend.add('app.db', '1', 'first'), {
    mode: 'slow',
  });
  await run.until((noted) => starts(noted).length === 1, 'the first start');
  run.backend.add('app.db', '2', 'second');
  await run.until((noted) => events(noted).includes('SIGTERM'), 'the restart to stop it');
  run.signals.emit('SIGTERM');
  t.deepEqual(await run.outcome, { code: 7 });
  await sleep(INTERVAL_MS * 3);
  // The forwarded SIGTERM reached the old command, once; no command started after it.
  t.deepEqual(events(run.noted()), ['start', 'SIGTERM', 'SIGTERM', 'exit']);
  t.deepEqual(
    readdirSync(run.dir).filter((name) => name.startsWith('credexec-')),
    [],
  );
});

test('the command exiting on its own ends the run with its status, and the polls stop', async (t) => {
  const run = launch(t, { DB: 'app.db' }, (backend) => backend.add('app.db', '1', 'first'), {
    mode: 'exit3',
  });
  t.deepEqual(await run.outcome, { code: 3 });
  const polls = run.backend.polls.length;
  await sleep(INTERVAL_MS * 3);
  t.is(run.backend.polls.length, polls);
  t.deepEqual(events(run.noted()), ['start', 'exit']);
});

test('signal: rewrites the secret file in place and signals the command once, without a restart', async (t) => {
  const run = launch(
    t,
    { DB: 'app.db', TLS: { name: 'app.tls', file: true, onChange: 'signal:SIGHUP' } },
    (backend) => {
      backend.add('app.db', '1', 'db');
      backend.add('app.tls', '1', 'cert-1');
    },
  );
  const [first] = await run.until((noted) => starts(noted).length === 1, 'the first start');
  t.is(first!.file, 'cert-1');
  run.backend.add('app.tls', '2', 'cert-2');
  await run.until((noted) => events(noted).includes('SIGHUP'), 'the reload');
  await sleep(INTERVAL_MS * 3);
  const noted = run.noted();
  t.deepEqual(
    noted.map(({ event, file }) => [event, file]),
    [
      ['start', 'cert-1'],
      ['SIGHUP', 'cert-2'],
    ],
  );
  t.is(noted[1]!.pid, first!.pid);
  t.deepEqual(run.lines, [
    'credexec: TLS: app.tls 0000000000000000001 -> 0000000000000000002; file rewritten, sending SIGHUP',
  ]);
  // The file is where the command was told it is, and the only one in its directory.
  t.is(readFileSync(first!.TLS!, 'utf8'), 'cert-2');
  await stop(run);
  t.false(existsSync(first!.TLS!));
});

test('"onChange": "none" reports a change once and leaves the command alone', async (t) => {
  const run = launch(t, { DB: { name: 'app.db', onChange: 'none' } }, (backend) =>
    backend.add('app.db', '1', 'first'),
  );
  await run.until((noted) => starts(noted).length === 1, 'the first start');
  run.backend.add('app.db', '2', 'second');
  while (run.lines.length === 0) await sleep(10);
  await sleep(INTERVAL_MS * 4);
  t.deepEqual(run.lines, [
    'credexec: DB: app.db 0000000000000000001 -> 0000000000000000002; not applied (onChange none)',
  ]);
  t.is(starts(run.noted()).length, 1);
  await stop(run);
});

test('a required credential that disappears keeps the command and is warned about at every poll', async (t) => {
  const run = launch(t, { DB: 'app.db' }, (backend) => backend.add('app.db', '1', 'first'));
  await run.until((noted) => starts(noted).length === 1, 'the first start');
  run.backend.remove('app.db', 1);
  while (run.lines.length < 3) await sleep(10);
  t.deepEqual(
    new Set(run.lines),
    new Set([
      'credexec: warning: DB: app.db has no version in the store any more; the command keeps running with 0000000000000000001',
    ]),
  );
  t.is(starts(run.noted()).length, 1);
  await stop(run);
});

test('an optional credential that disappears restarts the command without its variable', async (t) => {
  const run = launch(t, { DB: 'app.db', OPT: { name: 'app.opt', optional: true } }, (backend) => {
    backend.add('app.db', '1', 'db');
    backend.add('app.opt', '1', 'opt');
  });
  await run.until((noted) => starts(noted).length === 1, 'the first start');
  run.backend.remove('app.opt', 1);
  const noted = await run.until((seen) => starts(seen).length === 2, 'the restart');
  t.deepEqual(
    starts(noted).map(({ DB, OPT }) => [DB, OPT]),
    [
      ['db', 'opt'],
      ['db', null],
    ],
  );
  t.deepEqual(run.lines, [
    'credexec: OPT: app.opt 0000000000000000001 -> (none); restarting (SIGTERM)',
  ]);
  await stop(run);
});

test('a poll that fails says so and keeps the command', async (t) => {
  const run = launch(t, { DB: 'app.db' }, (backend) => backend.add('app.db', '1', 'first'));
  await run.until((noted) => starts(noted).length === 1, 'the first start');
  run.backend.failPolls = new Error('table credential-store: throttled');
  while (run.lines.length === 0) await sleep(10);
  t.is(
    run.lines[0],
    'credexec: warning: cannot poll for new versions: table credential-store: throttled; the command keeps running; retrying at the next poll',
  );
  t.is(starts(run.noted()).length, 1);
  await stop(run);
});

test('the observer sees one started and one replaced or ended per command', async (t) => {
  const calls: string[] = [];
  const observer: LaunchObserver = {
    resolved: (entries) =>
      calls.push(`resolved ${entries.map(({ variable, version }) => `${variable}@${version}`)}`),
    started: () => calls.push('started'),
    replaced: (exit) => calls.push(`replaced ${JSON.stringify(exit)}`),
    ended: (exit) => calls.push(`ended ${JSON.stringify(exit)}`),
    failed: () => calls.push('failed'),
  };
  const run = launch(t, { DB: 'app.db' }, (backend) => backend.add('app.db', '1', 'first'), {
    observer,
  });
  await run.until((noted) => starts(noted).length === 1, 'the first start');
  run.backend.add('app.db', '2', 'second');
  await run.until((noted) => starts(noted).length === 2, 'the restart');
  await stop(run);
  t.deepEqual(calls, [
    'resolved DB@0000000000000000001',
    'started',
    'replaced {"code":0}',
    'resolved DB@0000000000000000002',
    'started',
    'ended {"code":0}',
  ]);
});

test('a default signal: policy for environment entries is refused before anything is read', async (t) => {
  const policy: ChangePolicy = { kind: 'signal', signal: 'SIGHUP' };
  const run = launch(t, { DB: 'app.db' }, (backend) => backend.add('app.db', '1', 'first'), {
    settings: { defaultPolicy: policy },
  });
  const error = await t.throwsAsync(run.outcome);
  t.is(
    error?.message,
    '--on-change signal:SIGHUP cannot apply to DB: their values are environment variables, which cannot change inside a running process; give them "onChange": "restart" (or "none"), or make them "file": true',
  );
  t.deepEqual(run.backend.calls.getLatest, []);
  t.deepEqual(run.noted(), []);
});
