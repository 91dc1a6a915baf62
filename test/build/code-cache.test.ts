import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { BIN } from '../support/cli.js';
import { REPO_ROOT } from '../support/vectors.js';
import { createWorld, type LauncherWorld } from '../support/launcher.js';

// bin/load-bundle.cjs keeps V8's code cache of the bundle in a private directory between launcher
// runs. These tests run the real bin and look at what it leaves in $XDG_CACHE_HOME.

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function credexec(world: LauncherWorld, args: readonly string[], env: Record<string, string>): Run {
  const run = spawnSync(process.execPath, [BIN, ...args], {
    cwd: world.cwd,
    env: { ...world.env, ...env },
    encoding: 'utf8',
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

async function withWorld(run: (world: LauncherWorld) => Promise<void> | void): Promise<void> {
  const world = await createWorld();
  try {
    await world.put('one', 'value-1', '1');
    world.manifest('credexec.env', 'ONE=one\n');
    await run(world);
  } finally {
    world.cleanup();
  }
}

const mode = (path: string) => statSync(path).mode & 0o777;
const launch = ['--', 'sh', '-c', 'printf %s "$ONE"'];

function cacheFiles(dir: string): string[] {
  return readdirSync(dir).sort();
}

test('a launcher run leaves the code cache in a 0700 directory of 0600 files, and the next run uses it as it is', async (t) => {
  await withWorld((world) => {
    const cacheHome = join(world.dir, 'cache');
    const dir = join(cacheHome, 'credexec', 'code-cache');
    const first = credexec(world, launch, { XDG_CACHE_HOME: cacheHome });
    t.deepEqual(first, { status: 0, stdout: 'value-1', stderr: '' });
    t.is(mode(dir), 0o700);
    const files = cacheFiles(dir);
    t.true(
      files.some((file) => file.startsWith('credexec.cjs.')),
      files.join(),
    );
    for (const file of files) {
      t.regex(file, /^[\w-]+\.cjs\.[0-9a-f]{16}\.cache$/);
      t.is(mode(join(dir, file)), 0o600, file);
    }
    const before = files.map((file) => statSync(join(dir, file)).mtimeMs);
    // A cache V8 rejected would be written again: the files stay as they are.
    const second = credexec(world, launch, { XDG_CACHE_HOME: cacheHome });
    t.deepEqual(second, first);
    t.deepEqual(cacheFiles(dir), files);
    t.deepEqual(
      files.map((file) => statSync(join(dir, file)).mtimeMs),
      before,
    );
  });
});

test('without XDG_CACHE_HOME the cache goes to ~/.cache/credexec/code-cache', async (t) => {
  await withWorld((world) => {
    const home = join(world.dir, 'home');
    mkdirSync(home);
    t.is(credexec(world, launch, { HOME: home }).status, 0);
    const files = cacheFiles(join(home, '.cache', 'credexec', 'code-cache'));
    t.true(
      files.some((file) => file.startsWith('credexec.cjs.')),
      files.join(),
    );
  });
});

test('commands other than the launcher read the cache but never write it', async (t) => {
  await withWorld((world) => {
    const cacheHome = join(world.dir, 'cache');
    t.deepEqual(credexec(world, ['get', 'one'], { XDG_CACHE_HOME: cacheHome }), {
      status: 0,
      stdout: 'value-1\n',
      stderr: '',
    });
    t.is(credexec(world, ['--version'], { XDG_CACHE_HOME: cacheHome }).status, 0);
    t.deepEqual(readdirSync(world.dir).sort(), ['child.mjs', 'runtime', 'store', 'work']);
  });
});

test('a launcher run that fails before the command (125) writes no cache', async (t) => {
  await withWorld((world) => {
    const cacheHome = join(world.dir, 'cache');
    const manifest = world.manifest('missing.env', 'MISSING=no-such-secret\n');
    const run = credexec(world, ['-m', manifest, ...launch], { XDG_CACHE_HOME: cacheHome });
    t.is(run.status, 125);
    t.deepEqual(readdirSync(world.dir).sort(), ['child.mjs', 'runtime', 'store', 'work']);
  });
});

test('NODE_DISABLE_COMPILE_CACHE turns the code cache off', async (t) => {
  await withWorld((world) => {
    const cacheHome = join(world.dir, 'cache');
    const run = credexec(world, launch, {
      XDG_CACHE_HOME: cacheHome,
      NODE_DISABLE_COMPILE_CACHE: '1',
    });
    t.deepEqual(run, { status: 0, stdout: 'value-1', stderr: '' });
    t.deepEqual(readdirSync(world.dir).sort(), ['child.mjs', 'runtime', 'store', 'work']);
  });
});

test('a cache directory that cannot be created changes nothing in the run', async (t) => {
  await withWorld((world) => {
    // A file where a directory should be: mkdir fails with ENOTDIR whoever runs the test.
    const blocker = join(world.dir, 'not-a-directory');
    writeFileSync(blocker, '');
    const run = credexec(world, launch, { XDG_CACHE_HOME: join(blocker, 'cache') });
    t.deepEqual(run, { status: 0, stdout: 'value-1', stderr: '' });
  });
});

test('a cache directory that others can write to is not used', async (t) => {
  await withWorld((world) => {
    const cacheHome = join(world.dir, 'cache');
    const dir = join(cacheHome, 'credexec', 'code-cache');
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o777);
    const run = credexec(world, launch, { XDG_CACHE_HOME: cacheHome });
    t.deepEqual(run, { status: 0, stdout: 'value-1', stderr: '' });
    t.deepEqual(readdirSync(dir), []);
  });
});

test('a corrupt cache file is replaced, and files unused for 30 days are removed', async (t) => {
  await withWorld((world) => {
    const cacheHome = join(world.dir, 'cache');
    const dir = join(cacheHome, 'credexec', 'code-cache');
    t.is(credexec(world, launch, { XDG_CACHE_HOME: cacheHome }).status, 0);
    const entry = cacheFiles(dir).find((file) => file.startsWith('credexec.cjs.'))!;
    const garbage = Buffer.alloc(statSync(join(dir, entry)).size, 0x5a);
    writeFileSync(join(dir, entry), garbage);
    const old = join(dir, 'chunk-OLD.cjs.00000000000000000000000000000000.cache');
    writeFileSync(old, 'from a previous version');
    const fortyDaysAgo = Date.now() / 1000 - 40 * 24 * 3600;
    utimesSync(old, fortyDaysAgo, fortyDaysAgo);

    const run = credexec(world, launch, { XDG_CACHE_HOME: cacheHome });
    t.deepEqual(run, { status: 0, stdout: 'value-1', stderr: '' });
    const rewritten = readFileSync(join(dir, entry));
    t.false(rewritten.equals(garbage));
    t.false(cacheFiles(dir).includes('chunk-OLD.cjs.00000000000000000000000000000000.cache'));
    // What was written is accepted: the next run leaves it alone.
    const written = statSync(join(dir, entry)).mtimeMs;
    t.is(credexec(world, launch, { XDG_CACHE_HOME: cacheHome }).status, 0);
    t.is(statSync(join(dir, entry)).mtimeMs, written);
  });
});

test('Node options are part of the key: each set of them gets its own files', async (t) => {
  await withWorld((world) => {
    const cacheHome = join(world.dir, 'cache');
    const dir = join(cacheHome, 'credexec', 'code-cache');
    t.is(credexec(world, launch, { XDG_CACHE_HOME: cacheHome }).status, 0);
    const plain = cacheFiles(dir);
    const withOptions = credexec(world, launch, {
      XDG_CACHE_HOME: cacheHome,
      NODE_OPTIONS: '--stack-trace-limit=50',
    });
    t.deepEqual(withOptions, { status: 0, stdout: 'value-1', stderr: '' });
    const all = cacheFiles(dir);
    t.is(all.length, 2 * plain.length);
    t.true(plain.every((file) => all.includes(file)));
  });
});

test('a bundle file changed in place, even to the same length, does not run from its old cache', async (t) => {
  await withWorld((world) => {
    // A copy of bin/ and dist/bundle/ to change. V8 checks a cache against the source's length
    // only: the key must tell the two files apart, or the old message would still be printed.
    const copy = join(world.dir, 'package');
    cpSync(join(REPO_ROOT, 'bin'), join(copy, 'bin'), { recursive: true });
    cpSync(join(REPO_ROOT, 'dist', 'bundle'), join(copy, 'dist', 'bundle'), { recursive: true });
    const cacheHome = join(world.dir, 'cache');
    const run = () =>
      spawnSync(process.execPath, [join(copy, 'bin', 'credexec.cjs'), '--', 'no-such-command'], {
        cwd: world.cwd,
        env: { ...world.env, XDG_CACHE_HOME: cacheHome },
        encoding: 'utf8',
      });
    const before = run();
    t.is(before.status, 127);
    t.true(before.stderr.startsWith('credexec: no-such-command: command not found'), before.stderr);
    t.true(cacheFiles(join(cacheHome, 'credexec', 'code-cache')).length > 0);
    const entry = join(copy, 'dist', 'bundle', 'credexec.cjs');
    const text = readFileSync(entry, 'utf8');
    t.is(text.split('command not found').length, 2, 'the message is in the bundle once');
    writeFileSync(entry, text.replace('command not found', 'command NOT found'));
    const after = run();
    t.is(after.status, 127);
    t.is(after.stderr, before.stderr.replace('command not found', 'command NOT found'));
  });
});
