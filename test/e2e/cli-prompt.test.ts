import { spawn, spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import { BIN, runCli, tempLocalDir } from '../support/cli.js';

// util-linux `script` gives credexec a pseudo-terminal to prompt on.
const ttyTest = spawnSync('script', ['--version']).status === 0 ? test : test.skip;

ttyTest('put -P reads the value from the terminal without echoing it', async (t) => {
  const local = tempLocalDir();
  t.teardown(local.cleanup);
  t.is((await runCli(['setup'], { env: local.env })).exitCode, 0);
  const terminal = spawn(
    'script',
    ['-qec', `exec '${process.execPath}' '${BIN}' put prompted -P env=tty`, '/dev/null'],
    { env: { ...local.env, SHELL: '/bin/sh' }, stdio: ['pipe', 'pipe', 'ignore'] },
  );
  let screen = '';
  terminal.stdout.on('data', (chunk: Buffer) => (screen += chunk.toString('utf8')));
  const closed = new Promise<number | null>((resolve) => terminal.on('close', resolve));
  // Type only once the prompt is up: raw mode (no echo) is set before the prompt is written.
  for (let waited = 0; !screen.includes('value for prompted: ') && waited < 20_000; waited += 50) {
    await sleep(50);
  }
  terminal.stdin.write('typed-Zq8-secret\r');
  t.is(await closed, 0);
  t.regex(screen, /value for prompted: /);
  t.regex(screen, /prompted has been stored as version 0000000000000000001/);
  t.false(screen.includes('typed-Zq8-secret'), 'the typed value is not echoed');
  t.is(
    (await runCli(['get', 'prompted', 'env=tty'], { env: local.env })).stdout,
    'typed-Zq8-secret\n',
  );
});

test('put -P without a terminal is a usage error pointing at -', async (t) => {
  const local = tempLocalDir();
  t.teardown(local.cleanup);
  await runCli(['setup'], { env: local.env });
  const result = await runCli(['put', 'x', '-P'], { env: local.env, input: 'value\n' });
  t.is(result.exitCode, 2);
  t.regex(result.stderr, /-P\/--prompt needs a terminal; pipe the value in with "-" instead/);
});
