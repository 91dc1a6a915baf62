import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { EMPTY_CONTEXT } from '../../src/envelope/context.js';
import { SpawnError, UsageError } from '../../src/errors.js';
import { execStarter, predictsFormats } from '../../src/exec/exec-starter.js';
import type { StartRequest } from '../../src/launch/child-starter.js';

function scratch() {
  const dir = mkdtempSync(join(tmpdir(), 'credexec-exec-starter-'));
  const program = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    chmodSync(path, 0o755);
    return path;
  };
  return { dir, program, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A request whose release and the exec calls are recorded in one list, in order. */
function request(command: string, args: string[], env: Record<string, string>, events: string[]) {
  const value = Buffer.from('starter-canary');
  const start: StartRequest = {
    command,
    args,
    env,
    secrets: [{ variable: 'TOKEN', value, file: false, redact: true }],
    release: () => {
      events.push('release');
      return Promise.resolve();
    },
  };
  return start;
}

test('the command is looked up in the child’s PATH and execve is called with it, after release and preparation', async (t) => {
  const { dir, program, cleanup } = scratch();
  t.teardown(cleanup);
  const tool = program('tool', '#!/bin/sh\n');
  const events: string[] = [];
  const starter = execStarter(
    (file, argv, env) => {
      events.push(`execve ${file} ${argv.join(' ')} TOKEN=${env.TOKEN}`);
      throw Object.assign(new Error('stand-in'), { code: 'EIO' });
    },
    { recoverable: true, prepare: () => events.push('prepare') },
  );
  const env = { PATH: `/nonexistent:${dir}`, TOKEN: 'starter-canary' };
  const error = await t.throwsAsync(starter.start(request('tool', ['a', 'b'], env, events)), {
    instanceOf: SpawnError,
  });
  t.is(error.message, 'tool: cannot start (EIO)');
  t.is(error.reason, 'failed');
  t.deepEqual(events, ['release', 'prepare', `execve ${tool} tool a b TOKEN=starter-canary`]);
});

test('a command that cannot run is reported as the spawner reports it, and nothing is released or called', async (t) => {
  const { dir, program, cleanup } = scratch();
  t.teardown(cleanup);
  const plain = program('plain', '#!/bin/sh\n');
  chmodSync(plain, 0o644);
  const events: string[] = [];
  const starter = execStarter(
    () => {
      events.push('execve');
    },
    { recoverable: false, prepare: () => events.push('prepare') },
  );
  const cases: [string, SpawnError['reason'], string][] = [
    ['credexec-missing', 'not-found', 'credexec-missing: command not found (ENOENT)'],
    [plain, 'not-executable', `${plain}: permission denied or not executable (EACCES)`],
    ['', 'failed', ': cannot start (ERR_INVALID_ARG_VALUE)'],
  ];
  for (const [command, reason, message] of cases) {
    const error = await t.throwsAsync(starter.start(request(command, [], { PATH: dir }, events)), {
      instanceOf: SpawnError,
    });
    t.deepEqual([error.reason, error.message], [reason, message]);
  }
  const big = await t.throwsAsync(
    starter.start(request('true', [], { PATH: '/usr/bin:/bin', BIG: 'b'.repeat(200_000) }, events)),
    { instanceOf: SpawnError },
  );
  t.is(big.reason, 'too-large');
  t.regex(
    big.message,
    /^true: cannot start: the environment is too large \(E2BIG\): BIG is 200004 bytes/,
  );
  t.deepEqual(events, []);
});

test('where a failed execve throws, ENOEXEC runs the file with /bin/sh as glibc does', async (t) => {
  const { program, cleanup } = scratch();
  t.teardown(cleanup);
  const script = program('script', 'echo hi\n');
  const calls: string[] = [];
  const starter = execStarter(
    (file, argv) => {
      calls.push([file, ...argv].join(' '));
      throw Object.assign(new Error('x'), { code: file === script ? 'ENOEXEC' : 'EIO' });
    },
    { recoverable: true, prepare: () => undefined },
  );
  await t.throwsAsync(starter.start(request(script, ['x'], { PATH: '/bin' }, [])), {
    message: `${script}: cannot start (EIO)`,
  });
  t.deepEqual(calls, [`${script} ${script} x`, `/bin/sh /bin/sh ${script} x`]);
});

test('a release that rejects (a signal asked credexec to stop) stops the exec', async (t) => {
  const calls: string[] = [];
  const starter = execStarter(() => calls.push('execve'), {
    recoverable: true,
    prepare: () => calls.push('prepare'),
  });
  const stop = new Error('stopped');
  await t.throwsAsync(
    starter.start({
      ...request('true', [], { PATH: '/usr/bin:/bin' }, []),
      release: () => Promise.reject(stop),
    }),
    { is: stop },
  );
  t.deepEqual(calls, []);
});

test('"file": true entries are refused before anything is resolved', (t) => {
  const starter = execStarter(() => undefined);
  const entry = (variable: string, file: boolean) => ({
    variable,
    credential: 'c',
    version: undefined,
    optional: false,
    file,
    context: EMPTY_CONTEXT,
    source: { file: 'm.json', line: 1 },
  });
  t.notThrows(() => starter.refuse?.([entry('A', false)]));
  t.throws(() => starter.refuse?.([entry('A', false), entry('KEY', true)]), {
    instanceOf: UsageError,
    message: /^--exec cannot be used with "file": true entries \(KEY\)/,
  });
});

test('file formats are judged in advance only where a failed execve aborts, and only on Linux (ELF)', (t) => {
  t.true(predictsFormats(false, 'linux'));
  t.false(predictsFormats(true, 'linux'));
  // macOS programs are Mach-O: never take them for "not an executable format".
  t.false(predictsFormats(false, 'darwin'));
});
