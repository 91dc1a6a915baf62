import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { exceedsArgLimits, processArgLimits } from '../../src/exec/arg-limits.js';
import { programLoader } from '../../src/exec/predict-exec.js';
import type { CliResult } from '../support/cli.js';
import { runLauncherCli, withWorld, type LauncherWorld } from '../support/launcher.js';

// Exec mode must find and refuse commands exactly as the spawning launcher does: each case runs
// `credexec -- CMD` and `credexec --exec -- CMD` in the same world and compares everything.
const hasExecve = typeof (process as { execve?: unknown }).execve === 'function';
const execTest = hasExecve ? test : test.skip;

/** A program that says how it was run. */
const SCRIPT = '#!/bin/sh\necho "ran $0 with $# argument(s)"\n';

function program(path: string, text = SCRIPT, mode = 0o755): string {
  writeFileSync(path, text);
  chmodSync(path, mode);
  return path;
}

interface Case {
  readonly title: string;
  /** Files in the world; returns the words after `--` and the environment to add (or remove). */
  readonly setup: (world: LauncherWorld) => Promise<Setup> | Setup;
  /** What the spawning launcher does (so the comparison is between meaningful outcomes). */
  readonly spawned: {
    readonly exitCode: number;
    readonly stderr?: RegExp;
    readonly stdout?: RegExp;
  };
}

interface Setup {
  readonly command: readonly string[];
  readonly env?: Record<string, string | undefined>;
  readonly manifest?: string;
}

const notFound = (name: string, code = 'ENOENT') =>
  new RegExp(`^credexec: ${name}: command not found \\(${code}\\)\\n$`);
const denied = (name: string) =>
  new RegExp(`^credexec: ${name}: permission denied or not executable \\(EACCES\\)\\n$`);

/** /bin/true with its program loader renamed: the kernel says ENOENT for an existing file. */
function withMissingLoader(path: string): string | undefined {
  const loader = programLoader('/bin/true');
  if (loader === undefined) return undefined;
  const binary = readFileSync('/bin/true');
  const at = binary.indexOf(Buffer.from(`${loader}\0`, 'latin1'));
  if (at === -1) return undefined;
  binary[at + loader.length - 1] = 0x5a; // last character → 'Z'
  writeFileSync(path, binary);
  chmodSync(path, 0o755);
  return path;
}

