import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import {
  BIN,
  runLauncherCli,
  secretDirs,
  startCli,
  waitForFile,
  withWorld,
} from '../support/launcher.js';

function exists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error: unknown) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** A pid no process of this namespace has, for a run in a new PID namespace to be given. */
function pidUnusedHere(): number {
  for (let pid = 31_000; pid > 300; pid -= 97) if (!exists(pid)) return pid;
  throw new Error('no unused pid');
}

/** The child's pid from its ready file, once the file is complete. */
async function readyPid(path: string): Promise<number> {
  await waitForFile(path);
  for (;;) {
    try {
      return (JSON.parse(readFileSync(path, 'utf8')) as { pid: number }).pid;
    } catch {
      await sleep(10); // still being written
    }
  }
}

// A new PID namespace needs root (CAP_SYS_ADMIN) and util-linux's unshare.
const canUnshare =
  spawnSync('unshare', ['-p', '-f', '--mount-proc', 'true'], { stdio: 'ignore' }).status === 0;
const nsTest = canUnshare ? test : test.skip;

nsTest(
  'a run in another PID namespace keeps its secret files while it runs; they are swept once it was killed',
  async (t) => {
    await withWorld(async (world) => {
      await world.put('tls-key', 'key-material', '1');
      world.manifest('inner.json', JSON.stringify({ KEY_FILE: { name: 'tls-key', file: true } }));
      world.manifest('outer.env', '');
      const pid = pidUnusedHere();
      // Inside the namespace credexec gets `pid`, which no process has out here; pid 1 is the shell.
      const inner = spawn(
        'unshare',
        [
          '-p',
          '-f',
          '--mount-proc',
          'sh',
          '-c',
          `echo ${pid - 1} > /proc/sys/kernel/ns_last_pid; "$0" "$@"; exit $?`,
          process.execPath,
          BIN,
          '-m',
          'inner.json',
          '--',
          process.execPath,
          world.child,
          'hold',
          world.dir,
        ],
        { env: world.env, cwd: world.cwd, stdio: 'ignore' },
      );
      const innerInit = () => {
        const children = readFileSync(`/proc/${inner.pid}/task/${inner.pid}/children`, 'utf8');
        return Number(children.trim().split(' ')[0]);
      };
      const innerExited = new Promise((resolve) => inner.on('exit', resolve));
      t.teardown(() => {
        if (inner.exitCode === null && inner.signalCode === null)
          process.kill(innerInit(), 'SIGKILL');
      });
      await waitForFile(join(world.dir, 'ready'));
      t.deepEqual(
        secretDirs(world).map((name) => name.split('-')[1]),
        [String(pid)],
      );
      const [dir] = secretDirs(world);
      const keyFile = join(world.runtimeDir, dir!, 'KEY_FILE');

      const outer = await runLauncherCli(world, ['-m', 'outer.env', '--', 'true']);
      t.is(outer.exitCode, 0, outer.stderr);
      t.is(readFileSync(keyFile, 'utf8'), 'key-material');

      // Killing the namespace's init kills everything in it: credexec gets no chance to clean up.
      process.kill(innerInit(), 'SIGKILL');
      await innerExited;
      t.true(existsSync(keyFile));
      const after = await runLauncherCli(world, ['-m', 'outer.env', '--', 'true']);
      t.is(after.exitCode, 0, after.stderr);
      t.deepEqual(secretDirs(world), []);
    });
  },
);

test('secret files of a credexec killed with SIGKILL are swept by the next run, not before', async (t) => {
  await withWorld(async (world) => {
    await world.put('tls-key', 'key-material', '1');
    world.manifest('credexec.json', JSON.stringify({ KEY_FILE: { name: 'tls-key', file: true } }));
    world.manifest('outer.env', '');
    const cli = startCli(['-m', 'credexec.json', '--', 'node', world.child, 'hold', world.dir], {
      env: world.env,
      cwd: world.cwd,
    });
    const child: { pid?: number } = {};
    t.teardown(() => {
      cli.process.kill('SIGKILL');
      if (child.pid !== undefined && exists(child.pid)) process.kill(child.pid, 'SIGKILL');
    });
    child.pid = await readyPid(join(world.dir, 'ready'));
    const before = await runLauncherCli(world, ['-m', 'outer.env', '--', 'true']);
    t.is(before.exitCode, 0, before.stderr);
    t.is(secretDirs(world).length, 1);
    // The child keeps credexec's stdout open, so wait for the exit, not for the streams.
    const killed = new Promise((resolve) => cli.process.once('exit', resolve));
    cli.process.kill('SIGKILL');
    await killed;
    t.is(secretDirs(world).length, 1);
    const after = await runLauncherCli(world, ['-m', 'outer.env', '--', 'true']);
    t.is(after.exitCode, 0, after.stderr);
    t.deepEqual(secretDirs(world), []);
  });
});
