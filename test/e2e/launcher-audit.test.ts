import { spawn } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { auditRecordProblems } from '../../src/audit/audit-schema.js';
import { BIN } from '../support/cli.js';
import {
  runLauncherCli,
  startCli,
  waitForFile,
  withWorld,
  type LauncherWorld,
} from '../support/launcher.js';

const VALUE = 'audit-value-canary-Zq81';
const ARGUMENT = 'audit-argument-canary-Kp42';

type AuditLine = Record<string, unknown> & {
  event: string;
  runId: string;
  entries: Record<string, unknown>[] | null;
};

/** Every line of `text` as a record of the schema (the test fails on any other line). */
function records(t: import('ava').ExecutionContext, text: string): AuditLine[] {
  t.true(text === '' || text.endsWith('\n'), 'the log ends with a complete line');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const record = JSON.parse(line) as AuditLine;
      t.deepEqual(auditRecordProblems(record), [], line);
      return record;
    });
}

const readLog = (t: import('ava').ExecutionContext, path: string) =>
  records(t, readFileSync(path, 'utf8'));

async function withSecrets(body: (world: LauncherWorld) => Promise<void>) {
  await withWorld(async (world) => {
    await world.put('app.db', 'old-db-value', '1');
    await world.put('app.db', VALUE, '2');
    await world.put('app.key', `${VALUE}-file`, '1');
    world.manifest(
      'app.json',
      JSON.stringify({
        DB: 'app.db',
        DB_OLD: { name: 'app.db', version: '1' },
        KEY_FILE: { name: 'app.key', file: true },
        SENTRY: { name: 'app.sentry', optional: true },
      }),
    );
    await body(world);
  });
}

const ENTRY = { optional: false, file: false, error: null, source: 'store', status: 'resolved' };

