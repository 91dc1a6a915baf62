import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import { BIN } from '../support/cli.js';
import { createWorld, waitForFile } from '../support/launcher.js';

// A new PID namespace makes credexec PID 1, as in a container started without --init.
const canUnshare = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', 'true']).status === 0;
const pid1Test = canUnshare ? test : test.skip;

/** `unshare` arguments that run the real bin as PID 1 of a new namespace, launching the test child. */
function asPid1(child: string, ...childArgs: string[]): string[] {
  return [
    '--pid',
    '--fork',
    '--mount-proc',
    process.execPath,
    BIN,
    '--',
    process.execPath,
    child,
    ...childArgs,
  ];
}

pid1Test(
  'as PID 1 credexec warns once about zombies and still forwards SIGINT and SIGTERM',
  async (t) => {
    const world = await createWorld();
    t.teardown(() => world.cleanup());
    world.manifest('credexec.env', '');
    const container = spawn('unshare', asPid1(world.child, 'signals', world.dir), {
      cwd: world.cwd,
      env: world.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    container.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const closed = new Promise<number | null>((resolve) => container.on('close', resolve));
    await waitForFile(join(world.dir, 'ready'));
    const credexec = Number(
      readFileSync(`/proc/${container.pid}/task/${container.pid}/children`, 'utf8').trim(),
    );
    t.true(credexec > 1);
    process.kill(credexec, 'SIGINT');
    await sleep(200);
    process.kill(credexec, 'SIGTERM');
    t.is(await closed, 0);
    t.deepEqual(JSON.parse(readFileSync(join(world.dir, 'counts.json'), 'utf8')), {
      SIGINT: 1,
      SIGTERM: 1,
    });
    t.is(stderr.match(/running as PID 1/g)?.length, 1, stderr);
    t.regex(stderr, /docker run --init/);
  },
);

pid1Test('as PID 1, a child killed by a signal makes credexec exit 128+N', async (t) => {
  const world = await createWorld();
  t.teardown(() => world.cleanup());
  world.manifest('credexec.env', '');
  const result = spawnSync('unshare', asPid1(world.child, 'kill', 'SIGTERM'), {
    cwd: world.cwd,
    env: world.env,
    encoding: 'utf8',
  });
  t.is(result.status, 143, result.stderr);
});

pid1Test(
  "as PID 1 with nobody reading its stderr, the zombie warning's EPIPE does not stop the command",
  async (t) => {
    const world = await createWorld();
    t.teardown(() => world.cleanup());
    world.manifest('credexec.env', '');
    const container = spawn('unshare', asPid1(world.child, 'exit', '7'), {
      cwd: world.cwd,
      env: world.env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    // The reader goes away at once, so the warning's write fails with EPIPE.
    container.stderr.destroy();
    const status = await new Promise<number | null>((resolve) => container.on('close', resolve));
    t.is(status, 7);
  },
);