const CASES: readonly Case[] = [
  {
    title: 'a command found nowhere on PATH',
    setup: () => ({ command: ['credexec-no-such-command'] }),
    spawned: { exitCode: 127, stderr: notFound('credexec-no-such-command') },
  },
  {
    title: 'a path to a file that does not exist',
    setup: () => ({ command: ['./missing'] }),
    spawned: { exitCode: 127, stderr: notFound('\\./missing') },
  },
  {
    title: 'a directory given by path',
    setup: (world) => {
      mkdirSync(join(world.cwd, 'adir'));
      return { command: ['./adir'] };
    },
    spawned: { exitCode: 126, stderr: denied('\\./adir') },
  },
  {
    title: 'a directory found on PATH, and nothing better',
    setup: (world) => {
      mkdirSync(join(world.dir, 'bin1', 'tool'), { recursive: true });
      return { command: ['tool'], env: { PATH: `${join(world.dir, 'bin1')}:/nonexistent` } };
    },
    spawned: { exitCode: 126, stderr: denied('tool') },
  },
  {
    title: 'a directory on PATH before the program of the same name',
    setup: (world) => {
      mkdirSync(join(world.dir, 'bin1', 'tool'), { recursive: true });
      mkdirSync(join(world.dir, 'bin2'));
      program(join(world.dir, 'bin2', 'tool'));
      const path = `${join(world.dir, 'bin1')}:${join(world.dir, 'bin2')}`;
      return { command: ['tool', 'a'], env: { PATH: path } };
    },
    spawned: { exitCode: 0, stdout: /^ran \/.*\/bin2\/tool with 1 argument\(s\)\n$/ },
  },
  {
    title: 'a file without execute permission',
    setup: (world) => {
      program(join(world.cwd, 'plain'), SCRIPT, 0o644);
      return { command: ['./plain'] };
    },
    spawned: { exitCode: 126, stderr: denied('\\./plain') },
  },
  {
    title: 'a file without execute permission on PATH, then one that runs',
    setup: (world) => {
      mkdirSync(join(world.dir, 'bin1'));
      mkdirSync(join(world.dir, 'bin2'));
      program(join(world.dir, 'bin1', 'tool'), SCRIPT, 0o644);
      program(join(world.dir, 'bin2', 'tool'));
      const path = `${join(world.dir, 'bin1')}:${join(world.dir, 'bin2')}`;
      return { command: ['tool'], env: { PATH: path } };
    },
    spawned: { exitCode: 0, stdout: /^ran \/.*\/bin2\/tool with 0 argument\(s\)\n$/ },
  },
  {
    title: 'an executable script without a #! line (the C library runs it with /bin/sh)',
    setup: (world) => {
      program(join(world.cwd, 'noshebang'), 'echo "sh ran $0 with $# argument(s)"\nexit 3\n');
      return { command: ['./noshebang', 'x', 'y'] };
    },
    spawned: { exitCode: 3, stdout: /^sh ran \.\/noshebang with 2 argument\(s\)\n$/ },
  },
  {
    title: 'an empty executable file',
    setup: (world) => {
      program(join(world.cwd, 'empty'), '');
      return { command: ['./empty'] };
    },
    spawned: { exitCode: 0, stdout: /^$/ },
  },
  {
    title: 'a file that starts like an ELF program but is not one',
    setup: (world) => {
      program(join(world.cwd, 'notelf'), '\x7fELF-not-really\n');
      return { command: ['./notelf'] };
    },
    // /bin/sh runs it and cannot find the "command" on its first line.
    spawned: { exitCode: 127, stderr: /not found/ },
  },
  {
    title: 'a #! line naming an interpreter that does not exist',
    setup: (world) => {
      program(join(world.cwd, 'badinterp'), '#!/nonexistent/interpreter\necho hi\n');
      return { command: ['./badinterp'] };
    },
    spawned: { exitCode: 127, stderr: notFound('\\./badinterp') },
  },
  {
    title: 'a #! line with a CR at the end (a file saved with Windows line ends)',
    setup: (world) => {
      program(join(world.cwd, 'crlf'), '#!/bin/sh\r\necho hi\r\n');
      return { command: ['./crlf'] };
    },
    spawned: { exitCode: 127, stderr: notFound('\\./crlf') },
  },
  {
    title: 'a #! script whose interpreter is missing, on PATH before one that runs',
    setup: (world) => {
      mkdirSync(join(world.dir, 'bin1'));
      mkdirSync(join(world.dir, 'bin2'));
      program(join(world.dir, 'bin1', 'tool'), '#!/nonexistent/interpreter\n');
      program(join(world.dir, 'bin2', 'tool'));
      const path = `${join(world.dir, 'bin1')}:${join(world.dir, 'bin2')}`;
      return { command: ['tool'], env: { PATH: path } };
    },
    spawned: { exitCode: 0, stdout: /^ran \/.*\/bin2\/tool with 0 argument\(s\)\n$/ },
  },
  {
    title: 'an ELF program whose loader does not exist',
    setup: (world) => {
      const path = withMissingLoader(join(world.cwd, 'noloader'));
      return { command: [path === undefined ? '/bin/true' : './noloader'] };
    },
    spawned: { exitCode: 127, stderr: notFound('\\./noloader') },
  },
  {
    title: 'a relative path with a directory',
    setup: (world) => {
      mkdirSync(join(world.cwd, 'sub'));
      program(join(world.cwd, 'sub', 'tool'));
      return { command: ['sub/tool', '1', '2'] };
    },
    spawned: { exitCode: 0, stdout: /^ran sub\/tool with 2 argument\(s\)\n$/ },
  },
  {
    title: 'a name in the current directory, which PATH does not search',
    setup: (world) => {
      program(join(world.cwd, 'here'));
      return { command: ['here'] };
    },
    spawned: { exitCode: 127, stderr: notFound('here') },
  },
  {
    title: 'an empty PATH entry, which means the current directory',
    setup: (world) => {
      program(join(world.cwd, 'here'));
      return { command: ['here'], env: { PATH: '/nonexistent::/usr/bin:/bin' } };
    },
    spawned: { exitCode: 0, stdout: /^ran here with 0 argument\(s\)\n$/ },
  },
  {
    title: 'a PATH that is empty',
    setup: (world) => {
      program(join(world.cwd, 'here'));
      return { command: ['here'], env: { PATH: '' } };
    },
    spawned: { exitCode: 0, stdout: /^ran here with 0 argument\(s\)\n$/ },
  },
  {
    title: 'no PATH at all (the C library searches /bin:/usr/bin)',
    setup: () => ({ command: ['printenv', 'PATH'], env: { PATH: undefined } }),
    // Found without a PATH, and sees none: printenv prints nothing and exits 1.
    spawned: { exitCode: 1, stdout: /^$/ },
  },
  {
    title: 'a PATH entry that is a file',
    setup: () => ({ command: ['ls'], env: { PATH: '/etc/passwd' } }),
    spawned: { exitCode: 127, stderr: notFound('ls', 'ENOTDIR') },
  },
  {
    title: 'a symbolic link to a program',
    setup: (world) => {
      symlinkSync(program(join(world.dir, 'target')), join(world.cwd, 'link'));
      return { command: ['./link'] };
    },
    spawned: { exitCode: 0, stdout: /^ran \.\/link with 0 argument\(s\)\n$/ },
  },
  {
    title: 'a symbolic link to nothing',
    setup: (world) => {
      symlinkSync(join(world.dir, 'nothing'), join(world.cwd, 'dangling'));
      return { command: ['./dangling'] };
    },
    spawned: { exitCode: 127, stderr: notFound('\\./dangling') },
  },
  {
    title: 'an empty command name',
    setup: () => ({ command: [''] }),
    spawned: { exitCode: 125, stderr: /^credexec: : cannot start \(ERR_INVALID_ARG_VALUE\)\n$/ },
  },
  {
    title: 'a command name longer than a file name may be',
    setup: () => ({ command: ['n'.repeat(300)] }),
    spawned: { exitCode: 125, stderr: /^credexec: n{300}: cannot start \(ENAMETOOLONG\)\n$/ },
  },
  {
    title: 'a secret too large for one environment variable',
    setup: async (world) => {
      await world.put('big-cert', 'c'.repeat(200 * 1024), '1');
      return { command: ['true'], manifest: 'BIG_CERT=big-cert\n' };
    },
    spawned: {
      exitCode: 125,
      stderr:
        /^credexec: true: cannot start: the environment is too large \(E2BIG\): BIG_CERT is 204809 bytes as NAME=value, over the 131072 one variable may take; largest variables: BIG_CERT 204809 bytes, .*; use "file": true for large secrets\n$/,
    },
  },
  {
    title: 'an environment too large as a whole',
    setup: async (world) => {
      // credexec itself still starts with these (2 MiB less a few KiB); its child does not.
      await world.put('part', 'p'.repeat(100 * 1024), '1');
      const inherited = Object.fromEntries(
        Array.from({ length: 17 }, (_, i) => [`INHERITED_${i}`, 'i'.repeat(120 * 1024)]),
      );
      return { command: ['true'], manifest: 'PART=part\n', env: inherited };
    },
    spawned: {
      exitCode: 125,
      stderr:
        /^credexec: true: cannot start: the arguments and environment are too large together \(E2BIG\): \d+ bytes of environment and 5 bytes of arguments, over the system limit \(usually 2 MiB in all\); largest variables: INHERITED_\d+ 12289\d bytes, .*\n$/,
    },
  },
  {
    title: 'an environment too large, for a command that is not found',
    setup: async (world) => {
      await world.put('big-cert', 'c'.repeat(200 * 1024), '1');
      return { command: ['credexec-no-such-command'], manifest: 'BIG_CERT=big-cert\n' };
    },
    spawned: { exitCode: 127, stderr: notFound('credexec-no-such-command') },
  },
];

