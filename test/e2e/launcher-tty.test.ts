import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import { parseProcStat } from '../../src/launch/terminal.js';
import { BIN } from '../support/cli.js';
import { createWorld, waitForFile } from '../support/launcher.js';

// util-linux `script` gives credexec a pseudo-terminal whose foreground group it leads.
const hasScript = spawnSync('script', ['--version']).status === 0;
const ttyTest = hasScript ? test : test.skip;

function quote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

ttyTest('Ctrl-C and Ctrl-\\ in a terminal reach the child exactly once', async (t) => {
  const world = await createWorld();
  t.teardown(() => world.cleanup());
  world.manifest('credexec.env', '');
  const command = [
    'exec',
    process.execPath,
    BIN,
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
  terminal.stdin.write('\u0003');
  await sleep(300);
  terminal.stdin.write('\u001c');
  await sleep(300);
  const { pid } = JSON.parse(readFileSync(join(world.dir, 'ready'), 'utf8')) as { pid: number };
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const credexecPid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  t.is(parseProcStat(readFileSync(`/proc/${credexecPid}/stat`, 'utf8'))?.pgrp, credexecPid);
  process.kill(credexecPid, 'SIGTERM');
  t.is(await closed, 0);
  t.deepEqual(JSON.parse(readFileSync(join(world.dir, 'counts.json'), 'utf8')), {
    SIGINT: 1,
    SIGQUIT: 1,
    SIGTERM: 1,
  });
});
