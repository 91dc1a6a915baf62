import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import { runCli } from '../support/cli.js';
import { runLauncherCli, secretDirs, withWorld } from '../support/launcher.js';
import { SERVICE, startWatching, starts } from '../support/watch-cli.js';

/** `credexec --watch` through the real bin, local backend. */
const CANARY_1 = 'canary-Watch-one-7Qz';
const CANARY_2 = 'canary-Watch-two-8Rw';
const V = (n: number) => n.toString().padStart(19, '0');

function noCanary(t: { false(value: boolean, message?: string): void }, text: string) {
  for (const canary of [CANARY_1, CANARY_2]) t.false(text.includes(canary), `${canary} in ${text}`);
}

test('a put reaches the running command by a restart; stderr says so without the value; the exit status passes through', async (t) => {
  await withWorld(async (world) => {
    await world.put('app.db', CANARY_1);
    world.manifest('credexec.env', 'DB=app.db\nPINNED=app.db@1\n');
    const { started, run } = startWatching(
      t,
      ['--watch=100ms', '--', 'node', '-e', SERVICE],
      world,
    );
    await run.until((lines) => starts(lines).length === 1, 'the first start');
    await world.put('app.db', CANARY_2);
    const lines = await run.until((seen) => starts(seen).length === 2, 'the restart');
    t.deepEqual(
      starts(lines).map(({ DB }) => DB),
      [CANARY_1, CANARY_2],
    );
    t.is(run.stderr, `credexec: DB: app.db ${V(1)} -> ${V(2)}; restarting (SIGTERM)\n`);
    // Forwarded to the new command, which exits 4: so does credexec.
    started.process.kill('SIGUSR2');
    const result = await started.result;
    t.is(result.exitCode, 4);
    noCanary(t, result.stderr);
    t.deepEqual(secretDirs(world), []);
  });
});

test('signal: rewrites the secret file in place and sends the signal once; the command is not restarted', async (t) => {
  await withWorld(async (world) => {
    await world.put('app.tls', CANARY_1);
    await world.put('app.db', 'db-value');
    world.manifest(
      'app.json',
      JSON.stringify({
        DB: 'app.db',
        TLS: { name: 'app.tls', file: true, onChange: 'signal:SIGHUP' },
      }),
    );
    const { started, run } = startWatching(
      t,
      ['-m', 'app.json', '--watch=100ms', '--', 'node', '-e', SERVICE],
      world,
    );
    await run.until((lines) => starts(lines).length === 1, 'the first start');
    await world.put('app.tls', CANARY_2);
    await run.until((lines) => lines.some(({ event }) => event === 'SIGHUP'), 'the reload');
    await sleep(400);
    const lines = run.lines();
    t.deepEqual(
      lines.map(({ event, TLS }) => [event, TLS]),
      [
        ['start', CANARY_1],
        ['SIGHUP', CANARY_2],
      ],
    );
    t.is(lines[0]!.pid, lines[1]!.pid);
    t.is(run.stderr, `credexec: TLS: app.tls ${V(1)} -> ${V(2)}; file rewritten, sending SIGHUP\n`);
    started.process.kill('SIGTERM');
    const result = await started.result;
    t.is(result.exitCode, 0);
    noCanary(t, result.stderr);
    t.deepEqual(secretDirs(world), []);
  });
});

test('with --redact, the old and the new value are both redacted after a rotation', async (t) => {
  await withWorld(async (world) => {
    await world.put('app.tls', CANARY_1);
    world.manifest(
      'app.json',
      JSON.stringify({ TLS: { name: 'app.tls', file: true, onChange: 'signal:SIGHUP' } }),
    );
    const { started, run } = startWatching(
      t,
      ['-m', 'app.json', '--watch=100ms', '--redact', '--', 'node', '-e', SERVICE],
      world,
    );
    await run.until((lines) => starts(lines).length === 1, 'the first start');
    await world.put('app.tls', CANARY_2);
    await run.until((lines) => lines.some(({ event }) => event === 'SIGHUP'), 'the reload');
    started.process.kill('SIGTERM');
    const result = await started.result;
    t.is(result.exitCode, 0, result.stderr);
    const lines = run.lines();
    t.deepEqual(
      lines.map(({ event, TLS, before }) => [event, TLS, before]),
      [
        ['start', '<redacted:TLS>', undefined],
        ['SIGHUP', '<redacted:TLS>', '<redacted:TLS>'],
      ],
    );
    noCanary(t, result.stdout + result.stderr);
  });
});

test('a manifest\'s "watch" setting turns it on; --audit-log gets one start and one end per command, under one run id', async (t) => {
  await withWorld(async (world) => {
    await world.put('app.db', CANARY_1);
    world.manifest(
      'app.json',
      JSON.stringify({ $credexec: { watch: '100ms', killTimeout: '2s' }, DB: 'app.db' }),
    );
    const log = join(world.dir, 'audit.log');
    const { started, run } = startWatching(
      t,
      ['-m', 'app.json', '--audit-log', log, '--', 'node', '-e', SERVICE],
      world,
    );
    await run.until((lines) => starts(lines).length === 1, 'the first start');
    await world.put('app.db', CANARY_2);
    await run.until((lines) => starts(lines).length === 2, 'the restart');
    started.process.kill('SIGTERM');
    t.is((await started.result).exitCode, 0);
    const records = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map(
        (line) =>
          JSON.parse(line) as {
            event: string;
            runId: string;
            entries?: { version: string }[];
            exit?: unknown;
          },
      );
    t.deepEqual(
      records.map(({ event, entries, exit }) => [event, entries?.[0]?.version, exit]),
      [
        ['start', V(1), undefined],
        ['end', undefined, { code: 0, signal: null }],
        ['start', V(2), undefined],
        ['end', undefined, { code: 0, signal: null }],
      ],
    );
    t.is(new Set(records.map(({ runId }) => runId)).size, 1);
    noCanary(t, readFileSync(log, 'utf8'));
  });
});

