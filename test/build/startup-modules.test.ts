import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { BIN } from '../support/cli.js';
import { createWorld } from '../support/launcher.js';

// What the built CLI loads of Node itself on the launcher's path. Each builtin below costs a few
// milliseconds of start-up that `credexec -- CMD` does not need (the bench measures the total).
const PRELOAD = `
const before = new Set(process.moduleLoadList);
process.on('exit', () => {
  const loaded = process.moduleLoadList.filter((name) => !before.has(name));
  require('node:fs').writeFileSync(process.env.MODULE_LIST_OUT, loaded.join('\\n'));
});
`;

const AVOIDED = [
  // The ESM loader: the bin and the bundle are CommonJS.
  'NativeModule internal/modules/esm/loader',
  'NativeModule internal/modules/esm/translators',
  // node:module (createRequire), which pulls in parts of the ESM loader and source maps.
  'NativeModule module',
  // node:fs/promises (FileHandle, streams, readline, watchers): the reads use fs callbacks.
  'NativeModule internal/fs/promises',
  // node:tty: isatty(0) is asked only when a terminal signal arrives.
  'NativeModule tty',
  // node:util's parseArgs (about a millisecond): the launcher's arguments have a parser of their own.
  'NativeModule internal/util/parse_args/parse_args',
];

test('credexec -- true on the local backend loads none of the builtins it can do without', async (t) => {
  const world = await createWorld();
  try {
    await world.put('one', 'value-1', '1');
    const preload = join(world.dir, 'module-list.cjs');
    const out = join(world.dir, 'module-list.txt');
    writeFileSync(preload, PRELOAD);
    for (const text of ['', 'ONE=one\n']) {
      const manifest = world.manifest('credexec.env', text);
      const run = spawnSync(process.execPath, ['-r', preload, BIN, '-m', manifest, '--', 'true'], {
        cwd: world.cwd,
        env: { ...world.env, MODULE_LIST_OUT: out },
        encoding: 'utf8',
      });
      t.is(run.status, 0, run.stderr);
      const loaded = readFileSync(out, 'utf8').split('\n');
      // The list is real: loading credexec needs crypto and spawning needs child_process.
      t.true(loaded.includes('NativeModule crypto'), loaded.join(' '));
      t.true(loaded.includes('NativeModule child_process'), loaded.join(' '));
      for (const name of AVOIDED) t.false(loaded.includes(name), `${name} (manifest: "${text}")`);
    }
  } finally {
    world.cleanup();
  }
});

// Which bundle chunks a run opens (bin/load-bundle.cjs reads each with fs.openSync).
const OPENED_PRELOAD = `
const fs = require('node:fs');
const opened = [];
const openSync = fs.openSync;
fs.openSync = function (path, ...rest) {
  opened.push(String(path));
  return openSync.call(this, path, ...rest);
};
process.on('exit', () => fs.writeFileSync(process.env.OPENED_OUT, opened.join('\\n')));
`;

/**
 * A launch without `flags` opens no chunk matching `chunk`; one with them opens exactly one, and
 * loads none of the avoided builtins.
 */
async function loadedOnlyWith(
  t: ExecutionContext,
  chunk: RegExp,
  flags: (dir: string) => string[],
): Promise<void> {
  const world = await createWorld();
  try {
    await world.put('one', 'value-1', '1');
    const manifest = world.manifest('credexec.env', 'ONE=one\n');
    const opened = join(world.dir, 'opened.cjs');
    const modules = join(world.dir, 'module-list.cjs');
    writeFileSync(opened, OPENED_PRELOAD);
    writeFileSync(modules, PRELOAD);
    const out = join(world.dir, 'out.txt');
    const run = (preload: string, extra: string[]) => {
      const result = spawnSync(
        process.execPath,
        ['-r', preload, BIN, ...extra, '-m', manifest, '--', 'true'],
        {
          cwd: world.cwd,
          env: { ...world.env, OPENED_OUT: out, MODULE_LIST_OUT: out },
          encoding: 'utf8',
        },
      );
      t.is(result.status, 0, result.stderr);
      return readFileSync(out, 'utf8').split('\n');
    };
    const chunks = (files: string[]) => files.filter((file) => chunk.test(file));
    const asked = flags(world.dir);
    t.deepEqual(chunks(run(opened, [])), []);
    const withFlags = run(opened, asked);
    t.is(chunks(withFlags).length, 1, withFlags.join(' '));
    const loaded = run(modules, asked);
    for (const name of AVOIDED) t.false(loaded.includes(name), `${name} with ${asked[0]}`);
  } finally {
    world.cleanup();
  }
}

test('the audit log code is loaded only when an audit log is asked for, and loads none of the avoided builtins', (t) =>
  loadedOnlyWith(t, /audit-recorder-\w+\.cjs$/, (dir) => ['--audit-log', join(dir, 'audit.log')]));

test('the watch code is loaded only with --watch, and loads none of the avoided builtins', (t) =>
  loadedOnlyWith(t, /watch-supervisor-\w+\.cjs$/, () => ['--watch']));