test('a run appends a start record once the command runs and an end record when it ends, 0600, never a value or an argument', async (t) => {
  await withSecrets(async (world) => {
    const log = join(world.dir, 'audit.log');
    const script = `echo $$; echo ${ARGUMENT} "$DB" >/dev/null; exit 3`;
    const result = await runLauncherCli(world, [
      '--audit-log',
      log,
      '-m',
      'app.json',
      '--',
      'sh',
      '-c',
      script,
    ]);
    t.is(result.exitCode, 3);
    t.is(result.stderr, '');
    const text = readFileSync(log, 'utf8');
    t.is(statSync(log).mode & 0o777, 0o600);
    for (const canary of [VALUE, ARGUMENT, 'old-db-value', script]) t.false(text.includes(canary));
    const [start, end, ...rest] = readLog(t, log);
    t.deepEqual(rest, []);
    const store = join(world.dir, 'store');
    const pid = Number(result.stdout.trim());
    t.like(start, {
      version: 1,
      event: 'start',
      command: 'sh',
      pid,
      uid: 0,
      manifests: [join(world.cwd, 'app.json')],
      backend: {
        name: 'local',
        table: 'credential-store',
        store: `store file ${join(store, 'credential-store.json')}`,
        keyService: `local master key ${join(store, 'master.key')}`,
        keyId: null,
      },
    });
    t.deepEqual(start!.entries, [
      {
        ...ENTRY,
        variable: 'DB',
        credential: 'app.db',
        requestedVersion: null,
        version: '0000000000000000002',
      },
      {
        ...ENTRY,
        variable: 'DB_OLD',
        credential: 'app.db',
        requestedVersion: '0000000000000000001',
        version: '0000000000000000001',
      },
      {
        ...ENTRY,
        variable: 'KEY_FILE',
        credential: 'app.key',
        requestedVersion: null,
        version: '0000000000000000001',
        file: true,
      },
      {
        ...ENTRY,
        variable: 'SENTRY',
        credential: 'app.sentry',
        requestedVersion: null,
        version: null,
        status: 'absent',
        optional: true,
      },
    ]);
    t.like(end, {
      event: 'end',
      runId: start!.runId,
      command: 'sh',
      pid,
      exit: { code: 3, signal: null },
    });
    t.regex(start!.runId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    t.is(start!.credexecPid, end!.credexecPid);
    t.true(Date.parse(end!.time as string) >= Date.parse(start!.time as string));
    t.is(end!.resolutionMs, start!.resolutionMs);

    // A second run appends to the same log.
    const again = await runLauncherCli(world, ['--audit-log', log, '-m', 'app.json', '--', 'true']);
    t.is(again.exitCode, 0);
    const all = readLog(t, log);
    t.deepEqual(
      all.map((record) => record.event),
      ['start', 'end', 'start', 'end'],
    );
    t.not(all[2]!.runId, start!.runId);
  });
});

test('CREDEXEC_AUDIT_LOG names the log, --audit-log wins over it, and an empty one keeps no log', async (t) => {
  await withSecrets(async (world) => {
    const fromEnv = join(world.dir, 'env.log');
    const fromFlag = join(world.dir, 'flag.log');
    const run = (args: string[], env: Record<string, string>) =>
      runLauncherCli(world, [...args, '-m', 'app.json', '--', 'true'], env);
    t.is((await run([], { CREDEXEC_AUDIT_LOG: fromEnv })).exitCode, 0);
    t.deepEqual(
      readLog(t, fromEnv).map((record) => record.event),
      ['start', 'end'],
    );
    t.is((await run(['--audit-log', fromFlag], { CREDEXEC_AUDIT_LOG: fromEnv })).exitCode, 0);
    t.is(readLog(t, fromEnv).length, 2, 'the variable was not used');
    t.is(readLog(t, fromFlag).length, 2);
    const before = readFileSync(fromEnv, 'utf8');
    const off = await run([], { CREDEXEC_AUDIT_LOG: '' });
    t.is(off.exitCode, 0);
    t.is(readFileSync(fromEnv, 'utf8'), before);
    // check resolves but starts nothing: it keeps no record.
    const check = await runLauncherCli(world, ['check', '-m', 'app.json'], {
      CREDEXEC_AUDIT_LOG: fromEnv,
    });
    t.is(check.exitCode, 0, check.stderr);
    t.is(readFileSync(fromEnv, 'utf8'), before);
  });
});

test('--audit-log - writes the records to stderr, leaving stdout to the command, through either parser', async (t) => {
  await withSecrets(async (world) => {
    // --pristine=true is left to the full (yargs) parser, which sees `-` as its stdin marker.
    for (const extra of [[], ['--pristine=true']]) {
      const result = await runLauncherCli(world, [
        ...extra,
        '--audit-log',
        '-',
        '-m',
        'app.json',
        '--',
        'sh',
        '-c',
        `echo child-output ${ARGUMENT}`,
      ]);
      t.is(result.exitCode, 0, result.stderr);
      t.is(result.stdout, `child-output ${ARGUMENT}\n`);
      t.deepEqual(
        records(t, result.stderr).map((record) => record.event),
        ['start', 'end'],
      );
      t.false(result.stderr.includes(VALUE));
      t.false(result.stderr.includes(ARGUMENT));
    }
    // A failure: the record comes first, then credexec's own message.
    world.manifest('gone.env', 'GONE=app.gone\n');
    const failed = await runLauncherCli(world, [
      '--audit-log',
      '-',
      '-m',
      'gone.env',
      '--',
      'true',
    ]);
    t.is(failed.exitCode, 125);
    const [record, ...messages] = failed.stderr.split('\n');
    t.like(records(t, `${record}\n`)[0], { event: 'failed', failure: { code: 'RESOLVE' } });
    t.deepEqual(messages, [
      'credexec: 1 secret(s) could not be resolved; nothing was started:',
      `  GONE: app.gone — credential "app.gone" not found in store file ${join(world.dir, 'store', 'credential-store.json')}`,
      '',
    ]);
    const empty = await runLauncherCli(world, ['--audit-log=', '-m', 'app.json', '--', 'true']);
    t.is(empty.exitCode, 2);
    t.is(empty.stderr, 'credexec: --audit-log needs a PATH, or - for standard error\n');
  });
});

test('a run that starts nothing is one failed record: what failed, with codes and the exit status, never a value', async (t) => {
  await withSecrets(async (world) => {
    const log = join(world.dir, 'audit.log');
    world.manifest('broken.env', 'DB=app.db\nGONE=app.gone\nOLD=app.db@7\n');
    world.manifest('bad.env', 'not a line\nDB=app.db\n');
    const cases: [string[], number][] = [
      [['-m', 'broken.env', '--', 'sh', '-c', `echo ${ARGUMENT}`], 125],
      [['-m', 'bad.env', '--', 'true'], 125],
      [['-m', 'app.json', '--', 'no-such-command-here'], 127],
      [['-m', 'app.json', '--', world.dir], 126],
    ];
    for (const [args, status] of cases) {
      const result = await runLauncherCli(world, ['--audit-log', log, ...args]);
      t.is(result.exitCode, status, result.stderr);
    }
    const text = readFileSync(log, 'utf8');
    t.false(text.includes(VALUE));
    t.false(text.includes(ARGUMENT));
    const [resolve, manifest, notFound, notExecutable, ...rest] = readLog(t, log);
    t.deepEqual(rest, []);
    t.like(resolve, {
      event: 'failed',
      command: 'sh',
      failure: { code: 'RESOLVE', reason: null, variable: null, problems: null },
      exit: { code: 125, signal: null },
    });
    t.deepEqual(
      resolve!.entries!.map(({ variable, status, version, error }) => ({
        variable,
        status,
        version,
        error,
      })),
      [
        { variable: 'DB', status: 'resolved', version: '0000000000000000002', error: null },
        {
          variable: 'GONE',
          status: 'failed',
          version: null,
          error: { code: 'NOT_FOUND', reason: null },
        },
        {
          variable: 'OLD',
          status: 'failed',
          version: null,
          error: { code: 'NOT_FOUND', reason: null },
        },
      ],
    );
    t.like(manifest, {
      event: 'failed',
      entries: null,
      failure: { code: 'MANIFEST', reason: null, problems: [{ file: 'bad.env', line: 1 }] },
      exit: { code: 125, signal: null },
    });
    t.like(notFound, {
      command: 'no-such-command-here',
      failure: { code: 'SPAWN', reason: 'not-found' },
      exit: { code: 127, signal: null },
    });
    t.is(notFound!.entries!.length, 4, 'the entries had resolved');
    t.like(notExecutable, {
      failure: { code: 'SPAWN', reason: 'not-executable' },
      exit: { code: 126, signal: null },
    });
  });
});

test('a log that cannot be opened stops the launch with 125 before anything is resolved', async (t) => {
  await withSecrets(async (world) => {
    world.manifest('gone.env', 'GONE=app.gone\n');
    const marker = join(world.dir, 'ran');
    const missing = join(world.dir, 'no-such-dir', 'audit.log');
    const shared = join(world.dir, 'shared.log');
    writeFileSync(shared, '');
    chmodSync(shared, 0o666);
    for (const [log, message] of [
      [missing, `credexec: cannot open audit log ${missing}: ENOENT`],
      [
        shared,
        `credexec: audit log ${shared} is writable by group or others (mode 0666); refusing to use it — run \`chmod go-w ${shared}\``,
      ],
    ] as const) {
      const result = await runLauncherCli(world, [
        '--audit-log',
        log,
        '-m',
        'gone.env',
        '--',
        'touch',
        marker,
      ]);
      t.is(result.exitCode, 125);
      // Not the resolution failure of app.gone: nothing was resolved.
      t.is(result.stderr, `${message}\n`);
      t.false(existsSync(marker));
    }
    t.is(readFileSync(shared, 'utf8'), '');
  });
});

test('records that cannot be written are a warning each, and the command runs and exits as always', async (t) => {
  await withSecrets(async (world) => {
    const log = join(world.dir, 'audit.log');
    const before = 'x'.repeat(8192);
    writeFileSync(log, before, { mode: 0o600 });
    // A file size limit below the log's size: every append fails with EFBIG (Node ignores SIGXFSZ).
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
      (resolve) => {
        const child = spawn(
          'sh',
          [
            '-c',
            'ulimit -f 4; exec "$@"',
            'sh',
            process.execPath,
            BIN,
            '--audit-log',
            log,
            '-m',
            'app.json',
            '--',
            'sh',
            '-c',
            'echo ran; exit 7',
          ],
          { cwd: world.cwd, env: world.env },
        );
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.on('close', (code) => resolve({ code, stdout, stderr }));
      },
    );
    t.is(result.code, 7);
    t.is(result.stdout, 'ran\n');
    t.is(
      result.stderr,
      `credexec: warning: audit log ${log}: cannot write the start record of this run (EFBIG)\n` +
        `credexec: warning: audit log ${log}: cannot write the end record of this run (EFBIG)\n`,
    );
    t.is(readFileSync(log, 'utf8'), before);
  });
});

