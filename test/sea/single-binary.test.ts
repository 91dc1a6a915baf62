import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import type { CliResult } from '../support/cli.js';
import { startCli, waitForFile } from '../support/launcher.js';
import { REPO_ROOT } from '../support/vectors.js';

// The single executable (`npm run build:sea`, docs/single-binary.md), tested as it is used: copied
// alone into an empty directory and run with a PATH on which there is no `node`, with no
// node_modules anywhere near it.
//
// It is a build product of its own, made by a separate, slower step with a Node of its own, so
// `npm test` on a fresh clone does not build it. Locally its tests are skipped when it is absent.
// In CI (CI=true) an absent binary fails instead: CI builds it before the suite, and a binary that
// went missing would otherwise pass as "skipped" for ever.
const BUILT = join(REPO_ROOT, 'dist', 'sea', 'credexec-linux-x64');
const { version } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
  version: string;
};
// What the tests' commands need, linked into a directory of their own: no `node` among them.
const TOOLS = ['sh', 'sleep', 'true'];

type Run = CliResult;

interface Started {
  readonly pid: number;
  readonly result: Promise<Run>;
}

interface World {
  /** The working directory (where credexec.env is). */
  readonly cwd: string;
  /** The same arguments given to the npm package's bin (by this Node), in the same environment. */
  npm(args: readonly string[]): Promise<Run>;
  start(
    args: readonly string[],
    options?: { input?: string; env?: Record<string, string> },
  ): Started;
  run(
    args: readonly string[],
    options?: { input?: string; env?: Record<string, string> },
  ): Promise<Run>;
}

let shared: { dir: string; binary: string; path: string } | undefined;

/** One copy of the binary for the whole file, in a directory holding nothing else. */
function sharedBinary(): { dir: string; binary: string; path: string } {
  if (shared !== undefined) return shared;
  const dir = mkdtempSync(join(tmpdir(), 'credexec-sea-'));
  const binary = join(dir, 'alone', 'credexec');
  mkdirSync(join(dir, 'alone'));
  copyFileSync(BUILT, binary);
  chmodSync(binary, 0o755);
  const path = join(dir, 'tools');
  mkdirSync(path);
  for (const tool of TOOLS) {
    const found = ['/usr/bin', '/bin'].map((bin) => join(bin, tool)).find(existsSync);
    if (found === undefined) throw new Error(`no ${tool} in /usr/bin or /bin`);
    symlinkSync(found, join(path, tool));
  }
  shared = { dir, binary, path };
  return shared;
}

function createWorld(): World {
  const { dir: root, binary, path } = sharedBinary();
  const dir = mkdtempSync(join(root, 'world-'));
  const cwd = join(dir, 'work');
  mkdirSync(cwd);
  mkdirSync(join(dir, 'runtime'), { mode: 0o700 });
  const env = {
    PATH: path,
    HOME: join(dir, 'home'),
    LANG: 'C.UTF-8',
    XDG_RUNTIME_DIR: join(dir, 'runtime'),
    CREDEXEC_BACKEND: 'local',
    CREDEXEC_LOCAL_DIR: join(dir, 'store'),
  };
  const start: World['start'] = (args, options = {}) => {
    const started = startCli(args, {
      binary,
      cwd,
      env: { ...env, ...options.env },
      ...(options.input === undefined ? {} : { input: options.input }),
    });
    return { pid: started.process.pid!, result: started.result };
  };
  const npm: World['npm'] = (args) => startCli(args, { cwd, env }).result;
  return { cwd, npm, start, run: (args, options) => start(args, options).result };
}

/** A world with a set-up store holding db.password and a credexec.env naming it. */
async function worldWithSecret(): Promise<World> {
  const world = createWorld();
  for (const [args, input] of [
    [['setup'], ''],
    [['put', 'db.password', '-'], 'hunter2'],
  ] as const) {
    const run = await world.run(args, { input });
    if (run.exitCode !== 0) throw new Error(`${args.join(' ')} failed: ${run.stderr}`);
  }
  writeFileSync(join(world.cwd, 'credexec.env'), 'DB_PASSWORD=db.password\n');
  return world;
}

const ok = (stdout: string): Run => ({ exitCode: 0, signal: null, stdout, stderr: '' });