test('check --watch-plan lists the watched entries and their policies without reading the store', async (t) => {
  await withWorld(async (world) => {
    world.manifest(
      'app.json',
      JSON.stringify({
        DB: 'app.db',
        TLS: { name: 'app.tls', file: true, onChange: 'signal:SIGHUP' },
        OLD: { name: 'app.old', version: '2' },
      }),
    );
    // No store at all: the plan is the manifest's.
    const result = await runCli(
      ['check', '-m', 'app.json', '--watch-plan', '--on-change', 'none'],
      {
        env: { ...world.env, CREDEXEC_LOCAL_DIR: join(world.dir, 'nowhere') },
        cwd: world.cwd,
      },
    );
    t.is(result.exitCode, 0, result.stderr);
    t.is(
      result.stdout,
      [
        'VARIABLE  CREDENTIAL                   WATCHED      ON CHANGE',
        'DB        app.db                       yes          none (reported only), default',
        'TLS       app.tls                      yes          signal:SIGHUP (file rewritten)',
        'OLD       app.old@0000000000000000002  no (pinned)  -',
        "2 credential(s) watched: each poll reads 2 version(s) (aws: 2 Query request(s) of one item's name and version), and no key service call while nothing changes",
        '',
      ].join('\n'),
    );
    const refused = await runCli(
      ['check', '-m', 'app.json', '--watch-plan', '--on-change', 'signal:HUP'],
      { env: world.env, cwd: world.cwd },
    );
    t.is(refused.exitCode, 2);
    t.is(
      refused.stderr.split('\n')[0],
      'credexec: --on-change signal:SIGHUP cannot apply to DB: their values are environment variables, which cannot change inside a running process; give them "onChange": "restart" (or "none"), or make them "file": true',
    );
  });
});

test('what --watch cannot do is refused with one line and exit 2, before anything is read', async (t) => {
  await withWorld(async (world) => {
    await world.put('app.db', CANARY_1);
    world.manifest('credexec.env', 'DB=app.db\n');
    const cases: [string[], Record<string, string>, string][] = [
      [
        ['--watch=2s'],
        {},
        'credexec: --watch=2s: the interval must be at least 5 s, so that polling stays cheap',
      ],
      [
        ['--watch=soon'],
        {},
        'credexec: --watch must be a whole number above 0 and a unit: ms, s, m, h or d (e.g. 24h), not "soon"',
      ],
      [
        ['--splay', '10s'],
        {},
        'credexec: --splay goes with --watch (or "watch" in a JSON manifest\'s "$credexec" settings)',
      ],
      [
        ['--watch', '--kill-signal', 'SIGNOPE'],
        {},
        'credexec: --kill-signal must be a signal name (e.g. SIGTERM), not "SIGNOPE"',
      ],
      [
        ['--watch', '--on-change', 'reload'],
        {},
        'credexec: --on-change must be restart, none or signal:NAME (e.g. signal:SIGHUP), not "reload"',
      ],
      [
        ['--watch', '--on-change', 'signal:HUP'],
        {},
        'credexec: --on-change signal:SIGHUP cannot apply to DB: their values are environment variables, which cannot change inside a running process; give them "onChange": "restart" (or "none"), or make them "file": true',
      ],
      [
        ['--watch=1ms'],
        { CREDEXEC_WATCH_MIN_INTERVAL_MS: '0' },
        'credexec: CREDEXEC_WATCH_MIN_INTERVAL_MS must be a whole number of milliseconds above 0',
      ],
    ];
    for (const [flags, env, line] of cases) {
      const result = await runLauncherCli(
        world,
        [...flags, '--', 'node', '-e', 'process.exit(9)'],
        env,
      );
      t.is(result.exitCode, 2, `${flags.join(' ')}: ${result.stderr}`);
      t.is(result.stderr.split('\n')[0], line);
      noCanary(t, result.stderr);
    }
  });
});

test('--watch with --exec is refused: the watch needs credexec beside the command', async (t) => {
  await withWorld(async (world) => {
    await world.put('app.db', CANARY_1);
    world.manifest('credexec.env', 'DB=app.db\n');
    const result = await runLauncherCli(world, ['--watch', '--exec', '--', 'true']);
    t.is(result.exitCode, 2);
    t.regex(
      result.stderr.split('\n')[0]!,
      /^credexec: (--exec cannot be combined with --watch \(restarts the command when a secret changes\): it needs credexec to keep running beside the command, and --exec replaces credexec with the command|--exec needs Node ≥ 22\.15 .*)$/,
    );
  });
});