function comparable(result: CliResult) {
  return {
    exitCode: result.exitCode,
    signal: result.signal,
    stdout: result.stdout,
    stderr: result.stderr,
  };
}

for (const { title, setup, spawned } of CASES) {
  execTest(`${title}: --exec answers exactly as the spawning launcher does`, async (t) => {
    await withWorld(async (world) => {
      const { command, env = {}, manifest = '' } = await setup(world);
      world.manifest('credexec.env', manifest);
      const asChild = await runLauncherCli(world, ['--', ...command], env);
      t.is(asChild.exitCode, spawned.exitCode, asChild.stderr);
      if (spawned.stderr !== undefined) t.regex(asChild.stderr, spawned.stderr);
      else t.is(asChild.stderr, '');
      if (spawned.stdout !== undefined) t.regex(asChild.stdout, spawned.stdout);
      const replaced = await runLauncherCli(world, ['--exec', '--', ...command], env);
      t.deepEqual(comparable(replaced), comparable(asChild));
      // Never a value in any output.
      t.false(/cccccccc|pppppppp/.test(asChild.stderr + replaced.stderr));
    });
  });
}

test('the ELF case has an ELF program to break (/bin/true is dynamically linked here)', (t) => {
  t.not(programLoader('/bin/true'), undefined);
});

