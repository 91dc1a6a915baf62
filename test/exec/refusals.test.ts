import test from 'ava';
import { UsageError } from '../../src/errors.js';
import { EMPTY_CONTEXT } from '../../src/envelope/context.js';
import type { ManifestEntry } from '../../src/manifest/manifest-entry.js';
import { execConflict, execUnavailable, fileEntriesConflict } from '../../src/exec/refusals.js';

test('a Node without process.execve is refused, naming its version; Windows has none', (t) => {
  t.is(execUnavailable(true, '22.15.0', 'linux'), undefined);
  t.is(
    execUnavailable(false, '20.20.2', 'linux')?.message,
    '--exec needs Node ≥ 22.15 (process.execve); this is Node 20.20.2',
  );
  t.is(
    execUnavailable(true, '26.12.1', 'win32')?.message,
    '--exec needs process.execve, which Node does not have on Windows',
  );
  t.true(execUnavailable(false, '20.20.2', 'linux') instanceof UsageError);
});

test('capabilities that need credexec beside the command are refused, each named with what it does', (t) => {
  t.is(execConflict([]), undefined);
  t.is(
    execConflict(['--watch'])?.message,
    '--exec cannot be combined with --watch (restarts the command when a secret changes): it needs credexec to keep running beside the command, and --exec replaces credexec with the command',
  );
  t.is(
    execConflict(['--watch', '--redact', '--later'])?.message,
    "--exec cannot be combined with --watch (restarts the command when a secret changes), --redact (filters the command's output) or --later: they need credexec to keep running beside the command, and --exec replaces credexec with the command",
  );
  t.true(execConflict(['--redact']) instanceof UsageError);
});

function entry(variable: string, file: boolean): ManifestEntry {
  return {
    variable,
    credential: variable.toLowerCase(),
    version: undefined,
    optional: false,
    file,
    context: EMPTY_CONTEXT,
    source: { file: 'm.json', line: 1 },
  };
}

test('"file": true entries are refused, naming each variable once', (t) => {
  t.is(fileEntriesConflict([entry('A', false)]), undefined);
  t.is(fileEntriesConflict([]), undefined);
  const conflict = fileEntriesConflict([
    entry('A', false),
    entry('KEY', true),
    entry('CERT', true),
    entry('KEY', true),
  ]);
  t.true(conflict instanceof UsageError);
  t.is(
    conflict?.message,
    '--exec cannot be used with "file": true entries (KEY, CERT): nothing would remove the files once the command has replaced credexec; run without --exec or put these secrets in the environment',
  );
});