function tests(): void {
  test.after.always(() => {
    if (shared !== undefined) rmSync(shared.dir, { recursive: true, force: true });
  });

  test('alone, with no node on PATH: setup, put and get round-trip a value', async (t) => {
    const world = createWorld();
    t.deepEqual(readdirSync(join(sharedBinary().dir, 'alone')), ['credexec']);
    t.deepEqual(await world.run(['--version']), ok(`${version}\n`));
    t.is((await world.run(['setup'])).exitCode, 0);
    const put = await world.run(['put', 'api.key', '-'], { input: 'value with spaces' });
    t.is(put.exitCode, 0, put.stderr);
    t.deepEqual(await world.run(['get', 'api.key']), ok('value with spaces\n'));
  });

  test('the launcher gives the command its secret, and the command finds no node', async (t) => {
    const world = await worldWithSecret();
    const run = await world.run([
      '-m',
      'credexec.env',
      '--',
      'sh',
      '-c',
      'printf "%s|" "$DB_PASSWORD"; command -v node || echo no-node',
    ]);
    t.deepEqual(run, ok('hunter2|no-node\n'));
  });

  test('its arguments are credexec’s, never options for the Node inside it', async (t) => {
    const world = await worldWithSecret();
    // `-- node -v` is a command to run (and there is no node here), not a question for Node.
    for (const [args, code] of [
      [['-e', 'process.exit(0)'], 2],
      [['--inspect', 'get', 'db.password'], 2],
      [['--', 'node', '-v'], 127],
    ] as const) {
      const run = await world.run(args);
      t.is(run.exitCode, code, `${args.join(' ')}: ${run.stderr}`);
      t.true(run.stderr.startsWith('credexec: '), run.stderr);
      t.deepEqual(run, await world.npm(args), `the npm package says the same to ${args.join(' ')}`);
    }
  });

  test('--audit-log loads the audit chunk from the binary’s assets and records the run', async (t) => {
    const world = await worldWithSecret();
    const run = await world.run(['--audit-log', '-', '--', 'true']);
    t.is(run.exitCode, 0, run.stderr);
    const records = run.stderr
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as { event: string; command: string });
    t.deepEqual(
      records.map(({ event, command }) => ({ event, command })),
      [
        { event: 'start', command: 'true' },
        { event: 'end', command: 'true' },
      ],
    );
    t.false(run.stderr.includes('hunter2'));
  });

  test('NODE_OPTIONS is the command’s: the binary ignores it and passes it on', async (t) => {
    const world = await worldWithSecret();
    const run = await world.run(['--', 'sh', '-c', 'printf %s "$NODE_OPTIONS"'], {
      env: { NODE_OPTIONS: '--require=/nonexistent/preload.js' },
    });
    t.deepEqual(run, ok('--require=/nonexistent/preload.js'));
  });

  test('exit codes: 0, 1, 2, 125, 126, 127 and the command’s own, as the npm package gives them', async (t) => {
    const world = await worldWithSecret();
    writeFileSync(join(world.cwd, 'missing.env'), 'NOPE=no.such.secret\n');
    writeFileSync(join(world.cwd, 'not-executable'), '#!/bin/sh\n', { mode: 0o644 });
    const cases: [string[], number][] = [
      [['--', 'true'], 0],
      [['get', 'no.such.secret'], 1],
      [['get'], 2],
      [['-m', 'missing.env', '--', 'true'], 125],
      [['--', './not-executable'], 126],
      [['--', 'no-such-command'], 127],
      [['--', 'sh', '-c', 'exit 42'], 42],
    ];
    for (const [args, code] of cases) {
      const run = await world.run(args);
      t.is(run.exitCode, code, `${args.join(' ')}: ${run.stderr}`);
      // credexec's own failures say so on stderr; the command's status passes through silently.
      if (code === 0 || code === 42) t.is(run.stderr, '', args.join(' '));
      else t.true(run.stderr.startsWith('credexec: '), `${args.join(' ')}: ${run.stderr}`);
      t.deepEqual(run, await world.npm(args), `the npm package says the same to ${args.join(' ')}`);
    }
  });

  test('SIGTERM sent to credexec reaches the command exactly once', async (t) => {
    const world = await worldWithSecret();
    const counts = join(world.cwd, 'counts');
    const ready = join(world.cwd, 'ready');
    // A second SIGTERM, if one came, would arrive during the last sleep and be counted too.
    const script = `n=0; trap 'n=$((n+1)); echo "$n" > ${counts}' TERM; echo > ${ready};
      while [ "$n" -eq 0 ]; do sleep 0.05; done; sleep 0.5; exit 0`;
    const started = world.start(['--', 'sh', '-c', script]);
    await waitForFile(ready);
    process.kill(started.pid, 'SIGTERM');
    t.deepEqual(await started.result, ok(''));
    t.is(readFileSync(counts, 'utf8'), '1\n');
  });

  test('--exec: the Node inside has process.execve, so the command becomes the process, keeping its pid', async (t) => {
    const world = await worldWithSecret();
    const started = world.start(['--exec', '--', 'sh', '-c', 'echo "$$ $DB_PASSWORD"']);
    t.deepEqual(await started.result, ok(`${started.pid} hunter2\n`));
  });

  test('a command killed by a signal makes credexec die of the same signal', async (t) => {
    const world = await worldWithSecret();
    const run = await world.run(['--', 'sh', '-c', 'kill -TERM $$']);
    t.deepEqual(run, { exitCode: null, signal: 'SIGTERM', stdout: '', stderr: '' });
  });
}

if (existsSync(BUILT)) {
  tests();
} else if (process.env.CI === 'true') {
  test('the single executable was built before the tests', (t) => {
    t.fail(`${BUILT} is missing: CI must run \`npm run build:sea\` before the tests`);
  });
} else {
  test.skip('the single executable (not built: `npm run build:sea` builds it)', () => {});
}
