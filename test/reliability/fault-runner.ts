import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { padVersion } from '../../src/envelope/version.js';
import { messageOf } from '../../src/errors.js';
import { BIN } from '../support/cli.js';
import type { Scenario, Via } from './fault-scenarios.js';
import {
  CHILD_MARKER,
  NotRunnable,
  PUT,
  SEEDED,
  createAwsWorld,
  createLocalWorld,
  writeLaunchFiles,
  type FaultWorld,
  type StoreState,
} from './fault-worlds.js';

/**
 * Runs fault scenarios through the real bin and records, for each, what the document shows and
 * the rules judge: how credexec ended, what it said, whether the child started, whether the
 * store lost anything, and what was left behind.
 */
export interface RanRow {
  readonly status: 'ran';
  readonly scenario: Scenario;
  /** As shown in the document: `[VAR=value …] credexec ARGS`. */
  readonly command: string;
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /** With what varies between runs (paths, ports, pids, ids) replaced by placeholders. */
  readonly stderr: string;
  readonly childStarted: boolean;
  /** Items lost, altered, unreadable or written without being acknowledged; empty when none. */
  readonly lost: readonly string[];
  /** Files the run created and did not remove. */
  readonly leftBehind: readonly string[];
  /** Killed by the runner after `timeoutMs`. */
  readonly hung: boolean;
  /** How long the command ran (not shown: it varies). */
  readonly durationMs: number;
}

export interface NotRunRow {
  readonly status: 'not-run';
  readonly scenario: Scenario;
  readonly command: string;
  readonly reason: string;
}

export type Row = RanRow | NotRunRow;

const MAX_STDERR_BYTES = 1024 * 1024;

function argsFor(scenario: Scenario): string[] {
  const context = scenario.context;
  switch (scenario.via) {
    case 'launcher':
    case 'launcher-sdk':
      return [
        ...(context === undefined ? [] : ['--context', context]),
        '-m',
        scenario.manifest,
        '--',
        `./child`,
      ];
    case 'get':
      return ['get', 'app.secret', ...(context === undefined ? [] : [context])];
    case 'put':
      return ['put', PUT.name, PUT.value];
  }
}

function envFor(scenario: Scenario): Record<string, string> {
  return {
    ...(scenario.via === 'launcher-sdk' ? { CREDEXEC_AWS_TRANSPORT: 'sdk' } : {}),
    ...scenario.env,
  };
}

export function commandOf(scenario: Scenario): string {
  const quote = (word: string) => (/^[\w./=@:-]+$/.test(word) ? word : `'${word}'`);
  const env = Object.entries(envFor(scenario)).map(([name, value]) => `${name}=${quote(value)}`);
  return [...env, 'credexec', ...argsFor(scenario).map(quote)].join(' ');
}

function isLauncher(via: Via): boolean {
  return via === 'launcher' || via === 'launcher-sdk';
}

/** Replace what differs from run to run, so that the document only changes with behaviour. */
export function normalise(text: string, dir: string): string {
  return text
    .replaceAll(dir, '<tmp>')
    .replace(/(127\.0\.0\.1|localhost|\[::1\]):\d+/g, '$1:<port>')
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '<uuid>')
    .replace(/credexec-\d+-[0-9a-f]{16}/g, 'credexec-<pid>-<random>')
    .replace(/\.\d+\.[0-9a-f]{8}\.tmp\b/g, '.<pid>.<random>.tmp')
    .replace(/\bpid \d+/g, 'pid <pid>');
}

interface RunOutcome {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
  readonly hung: boolean;
  readonly durationMs: number;
}

