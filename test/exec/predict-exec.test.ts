import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { predictExecve, programLoader, shebangInterpreter } from '../../src/exec/predict-exec.js';

const head = (text: string) => Buffer.from(text, 'latin1');

test('a #! line names its interpreter as Linux reads it', (t) => {
  t.deepEqual(shebangInterpreter(head('#!/bin/sh\necho\n')), { interpreter: '/bin/sh' });
  t.deepEqual(shebangInterpreter(head('#! \t/usr/bin/env node --flag\n')), {
    interpreter: '/usr/bin/env',
  });
  t.deepEqual(shebangInterpreter(head('#!/bin/sh')), { interpreter: '/bin/sh' });
  // A CR is part of the name (the file was saved with Windows line ends): ENOENT later.
  t.deepEqual(shebangInterpreter(head('#!/bin/sh\r\n')), { interpreter: '/bin/sh\r' });
  t.deepEqual(shebangInterpreter(head('#!python3\n')), { interpreter: 'python3' });
  t.deepEqual(shebangInterpreter(head('#!\n/bin/sh\n')), { code: 'ENOEXEC' });
  t.deepEqual(shebangInterpreter(head('#!   \n')), { code: 'ENOEXEC' });
  // A name that does not end within the 256 bytes the kernel reads.
  t.deepEqual(shebangInterpreter(head(`#!/${'x'.repeat(253)}`)), { code: 'ENOEXEC' });
  t.deepEqual(shebangInterpreter(head(`#!/bin/sh ${'x'.repeat(250)}`)), { interpreter: '/bin/sh' });
});

const linuxTest = process.platform === 'linux' ? test : test.skip;

linuxTest('an ELF program names its loader, which exists; Node itself has one', (t) => {
  const loader = programLoader('/bin/true');
  t.truthy(loader);
  t.true(existsSync(loader!));
  t.truthy(programLoader(process.execPath));
  t.is(programLoader('/etc/passwd'), undefined);
  t.is(programLoader('/nonexistent'), undefined);
});

test('each file is judged as execve would judge it', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'credexec-predict-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string, mode = 0o755) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    chmodSync(path, mode);
    return path;
  };
  mkdirSync(join(dir, 'adir'));
  const env = { PATH: '/usr/bin:/bin' };
  const judge = (path: string, formats = true, argv: readonly string[] = [path]) =>
    predictExecve(path, argv, {
      env,
      limits: { stackBytes: 8 * 2 ** 20, pointerBytes: 8 },
      formats,
    });

  t.is(judge(join(dir, 'missing')), 'ENOENT');
  t.is(judge(join(dir, 'missing', 'below')), 'ENOENT');
  t.is(judge(join(file('plain-file', 'x'), 'below')), 'ENOTDIR');
  t.is(judge(join(dir, 'adir')), 'EACCES');
  t.is(judge(file('no-x', '#!/bin/sh\n', 0o644)), 'EACCES');
  t.is(judge(file('script', '#!/bin/sh\necho\n')), undefined);
  t.is(judge(file('bad-interpreter', '#!/nonexistent/sh\n')), 'ENOENT');
  t.is(judge(file('interpreter-is-dir', `#!${join(dir, 'adir')}\n`)), 'EACCES');
  t.is(judge(file('empty-shebang', '#!\n')), 'ENOEXEC');
  // Neither #! nor ELF: ENOEXEC where a failed execve cannot be caught, else execve decides.
  const noShebang = file('no-shebang', 'echo hi\n');
  t.is(judge(noShebang), 'ENOEXEC');
  t.is(judge(noShebang, false), undefined);
  t.is(judge(file('empty', '')), 'ENOEXEC');
  // ELF magic over something that is no program (e_type is neither EXEC nor DYN).
  const notElf = file('not-elf', '\x7fELF-not-really\n');
  t.is(judge(notElf), 'ENOEXEC');
  t.is(judge(notElf, false), undefined);
  t.is(judge('/bin/true'), undefined);
  t.is(judge(process.execPath), undefined);
  // E2BIG comes after the file checks, before the format.
  t.is(judge(file('big-args', '#!/nonexistent\n'), true, ['x', 'a'.repeat(200_000)]), 'E2BIG');
  t.is(judge(join(dir, 'missing'), true, ['x', 'a'.repeat(200_000)]), 'ENOENT');
  t.is(
    predictExecve('/bin/true', ['true', 'a'.repeat(200_000)], {
      env,
      limits: undefined,
      formats: true,
    }),
    undefined,
  );
});
