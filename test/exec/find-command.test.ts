import test from 'ava';
import {
  DARWIN_RULES,
  GLIBC_RULES,
  MUSL_RULES,
  SHELL,
  execvp,
  type LookupRules,
} from '../../src/exec/find-command.js';

/** execvp with execve replaced by a table: file → errno (absent: ENOENT; null: it runs). */
function lookup(
  command: string,
  path: string | undefined,
  outcomes: Record<string, string | null>,
  rules: LookupRules = GLIBC_RULES,
  args: readonly string[] = [],
) {
  const attempts: string[][] = [];
  const code = execvp(command, [command, ...args], path, rules, (file, argv) => {
    attempts.push([file, ...argv]);
    const outcome = outcomes[file];
    return outcome === null ? undefined : (outcome ?? 'ENOENT');
  });
  return { code, attempts };
}

test('a name with a slash is used as it is, never searched', (t) => {
  t.deepEqual(lookup('./tool', '/bin', { './tool': null }), {
    code: undefined,
    attempts: [['./tool', './tool']],
  });
  t.deepEqual(lookup('sub/tool', '/bin', {}).code, 'ENOENT');
  t.deepEqual(lookup('/bin/tool', '', { '/bin/tool': 'EACCES' }).code, 'EACCES');
});

test('each PATH entry is tried in order until one runs; an empty entry is the current directory', (t) => {
  const { code, attempts } = lookup('tool', '/a::/b/', { '/b//tool': null, tool: 'ENOENT' });
  t.is(code, undefined);
  t.deepEqual(
    attempts.map(([file]) => file),
    ['/a/tool', 'tool', '/b//tool'],
  );
});

test('EACCES is remembered and reported when nothing runs; otherwise the last error', (t) => {
  t.is(lookup('tool', '/a:/b:/c', { '/a/tool': 'EACCES', '/b/tool': 'ENOTDIR' }).code, 'EACCES');
  t.is(lookup('tool', '/a:/b', { '/b/tool': 'ENOTDIR' }).code, 'ENOTDIR');
  t.is(lookup('tool', '/a:/b', { '/a/tool': 'EACCES', '/b/tool': null }).code, undefined);
});

test('any other error stops the search at once', (t) => {
  for (const stop of ['ELOOP', 'E2BIG', 'ETXTBSY', 'ENAMETOOLONG']) {
    const { code, attempts } = lookup('tool', '/a:/b', { '/a/tool': stop, '/b/tool': null });
    t.is(code, stop);
    t.is(attempts.length, 1);
  }
});

test('glibc also goes on after ESTALE, ENODEV and ETIMEDOUT; musl and macOS do not', (t) => {
  for (const odd of ['ESTALE', 'ENODEV', 'ETIMEDOUT']) {
    const outcomes = { '/a/tool': odd, '/b/tool': null };
    t.is(lookup('tool', '/a:/b', outcomes, GLIBC_RULES).code, undefined);
    t.is(lookup('tool', '/a:/b', outcomes, MUSL_RULES).code, odd);
    t.is(lookup('tool', '/a:/b', outcomes, DARWIN_RULES).code, odd);
  }
});

test('without PATH the C library’s default path is searched', (t) => {
  const files = (rules: LookupRules) =>
    lookup('tool', undefined, {}, rules).attempts.map(([file]) => file);
  t.deepEqual(files(GLIBC_RULES), ['/bin/tool', '/usr/bin/tool']);
  t.deepEqual(files(MUSL_RULES), ['/usr/local/bin/tool', '/bin/tool', '/usr/bin/tool']);
  t.deepEqual(files(DARWIN_RULES), ['/usr/bin/tool', '/bin/tool']);
});

test('a name longer than NAME_MAX bytes is ENAMETOOLONG before any attempt; a path is the kernel’s to judge', (t) => {
  t.deepEqual(lookup('n'.repeat(256), '/a', {}), { code: 'ENAMETOOLONG', attempts: [] });
  t.is(lookup('n'.repeat(255), '/a', {}).code, 'ENOENT');
  // 128 two-byte characters are 256 bytes.
  t.is(lookup('é'.repeat(128), '/a', {}).code, 'ENAMETOOLONG');
  t.is(lookup(`/a/${'n'.repeat(300)}`, '/a', {}).attempts.length, 1);
});

test('glibc runs a file the kernel cannot execute (ENOEXEC) as a /bin/sh script; the others report ENOEXEC', (t) => {
  const outcomes = { '/a/tool': 'ENOEXEC', [SHELL]: null };
  const glibc = lookup('tool', '/a', outcomes, GLIBC_RULES, ['x', 'y']);
  t.is(glibc.code, undefined);
  t.deepEqual(glibc.attempts, [
    ['/a/tool', 'tool', 'x', 'y'],
    [SHELL, SHELL, '/a/tool', 'x', 'y'],
  ]);
  t.is(lookup('tool', '/a', outcomes, MUSL_RULES).code, 'ENOEXEC');
  t.is(lookup('./tool', '/a', { './tool': 'ENOEXEC' }, DARWIN_RULES).code, 'ENOEXEC');
  // When /bin/sh cannot run either, its error is the one that counts (and the search goes on).
  const noShell = lookup('tool', '/a:/b', {
    '/a/tool': 'ENOEXEC',
    [SHELL]: 'ENOENT',
    '/b/tool': null,
  });
  t.is(noShell.code, undefined);
  t.is(noShell.attempts.length, 3);
});