async function runCommand(scenario: Scenario, world: FaultWorld): Promise<RunOutcome> {
  const started = Date.now();
  const command = spawn(process.execPath, [BIN, ...argsFor(scenario)], {
    cwd: world.dir,
    env: { ...world.env, ...envFor(scenario) },
    // stdout is a pipe, as for a user: an ignored (O_RDWR /dev/null) stdout reads as closed.
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  command.stdout.resume();
  const chunks: Buffer[] = [];
  let size = 0;
  command.stderr.on('data', (chunk: Buffer) => {
    if (size < MAX_STDERR_BYTES) chunks.push(chunk);
    size += chunk.length;
  });
  let hung = false;
  const timer = setTimeout(() => {
    hung = true;
    command.kill('SIGKILL');
  }, scenario.timeoutMs);
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
    (resolve, reject) => {
      command.once('error', reject);
      command.once('close', (code, signal) => resolve({ code, signal }));
    },
  );
  try {
    if (scenario.backend === 'aws' && world.backend === 'aws' && scenario.whileRunning) {
      await scenario.whileRunning(world, command);
    }
    const { code, signal } = await ended;
    return {
      exitCode: code,
      signal,
      stderr: normalise(Buffer.concat(chunks).toString('utf8'), world.dir),
      hung,
      durationMs: Date.now() - started,
    };
  } finally {
    clearTimeout(timer);
  }
}

function label(key: string): string {
  const [name, version] = key.split('\u0000');
  return `${name}@${(version ?? '').replace(/^0+(?=\d)/, '')}`;
}

const keyOf = (name: string, version: string) => `${name}\u0000${padVersion(version)}`;

/** What the run lost: compared with the store as it was just before the command ran. */
async function losses(
  world: FaultWorld,
  before: StoreState,
  acknowledged: boolean,
): Promise<string[]> {
  const after = await world.state();
  if (before.bytes !== undefined && after.bytes?.equals(before.bytes)) return [];
  if ('error' in after.contents) return [`the store no longer reads: ${after.contents.error}`];
  if ('error' in before.contents) return ['the unreadable store was changed'];
  const problems: string[] = [];
  const expected = new Map(before.contents);
  for (const [key, item] of expected) {
    const now = after.contents.get(key);
    if (now === undefined) problems.push(`lost ${label(key)}`);
    else if (now !== item) problems.push(`altered ${label(key)}`);
  }
  const putKey = keyOf(PUT.name, PUT.version);
  for (const key of after.contents.keys()) {
    if (expected.has(key)) continue;
    if (key === putKey && acknowledged) continue;
    problems.push(`holds ${label(key)}, which was never acknowledged`);
  }
  if (acknowledged && !after.contents.has(putKey))
    problems.push(`lost acknowledged ${label(putKey)}`);
  const values = [...SEEDED, ...(acknowledged ? [PUT] : [])];
  for (const { name, version, value } of values) {
    if (!after.contents.has(keyOf(name, version))) continue;
    try {
      const read = await world.read(name, version);
      if (read.toString('utf8') !== value) problems.push(`wrong value for ${name}@${version}`);
    } catch (error: unknown) {
      problems.push(`cannot read ${name}@${version}: ${normalise(messageOf(error), world.dir)}`);
    }
  }
  return problems;
}

async function createWorld(scenario: Scenario): Promise<FaultWorld> {
  return scenario.backend === 'aws' ? createAwsWorld() : createLocalWorld(scenario.world);
}

/** Run one scenario in a world of its own. */
export async function runScenario(scenario: Scenario): Promise<Row> {
  const command = commandOf(scenario);
  let world: FaultWorld;
  try {
    world = await createWorld(scenario);
  } catch (error: unknown) {
    if (error instanceof NotRunnable)
      return { status: 'not-run', scenario, command, reason: error.message };
    throw error;
  }
  try {
    writeLaunchFiles(world.dir);
    if (scenario.backend === 'aws' && world.backend === 'aws')
      await scenario.inject(world, scenario.via);
    if (scenario.backend === 'local' && world.backend === 'local') {
      await scenario.inject(world, scenario.via);
    }
    const before = await world.state();
    const filesBefore = new Set(world.files());
    const outcome = await runCommand(scenario, world);
    await world.clearFaults();
    const acknowledged = scenario.via === 'put' && outcome.exitCode === 0;
    return {
      status: 'ran',
      scenario,
      command,
      ...outcome,
      childStarted: existsSync(join(world.dir, CHILD_MARKER)),
      lost: await losses(world, before, acknowledged),
      leftBehind: world
        .files()
        .filter((file) => !filesBefore.has(file))
        .map((file) => normalise(file, world.dir)),
    };
  } finally {
    await world.dispose();
  }
}

/**
 * Run scenarios at most `concurrency` at a time (slow ones besides), each once: `row(id)` starts
 * one or returns the run already under way.
 */
export function createMatrixRun(scenarios: readonly Scenario[], concurrency: number) {
  const rows = new Map<string, Promise<Row>>();
  const waiting: (() => void)[] = [];
  let running = 0;

  async function slot<T>(work: () => Promise<T>): Promise<T> {
    // A finished run hands its slot straight to the next one waiting.
    if (running >= concurrency) await new Promise<void>((resolve) => waiting.push(resolve));
    else running += 1;
    try {
      return await work();
    } finally {
      const next = waiting.shift();
      if (next === undefined) running -= 1;
      else next();
    }
  }

  function row(id: string): Promise<Row> {
    let pending = rows.get(id);
    if (pending === undefined) {
      const scenario = scenarios.find((candidate) => candidate.id === id);
      if (scenario === undefined) throw new Error(`no scenario ${id}`);
      // Slow rows spend their time waiting, not computing: they do not take a slot.
      pending = scenario.slow ? runScenario(scenario) : slot(() => runScenario(scenario));
      rows.set(id, pending);
    }
    return pending;
  }

  return {
    row,
    /** Every row, in the scenarios' order; slow ones are started first. */
    all() {
      const slowFirst = [...scenarios].sort((a, b) => Number(b.slow) - Number(a.slow));
      for (const scenario of slowFirst) void row(scenario.id).catch(() => undefined);
      return Promise.all(scenarios.map((scenario) => row(scenario.id)));
    },
  };
}

export { isLauncher };
