import { closeSync, openSync, readFileSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { callExecve, execveThrows, processExecve } from '../../src/exec/hand-over.js';
import { synchronousStderr } from '../../src/exec/sync-stderr.js';

test('a failed execve that throws gives its errno code, never its message', (t) => {
  const errno = (code: string, message: string) => () => {
    throw Object.assign(new Error(message), { code });
  };
  t.is(callExecve(errno('ENOENT', 'ENOENT, No such file'), '/x', ['x'], {}), 'ENOENT');
  // Node's message for an invalid environment quotes it (values included): only the code is kept.
  t.is(
    callExecve(
      errno('ERR_INVALID_ARG_VALUE', "The argument 'env' ... SECRET=hunter2"),
      '/x',
      ['x'],
      {},
    ),
    'ERR_INVALID_ARG_VALUE',
  );
  t.is(
    callExecve(
      () => {
        throw new Error('no code');
      },
      '/x',
      ['x'],
      {},
    ),
    'EUNKNOWN',
  );
  // An execve that returns (it cannot, when it works) is a failure too.
  t.is(
    callExecve(() => undefined, '/x', ['x'], {}),
    'EUNKNOWN',
  );
});

test('Node’s ExperimentalWarning for process.execve is not printed; any other warning is', (t) => {
  // Stand in for Node's printer, to see what reaches it.
  const original = process.emitWarning;
  const printed: string[] = [];
  process.emitWarning = ((warning: string, options: string | { type: string }) => {
    printed.push(`${typeof options === 'string' ? options : options.type}: ${warning}`);
  }) as typeof process.emitWarning;
  t.teardown(() => {
    process.emitWarning = original;
  });
  const recorder = process.emitWarning;
  const code = callExecve(
    () => {
      process.emitWarning(
        'process.execve is an experimental feature and might change at any time',
        'ExperimentalWarning',
      );
      process.emitWarning('something else', 'ExperimentalWarning');
      process.emitWarning('process.execve is deprecated', { type: 'DeprecationWarning' });
      throw Object.assign(new Error('x'), { code: 'ENOEXEC' });
    },
    '/x',
    ['x'],
    {},
  );
  t.is(code, 'ENOEXEC');
  t.is(process.emitWarning, recorder, 'put back');
  t.deepEqual(printed, [
    'ExperimentalWarning: something else',
    'DeprecationWarning: process.execve is deprecated',
  ]);
});

test('a failed execve throws from Node 26 on; 22 and 24 abort', (t) => {
  t.true(execveThrows('26.12.1'));
  t.true(execveThrows('27.0.0'));
  t.false(execveThrows('24.22.3'));
  t.false(execveThrows('22.23.5'));
  t.is(
    processExecve() !== undefined,
    typeof (process as { execve?: unknown }).execve === 'function',
  );
});

test('credexec’s stderr in exec mode has written each line when write returns', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'credexec-sync-stderr-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'err');
  const fd = openSync(path, 'w');
  try {
    const stream = synchronousStderr(fd);
    stream.write('credexec: warning: one\n');
    t.is(readFileSync(path, 'utf8'), 'credexec: warning: one\n');
    stream.write('credexec: warning: two\n');
    t.is(readFileSync(path, 'utf8'), 'credexec: warning: one\ncredexec: warning: two\n');
  } finally {
    closeSync(fd);
  }
});

test('a write that fails is an error event, not an exception', async (t) => {
  const stream = synchronousStderr(987_654);
  const failed = new Promise<Error>((resolve) => stream.once('error', resolve));
  stream.write('lost\n');
  t.is(((await failed) as { code?: string }).code, 'EBADF');
});