test('--audit-log - with nobody reading stderr any more does not stop the command', async (t) => {
  await withSecrets(async (world) => {
    const cli = startCli(
      [
        '--audit-log',
        '-',
        '-m',
        'app.json',
        '--',
        'sh',
        '-c',
        'sleep 0.3; echo still-here; exit 5',
      ],
      { env: world.env, cwd: world.cwd },
    );
    cli.process.stderr.destroy();
    const result = await cli.result;
    t.is(result.exitCode, 5);
    t.is(result.stdout, 'still-here\n');
  });
});

test('a long-running command is on record from its start; a SIGKILLed credexec leaves the start record', async (t) => {
  await withSecrets(async (world) => {
    const log = join(world.dir, 'audit.log');
    const ready = join(world.dir, 'ready');
    const cli = startCli(
      [
        '--audit-log',
        log,
        '-m',
        'app.json',
        '--',
        process.execPath,
        world.child,
        'hold',
        world.dir,
      ],
      { env: world.env, cwd: world.cwd },
    );
    await waitForFile(ready);
    for (let waited = 0; readFileSync(log, 'utf8') === '' && waited < 10_000; waited += 10) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const childPid = (JSON.parse(readFileSync(ready, 'utf8')) as { pid: number }).pid;
    const [start, ...rest] = readLog(t, log);
    t.deepEqual(rest, []);
    t.like(start, { event: 'start', pid: childPid, credexecPid: cli.process.pid });
    const killed = new Promise((resolve) => cli.process.once('exit', resolve));
    cli.process.kill('SIGKILL');
    await killed;
    // The command outlives a SIGKILLed credexec (and holds its output pipes open).
    process.kill(childPid, 'SIGKILL');
    await cli.result;
    t.deepEqual(
      readLog(t, log).map((record) => record.event),
      ['start'],
    );
  });
});