/** The largest `SECRET_PAD` the kernel still accepts for `/bin/true` with `env` around it. */
function kernelBoundary(env: Record<string, string>): number {
  const runs = (size: number) =>
    spawnSync('/bin/true', [], { env: { ...env, SECRET_PAD: 's'.repeat(size) } }).error ===
    undefined;
  let [low, high] = [0, 128 * 1024];
  if (!runs(low) || runs(high)) throw new Error('no boundary between 0 and 128 KiB');
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (runs(middle)) low = middle;
    else high = middle;
  }
  return low;
}

execTest(
  'at the exact byte where the kernel starts refusing the environment, --exec starts and refuses as the spawning launcher does',
  async (t) => {
    await withWorld(async (world) => {
      // Fill the environment to within ~60 KiB of the limit with inherited variables (credexec
      // itself must still start: its own CREDEXEC_* variables and arguments are larger than
      // the child's), and let a secret take it exactly to the limit.
      const limits = processArgLimits()!;
      const budget = Math.max(Math.min(6 * 2 ** 20, Math.floor(limits.stackBytes / 4)), 2 ** 17);
      const fillers = Math.floor((budget - 60 * 1024) / (120 * 1024));
      const inherited = Object.fromEntries(
        Array.from({ length: fillers }, (_, i) => [`FILL_${i}`, 'f'.repeat(120 * 1024)]),
      );
      const childEnv = Object.fromEntries(
        Object.entries({ ...world.env, ...inherited }).filter(
          (entry): entry is [string, string] =>
            entry[1] !== undefined && !entry[0].startsWith('CREDEXEC_'),
        ),
      );
      const size = kernelBoundary(childEnv);
      t.true(size > 10 * 1024 && size < 128 * 1024, `boundary at ${size}`);
      // The model agrees with the kernel on both sides of the boundary.
      const pad = (n: number) => ({ ...childEnv, SECRET_PAD: 's'.repeat(n) });
      t.false(exceedsArgLimits('/bin/true', ['/bin/true'], pad(size), limits));
      t.true(exceedsArgLimits('/bin/true', ['/bin/true'], pad(size + 1), limits));

      world.manifest('credexec.env', 'SECRET_PAD=pad\n');
      for (const [bytes, exitCode] of [
        [size, 0],
        [size + 1, 125],
      ] as const) {
        await world.put('pad', 's'.repeat(bytes));
        const asChild = await runLauncherCli(world, ['--', '/bin/true'], inherited);
        t.is(asChild.exitCode, exitCode, asChild.stderr);
        const replaced = await runLauncherCli(world, ['--exec', '--', '/bin/true'], inherited);
        t.deepEqual(comparable(replaced), comparable(asChild));
      }
    });
  },
);
