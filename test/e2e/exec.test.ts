import { spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import { BIN } from '../support/cli.js';
import {
  runLauncherCli,
  secretDirs,
  startCli,
  waitForFile,
  withWorld,
  type LauncherWorld,
} from '../support/launcher.js';

// `credexec --exec -- CMD`: credexec becomes the command. On a Node without process.execve the
// same invocations must be refused instead (CI runs this file on Node 20, 22, 24 and 26).
const hasExecve = typeof (process as { execve?: unknown }).execve === 'function';
const execTest = hasExecve ? test : test.skip;
const refusalTest = hasExecve ? test.skip : test;

const CANARY = 'exec-canary-7f3a91';

async function worldWithSecret(world: LauncherWorld): Promise<void> {
  await world.put('app.token', CANARY, '1');
  world.manifest('credexec.env', 'TOKEN=app.token\n');
}

execTest(
  'the command keeps credexec’s pid, gets its secrets and exits with its own status',
  async (t) => {
    await withWorld(async (world) => {
      await worldWithSecret(world);
      const started = startCli(
        [
          '--exec',
          '--',
          'sh',
          '-c',
          'echo "$$ ${#TOKEN} $(cat /proc/$$/cmdline | tr "\\0" " ")"; exit 7',
        ],
        { env: world.env, cwd: world.cwd },
      );
      const result = await started.result;
      t.is(result.exitCode, 7, result.stderr);
      t.is(result.stderr, '');
      const [pid, length, ...cmdline] = result.stdout.trim().split(' ');
      t.is(Number(pid), started.process.pid!);
      t.is(Number(length), CANARY.length);
      // argv is the command's own, with no trace of credexec or of the secret.
      t.deepEqual(cmdline.slice(0, 2), ['sh', '-c']);
      t.false(result.stdout.includes(CANARY));
    });
  },
);

execTest(
  'the secret reaches the command, and neither its argv nor credexec’s output holds it',
  async (t) => {
    await withWorld(async (world) => {
      await worldWithSecret(world);
      const result = await runLauncherCli(
        world,
        ['--exec', '--', process.execPath, world.child, 'report', 'TOKEN'],
        {
          CREDEXEC_DEBUG: '1',
        },
      );
      t.is(result.exitCode, 0, result.stderr);
      t.deepEqual(JSON.parse(result.stdout), { TOKEN: CANARY });
      t.is(result.stderr, '');
      const argv = await runLauncherCli(world, [
        '--exec',
        '--',
        'sh',
        '-c',
        'tr "\\0" "\\n" < /proc/$$/cmdline',
      ]);
      t.is(argv.stdout, 'sh\n-c\ntr "\\0" "\\n" < /proc/$$/cmdline\n');
    });
  },
);

execTest('`run --exec`, the fast path and the yargs path all become the command', async (t) => {
  await withWorld(async (world) => {
    await worldWithSecret(world);
    for (const args of [
      ['run', '--exec', '--', 'printenv', 'TOKEN'],
      ['--exec', '-m', 'credexec.env', '--', 'printenv', 'TOKEN'],
      // No `--`: yargs parses this one.
      ['run', '--exec', 'printenv', 'TOKEN'],
    ]) {
      const result = await runLauncherCli(world, args);
      t.deepEqual(
        [result.exitCode, result.stdout, result.stderr],
        [0, `${CANARY}\n`, ''],
        args.join(' '),
      );
    }
  });
});

execTest('signals sent to the pid reach the command natively, each once', async (t) => {
  await withWorld(async (world) => {
    world.manifest('credexec.env', '');
    const started = startCli(
      ['--exec', '--', process.execPath, world.child, 'signals', world.dir],
      {
        env: world.env,
        cwd: world.cwd,
      },
    );
    await waitForFile(join(world.dir, 'ready'));
    const ready = JSON.parse(readFileSync(join(world.dir, 'ready'), 'utf8')) as { pid: number };
    t.is(ready.pid, started.process.pid!);
    for (const signal of ['SIGHUP', 'SIGUSR1', 'SIGUSR2', 'SIGINT', 'SIGWINCH'] as const) {
      process.kill(started.process.pid!, signal);
      await sleep(100);
    }
    process.kill(started.process.pid!, 'SIGTERM');
    const result = await started.result;
    t.is(result.exitCode, 0, result.stderr);
    t.deepEqual(JSON.parse(readFileSync(join(world.dir, 'counts.json'), 'utf8')), {
      SIGHUP: 1,
      SIGUSR1: 1,
      SIGUSR2: 1,
      SIGINT: 1,
      SIGWINCH: 1,
      SIGTERM: 1,
    });
  });
});

execTest(
  'a command killed by a signal is seen by the parent as killed by it, with no help from credexec',
  async (t) => {
    await withWorld(async (world) => {
      world.manifest('credexec.env', '');
      for (const signal of ['SIGTERM', 'SIGKILL', 'SIGSEGV'] as const) {
        const result = await runLauncherCli(world, [
          '--exec',
          '--',
          'sh',
          '-c',
          `kill -${signal.slice(3)} $$`,
        ]);
        t.deepEqual([result.exitCode, result.signal, result.stderr], [null, signal, '']);
      }
    });
  },
);

execTest(
  'the command starts with no signal ignored or blocked, as a spawned command does',
  async (t) => {
    await withWorld(async (world) => {
      world.manifest('credexec.env', '');
      const status = ['grep', '-E', '^Sig(Ign|Blk):', '/proc/self/status'];
      const replaced = await runLauncherCli(world, ['--exec', '--', ...status]);
      t.is(replaced.exitCode, 0, replaced.stderr);
      t.is(replaced.stdout, 'SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n');
      t.is((await runLauncherCli(world, ['--', ...status])).stdout, replaced.stdout);
      // SIGPIPE at its default: `yes` dies of it quietly when `head` has read enough. With
      // SIGPIPE ignored it would get EPIPE and complain on stderr.
      const pipeline = await runLauncherCli(world, ['--exec', '--', 'sh', '-c', 'yes | head -c 3']);
      t.deepEqual([pipeline.exitCode, pipeline.stdout, pipeline.stderr], [0, 'y\ny', '']);
    });
  },
);

execTest(
  'no descriptor of credexec’s reaches the command, only what credexec was given',
  async (t) => {
    await withWorld(async (world) => {
      await worldWithSecret(world);
      // No pipeline in the shell: its pipes would be descriptors of its own.
      const list = ['sh', '-c', 'ls /proc/$$/fd'];
      // What any process started from here gets: stdin, stdout, stderr and whatever the test
      // runner leaves inheritable.
      const given = spawnSync(list[0]!, list.slice(1), { encoding: 'utf8', cwd: world.cwd });
      t.regex(given.stdout, /^0\n1\n2\n/);
      const replaced = await runLauncherCli(world, ['--exec', '--', ...list]);
      t.is(replaced.stdout, given.stdout);
      t.is((await runLauncherCli(world, ['--', ...list])).stdout, given.stdout);
    });
  },
);

execTest(
  'stdin, stdout and stderr reach the command in blocking mode, even after Node made them non-blocking',
  async (t) => {
    await withWorld(async (world) => {
      world.manifest('credexec.env', '');
      // Opening process.stdout and process.stderr on pipes makes them non-blocking, as a warning
      // printed by credexec (or by Node) would.
      const preload = join(world.dir, 'touch-stdio.cjs');
      writeFileSync(preload, 'process.stdout; process.stderr;\n');
      const flags = ['sh', '-c', 'for fd in 0 1 2; do grep ^flags: /proc/$$/fdinfo/$fd; done'];
      const withPreload = { NODE_OPTIONS: `--require ${preload}` };
      const replaced = await runLauncherCli(world, ['--exec', '--', ...flags], withPreload);
      t.is(replaced.exitCode, 0, replaced.stderr);
      const modes = replaced.stdout
        .trim()
        .split('\n')
        .map((line) => parseInt(line.split('\t')[1]!, 8));
      t.is(modes.length, 3);
      for (const mode of modes) t.is(mode & 0o4000, 0, replaced.stdout);
      const spawned = await runLauncherCli(world, ['--', ...flags], withPreload);
      t.is(spawned.stdout, replaced.stdout);
    });
  },
);

execTest(
  '"file": true entries are refused with one line and exit 2 before anything is resolved',
  async (t) => {
    await withWorld(async (world) => {
      await worldWithSecret(world);
      // app.cert does not exist: resolving it would exit 125, so 2 shows nothing was resolved.
      world.manifest(
        'files.json',
        JSON.stringify({
          TOKEN: 'app.token',
          TLS_CERT: { name: 'app.cert', file: true },
          TLS_KEY: { name: 'app.key', file: true },
        }),
      );
      const marker = join(world.dir, 'ran');
      const result = await runLauncherCli(world, [
        '--exec',
        '-m',
        'files.json',
        '--',
        'touch',
        marker,
      ]);
      t.deepEqual(
        { exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr },
        {
          exitCode: 2,
          stdout: '',
          stderr:
            'credexec: --exec cannot be used with "file": true entries (TLS_CERT, TLS_KEY): nothing would remove the files once the command has replaced credexec; run without --exec or put these secrets in the environment\n',
        },
      );
      t.false(existsSync(marker));
      t.deepEqual(secretDirs(world), []);
    });
  },
);

execTest(
  'a signal during resolution still stops credexec before the command replaces it',
  async (t) => {
    await withWorld(async (world) => {
      world.manifest('credexec.env', '');
      const marker = join(world.dir, 'ran');
      // A large manifest keeps credexec busy for a moment; SIGTERM arrives before the exec.
      const started = startCli(['--exec', '--', 'touch', marker], {
        env: world.env,
        cwd: world.cwd,
      });
      started.process.kill('SIGTERM');
      const result = await started.result;
      t.true(result.signal === 'SIGTERM' || result.exitCode === 143, JSON.stringify(result));
      t.false(existsSync(marker));
    });
  },
);

execTest(
  'credexec’s code cache is written before the exec, since the process never exits',
  async (t) => {
    await withWorld(async (world) => {
      world.manifest('credexec.env', '');
      const cache = join(world.dir, 'cache');
      const result = await runLauncherCli(world, ['--exec', '--', 'true'], {
        XDG_CACHE_HOME: cache,
      });
      t.is(result.exitCode, 0, result.stderr);
      const files = readdirSync(join(cache, 'credexec', 'code-cache'));
      t.true(
        files.some((name) => name.startsWith('credexec.cjs.')),
        files.join(' '),
      );
      t.true(
        files.some((name) => name.startsWith('exec-mode-')),
        files.join(' '),
      );
    });
  },
);

execTest(
  'a failure execve alone can tell (a file open for writing): 125 as when spawned on Node 26, an abort on 22 and 24',
  async (t) => {
    await withWorld(async (world) => {
      await worldWithSecret(world);
      const busy = join(world.cwd, 'busy');
      writeFileSync(busy, '#!/bin/sh\necho ran\n', { mode: 0o755 });
      // Held open for writing by this process: execve says ETXTBSY, which no check can foresee.
      const writer = openSync(busy, 'r+');
      t.teardown(() => closeSync(writer));
      const spawned = await runLauncherCli(world, ['--', './busy']);
      t.deepEqual(
        [spawned.exitCode, spawned.stderr],
        [125, 'credexec: ./busy: cannot start (ETXTBSY)\n'],
      );
      const replaced = await runLauncherCli(world, ['--exec', '--', './busy']);
      if (Number(process.versions.node.split('.')[0]) >= 26) {
        t.deepEqual(replaced, spawned);
      } else {
        // The residual risk docs/launcher.md describes: Node aborts (SIGABRT) with a stack
        // dump that names no value.
        t.is(replaced.signal, 'SIGABRT');
        t.regex(replaced.stderr, /process\.execve failed with error code ETXTBSY/);
      }
      t.false(replaced.stderr.includes(CANARY));
    });
  },
);

// util-linux `script` gives credexec a pseudo-terminal whose foreground group it leads.
const hasScript = spawnSync('script', ['--version']).status === 0;
const ttyTest = hasExecve && hasScript ? test : test.skip;

ttyTest(
  'in a terminal, Ctrl-C and Ctrl-\\ reach the command once and it has the terminal',
  async (t) => {
    await withWorld(async (world) => {
      world.manifest('credexec.env', '');
      const quote = (word: string) => `'${word.replaceAll("'", `'\\''`)}'`;
      const command = [
        'exec',
        process.execPath,
        BIN,
        '--exec',
        '--',
        process.execPath,
        world.child,
        'signals',
        world.dir,
      ];
      const terminal = spawn('script', ['-qec', command.map(quote).join(' '), '/dev/null'], {
        cwd: world.cwd,
        env: { ...world.env, SHELL: '/bin/sh' },
        stdio: ['pipe', 'ignore', 'ignore'],
      });
      const closed = new Promise<number | null>((resolve) => terminal.on('close', resolve));
      await waitForFile(join(world.dir, 'ready'));
      const { pid } = JSON.parse(readFileSync(join(world.dir, 'ready'), 'utf8')) as { pid: number };
      // Should an assertion fail, the command must not outlive the test.
      t.teardown(() => {
        try {
          if (terminal.exitCode === null) process.kill(pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      });
      // No credexec in between: the command's parent is `script` itself, and it has the terminal.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      t.is(readFileSync(`/proc/${parent}/comm`, 'utf8').trim(), 'script');
      t.regex(readlinkSync(`/proc/${pid}/fd/0`), /^\/dev\/pts\//);
      terminal.stdin.write('\u0003');
      await sleep(300);
      terminal.stdin.write('\u001c');
      await sleep(300);
      process.kill(pid, 'SIGTERM');
      t.is(await closed, 0);
      t.deepEqual(JSON.parse(readFileSync(join(world.dir, 'counts.json'), 'utf8')), {
        SIGINT: 1,
        SIGQUIT: 1,
        SIGTERM: 1,
      });
    });
  },
);

// A new PID namespace makes credexec PID 1, as in a container started without --init.
const canUnshare = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', 'true']).status === 0;
const pid1Test = hasExecve && canUnshare ? test : test.skip;

pid1Test(
  'as PID 1 of a container the command becomes PID 1 and handles SIGTERM itself',
  async (t) => {
    await withWorld(async (world) => {
      world.manifest('credexec.env', '');
      const container = spawn(
        'unshare',
        [
          '--pid',
          '--fork',
          '--mount-proc',
          process.execPath,
          BIN,
          '--exec',
          '--',
          process.execPath,
          world.child,
          'signals',
          world.dir,
        ],
        { cwd: world.cwd, env: world.env, stdio: ['pipe', 'pipe', 'pipe'] },
      );
      let stderr = '';
      container.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      const closed = new Promise<number | null>((resolve) => container.on('close', resolve));
      await waitForFile(join(world.dir, 'ready'));
      t.is((JSON.parse(readFileSync(join(world.dir, 'ready'), 'utf8')) as { pid: number }).pid, 1);
      const pid1 = Number(
        readFileSync(`/proc/${container.pid}/task/${container.pid}/children`, 'utf8').trim(),
      );
      process.kill(pid1, 'SIGTERM');
      t.is(await closed, 0);
      t.deepEqual(JSON.parse(readFileSync(join(world.dir, 'counts.json'), 'utf8')), { SIGTERM: 1 });
      // The zombie warning still applies: the command is PID 1 now, and reaps only if it is an init.
      t.is(stderr.match(/running as PID 1/g)?.length, 1, stderr);
    });
  },
);

refusalTest(
  'on a Node without process.execve, --exec is refused with one line and exit 2, before anything is resolved',
  async (t) => {
    await withWorld(async (world) => {
      // The credential does not exist: resolving would exit 125.
      world.manifest('credexec.env', 'TOKEN=missing.token\n');
      const expected = `credexec: --exec needs Node ≥ 22.15 (process.execve); this is Node ${process.versions.node}\n`;
      for (const args of [
        ['--exec', '--', 'true'],
        ['run', '--exec', '--', 'true'],
        ['run', '--exec', 'printenv', 'TOKEN'],
      ]) {
        const result = await runLauncherCli(world, args);
        t.deepEqual(
          [result.exitCode, result.stdout, result.stderr],
          [2, '', expected],
          args.join(' '),
        );
      }
    });
  },
);