test('a command killed by a signal is recorded with the signal, and the log is not inherited by it', async (t) => {
  await withSecrets(async (world) => {
    const log = join(world.dir, 'audit.log');
    const result = await runLauncherCli(world, [
      '--audit-log',
      log,
      '-m',
      'app.json',
      '--',
      'sh',
      '-c',
      'ls -l /proc/$$/fd; kill -TERM $$',
    ]);
    t.is(result.signal, 'SIGTERM');
    t.false(result.stdout.includes('audit.log'), result.stdout);
    t.true(result.stdout.includes('->'), 'the listing is real');
    const [, end] = readLog(t, log);
    t.like(end, { event: 'end', exit: { code: null, signal: 'SIGTERM' } });
  });
});

test('20 runs at once append 40 whole lines of over 4 KiB to one log, none interleaved', async (t) => {
  await withWorld(async (world) => {
    await world.put('shared.secret', VALUE, '1');
    const lines = Array.from({ length: 100 }, (_, i) => `VARIABLE_NUMBER_${i}=shared.secret`);
    world.manifest('many.env', `${lines.join('\n')}\n`);
    const log = join(world.dir, 'audit.log');
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        runLauncherCli(world, ['--audit-log', log, '-m', 'many.env', '--', 'true']),
      ),
    );
    for (const result of results) t.is(result.exitCode, 0, result.stderr);
    const text = readFileSync(log, 'utf8');
    t.false(text.includes(VALUE));
    const all = readLog(t, log);
    t.is(all.length, 40);
    const starts = all.filter((record) => record.event === 'start');
    t.true(
      text
        .split('\n')
        .filter((line) => line.includes('"event":"start"'))
        .every((line) => line.length > 4096),
      'start records are longer than PIPE_BUF',
    );
    t.is(new Set(starts.map((record) => record.runId)).size, 20);
    for (const start of starts) {
      t.is(start.entries!.length, 100);
      t.is(
        all.filter((record) => record.runId === start.runId && record.event === 'end').length,
        1,
      );
    }
  });
});
