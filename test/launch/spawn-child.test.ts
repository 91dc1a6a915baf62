import test from 'ava';
import { SpawnError } from '../../src/errors.js';
import { launchExitCode } from '../../src/cli/commands/run.js';
import { spawnChild } from '../../src/launch/spawn-child.js';

const KIB = 1024;
const PATH = process.env.PATH ?? '/usr/bin:/bin';

async function spawnFailure(args: string[], env: Record<string, string>): Promise<SpawnError> {
  const error = await spawnChild(process.execPath, args, env).then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!(error instanceof SpawnError))
    throw new Error(`expected a SpawnError, got ${String(error)}`);
  return error;
}

test('one variable over 128 KiB is an environment too large, naming the largest variables by size, exit 125', async (t) => {
  const error = await spawnFailure(['-e', '0'], {
    PATH,
    BIG_CERT: 'x'.repeat(200 * KIB),
    MEDIUM: 'y'.repeat(1000),
  });
  t.is(error.reason, 'too-large');
  t.is(
    error.message,
    `${process.execPath}: cannot start: the environment is too large (E2BIG): BIG_CERT is 204809 bytes as NAME=value, over the 131072 one variable may take; largest variables: BIG_CERT 204809 bytes, MEDIUM 1007 bytes, PATH ${PATH.length + 5} bytes; use "file": true for large secrets`,
  );
  t.is(launchExitCode(error), 125);
  t.false(error.message.includes('xxxx'));
});

test('arguments and environment over the system total are too large together, exit 125', async (t) => {
  const env: Record<string, string> = { PATH };
  for (let i = 0; i < 24; i++) env[`PART_${String(i).padStart(2, '0')}`] = 'v'.repeat(100 * KIB);
  const error = await spawnFailure(['-e', '0'], env);
  const envBytes = 24 * (7 + 1 + 100 * KIB + 1) + PATH.length + 6;
  const argBytes = process.execPath.length + 1 + 3 + 2;
  t.is(error.reason, 'too-large');
  t.is(
    error.message,
    `${process.execPath}: cannot start: the arguments and environment are too large together (E2BIG): ${envBytes} bytes of environment and ${argBytes} bytes of arguments, over the system limit (usually 2 MiB in all); largest variables: PART_00 102408 bytes, PART_01 102408 bytes, PART_02 102408 bytes; use "file": true for large secrets`,
  );
  t.is(launchExitCode(error), 125);
});

test('one argument over 128 KiB is the arguments being too large, exit 125', async (t) => {
  const error = await spawnFailure(['-e', `//${'z'.repeat(200 * KIB)}`], { PATH });
  t.is(error.reason, 'too-large');
  t.is(
    error.message,
    `${process.execPath}: cannot start: the arguments are too large (E2BIG): argument 2 is 204802 bytes, over the 131072 one argument may take`,
  );
  t.is(launchExitCode(error), 125);
});
