import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { openBackend } from '../src/backends/open-backend.js';
import { putSecret } from '../src/secrets/put-secret.js';
import { startAwsFixture, type AwsFixture } from '../test/support/aws-fixture.js';
import { startDelayProxy, type DelayProxy } from './delay-proxy.js';
import {
  BIN,
  baseEnv,
  median,
  parseProcStatus,
  round,
  sample,
  type Env,
  type Sample,
} from './lib.js';
import { idleNode } from './memory.js';
import { seedSecrets, writeManifest } from './aws-servers.js';

/**
 * `credexec --watch` with N watched entries (docs/launcher.md "Rotation"): what an idle poll
 * costs — requests, credexec's CPU per poll, its RSS while watching — and how long a `put` takes
 * to reach a running command. The aws backend goes through an HTTPS delay proxy (handshakes
 * cost what they cost against AWS); the local backend reads its store file.
 */
export interface IdleWatch {
  readonly label: string;
  readonly intervalMs: number;
  readonly polls: number;
  readonly requestsPerPoll: number;
  readonly decrypts: number;
  /** TLS connections opened per poll (aws only). */
  readonly connectionsPerPoll: number | undefined;
  /** credexec's user + system CPU per poll (10 ms clock ticks, summed over every poll). */
  readonly cpuMsPerPoll: number;
  readonly vmRssKb: number;
}

export interface RotationResult {
  readonly rotations: number;
  readonly intervalMs: number;
  /** From the `put` returning to the new command's first line. */
  readonly putToRunning: Sample;
  /** From credexec's "restarting" line to the new command's first line (stop + start). */
  readonly restart: Sample;
  /** Requests of one rotation: the poll that saw it and the resolution of every entry. */
  readonly requests: {
    readonly query: number;
    readonly batchGetItem: number;
    readonly decrypt: number;
  };
}

export interface WatchResult {
  readonly entries: number;
  readonly delayMs: number;
  readonly idle: readonly IdleWatch[];
  readonly idleNodeRssKb: number;
  /** RSS while watching (aws, keep-alive) over idle node. */
  readonly ratioRss: number;
  readonly rotation: RotationResult;
}

const TLS_CERT = fileURLToPath(new URL('../test/support/tls/localhost.crt', import.meta.url));
const TLS_KEY = fileURLToPath(new URL('../test/support/tls/localhost.key', import.meta.url));
const CLOCK_TICK_MS = 10;
/** Between idle polls: long enough for the closing proxy to drop connections, short enough to run. */
const IDLE_INTERVAL_MS = 2_000;
/** Polls of a watcher measured once warm. */
const WARM_INTERVAL_MS = 300;

function awsEnvOf(fx: AwsFixture, dynamodb: DelayProxy, kms: DelayProxy, dir: string): Env {
  return baseEnv({
    ...fx.env,
    AWS_ENDPOINT_URL_DYNAMODB: dynamodb.endpoint,
    AWS_ENDPOINT_URL_KMS: kms.endpoint,
    NODE_EXTRA_CA_CERTS: TLS_CERT,
    XDG_RUNTIME_DIR: dir,
  });
}

/** The command: one line with the time it started, then it waits; SIGTERM ends it. */
const SERVICE = `process.on('SIGTERM', () => process.exit(0));
process.stdout.write(JSON.stringify({ start: Date.now(), pid: process.pid }) + '\\n');
setInterval(() => {}, 1000);`;

/** user + system CPU of a process so far, in ms (10 ms ticks). */
function cpuMsOf(pid: number): number {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * CLOCK_TICK_MS;
}

interface Watching {
  readonly process: ChildProcessWithoutNullStreams;
  /** The commands' start lines so far (time, pid), and credexec's stderr. */
  readonly starts: { start: number; pid: number }[];
  readonly stderr: () => string;
  /** When each stderr line arrived. */
  readonly stderrAt: { line: string; at: number }[];
  stop(): Promise<void>;
}

function watch(manifest: string, intervalMs: number, env: Env, cwd: string): Watching {
  const child = spawn(
    process.execPath,
    [BIN, '-m', manifest, `--watch=${intervalMs}ms`, '--', process.execPath, '-e', SERVICE],
    {
      env: { ...env, CREDEXEC_WATCH_MIN_INTERVAL_MS: '100' },
      cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  const starts: { start: number; pid: number }[] = [];
  let stderr = '';
  const stderrAt: { line: string; at: number }[] = [];
  let pending = '';
  child.stdout.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) starts.push(JSON.parse(line) as { start: number; pid: number });
  });
  child.stderr.on('data', (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    stderr += text;
    for (const line of text.split('\n').filter((part) => part !== ''))
      stderrAt.push({ line, at: Date.now() });
  });
  const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
  return {
    process: child,
    starts,
    stderr: () => stderr,
    stderrAt,
    async stop() {
      child.kill('SIGTERM');
      await closed;
    },
  };
}

async function until(done: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`bench watch: timed out waiting for ${what}`);
    await sleep(5);
  }
}

/**
 * Idle polls of `watching` for `polls` intervals after the first: requests per poll from
 * `queries()`, CPU and RSS read from /proc.
 */
async function measureIdle(
  label: string,
  watching: Watching,
  intervalMs: number,
  polls: number,
  counters: {
    reset(): void;
    queries(): number;
    decrypts(): number;
    connections(): number | undefined;
  },
  entries: number,
  /** Polls left to run before measuring: a long-running watcher's code is compiled and warm. */
  warmPolls = 0,
): Promise<IdleWatch> {
  await until(() => watching.starts.length === 1, 'the command to start');
  // The first poll comes within one interval; from then on, only polls.
  await sleep(intervalMs * (1.2 + warmPolls));
  counters.reset();
  const pid = watching.process.pid!;
  const before = cpuMsOf(pid);
  await sleep(intervalMs * polls);
  const cpu = cpuMsOf(pid) - before;
  const { vmRssKb } = parseProcStatus(readFileSync(`/proc/${pid}/status`, 'utf8'));
  const queries = counters.queries();
  // Whole polls only: each reads every entry once.
  const seen = Math.max(1, Math.round(queries / entries));
  const connections = counters.connections();
  if (watching.stderr() !== '') throw new Error(`bench watch: ${watching.stderr().trim()}`);
  return {
    label,
    intervalMs,
    polls: seen,
    requestsPerPoll: round(queries / seen),
    decrypts: counters.decrypts(),
    connectionsPerPoll: connections === undefined ? undefined : round(connections / seen),
    cpuMsPerPoll: round(cpu / seen),
    vmRssKb,
  };
}

export async function benchWatch(options: {
  entries: number;
  delayMs: number;
  polls: number;
  rotations: number;
  /** Polls before the warm row is measured (30; fewer for a smoke run). */
  warmPolls?: number;
}): Promise<WatchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'credexec-bench-watch-'));
  let fixture: AwsFixture | undefined;
  const proxies: DelayProxy[] = [];
  try {
    fixture = await startAwsFixture();
    const fx = fixture;
    await seedSecrets(fx, options.entries);
    const manifest = writeManifest(dir, options.entries);
    const tls = { key: readFileSync(TLS_KEY), cert: readFileSync(TLS_CERT) };
    const idle: IdleWatch[] = [];
    // Connections kept between polls (the proxy keeps idle ones 5 s, Node's default), and
    // connections the server closes between polls (kept 0.5 s), as a store that drops idle
    // connections would: then every poll opens new ones (TLS handshakes).
    // The third: polls 300 ms apart, measured after 30 of them, as in a watcher that has run for
    // a while (its code compiled and optimized, its heap grown to what polls need).
    for (const [label, keepAliveMs, polls, intervalMs, warmPolls] of [
      ['aws, connections kept', undefined, options.polls, IDLE_INTERVAL_MS, 0],
      ['aws, connections closed between polls', 500, options.polls, IDLE_INTERVAL_MS, 0],
      [
        `aws, connections kept, after ${options.warmPolls ?? 30} polls (300 ms apart)`,
        undefined,
        options.polls * 2,
        WARM_INTERVAL_MS,
        options.warmPolls ?? 30,
      ],
    ] as const) {
      const dynamodb = await startDelayProxy(
        fx.dynamodb.endpoint,
        options.delayMs,
        tls,
        keepAliveMs,
      );
      proxies.push(dynamodb);
      const kms = await startDelayProxy(fx.kms.endpoint, options.delayMs, tls, keepAliveMs);
      proxies.push(kms);
      const env = awsEnvOf(fx, dynamodb, kms, dir);
      const counters = {
        reset: () => {
          fx.resetCounters();
          dynamodb.resetCounters();
        },
        queries: () => fx.dynamodb.count('Query'),
        decrypts: () => fx.kms.count('Decrypt'),
        connections: () => dynamodb.connections,
      };
      const watching = watch(manifest, intervalMs, env, dir);
      try {
        idle.push(
          await measureIdle(
            label,
            watching,
            intervalMs,
            polls,
            counters,
            options.entries,
            warmPolls,
          ),
        );
      } finally {
        await watching.stop();
      }
    }
    const [dynamodb, kms] = proxies;
    const awsEnv = awsEnvOf(fx, dynamodb!, kms!, dir);

    // The local backend, its store file with the same number of secrets.
    const storeDir = join(dir, 'store');
    const local = await openBackend({ backend: 'local', localDir: storeDir }, {});
    await local.setup({});
    for (let index = 0; index < options.entries; index++) {
      await putSecret(local, {
        name: `bench.secret.${String(index).padStart(4, '0')}`,
        value: `value-${index}-${'v'.repeat(24)}`,
      });
    }
    const localEnv = baseEnv({
      CREDEXEC_BACKEND: 'local',
      CREDEXEC_LOCAL_DIR: storeDir,
      XDG_RUNTIME_DIR: dir,
    });
    const localWatching = watch(manifest, 1_000, localEnv, dir);
    try {
      idle.push(
        await measureIdle(
          'local, store file unchanged: one stat per poll (polls 1 s apart)',
          localWatching,
          1_000,
          options.polls,
          // Nothing to count but the polls themselves: each is one stat of the store file.
          {
            reset: () => undefined,
            queries: () => options.polls,
            decrypts: () => 0,
            connections: () => undefined,
          },
          1,
        ),
      );
    } finally {
      await localWatching.stop();
    }

    const rotation = await measureRotation(fx, manifest, awsEnv, dir, options);
    const idleNodeRssKb = median(
      await Promise.all([idleNode(800), idleNode(800), idleNode(800)]).then((samples) =>
        samples.map((entry) => entry.vmRssKb),
      ),
    );
    return {
      entries: options.entries,
      delayMs: options.delayMs,
      idle,
      idleNodeRssKb,
      ratioRss: idle[0]!.vmRssKb / idleNodeRssKb,
      rotation,
    };
  } finally {
    for (const proxy of proxies) await proxy.close();
    await fixture?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `rotations` puts of one entry's new version, each reaching the command by a restart. */
async function measureRotation(
  fx: AwsFixture,
  manifest: string,
  env: Env,
  dir: string,
  options: { entries: number; rotations: number },
): Promise<RotationResult> {
  const intervalMs = 1_000;
  const backend = await fx.openBackend();
  const watching = watch(manifest, intervalMs, env, dir);
  const putToRunning: number[] = [];
  const restart: number[] = [];
  let requests = { query: 0, batchGetItem: 0, decrypt: 0 };
  try {
    await until(() => watching.starts.length === 1, 'the command to start');
    await sleep(intervalMs * 1.2);
    for (let rotation = 1; rotation <= options.rotations; rotation++) {
      fx.resetCounters();
      await putSecret(backend, {
        name: 'bench.secret.0000',
        value: `rotated-${rotation}-${'r'.repeat(24)}`,
        autoversion: true,
      });
      const put = Date.now();
      await until(() => watching.starts.length === rotation + 1, `rotation ${rotation}`);
      const started = watching.starts[rotation]!.start;
      const line = watching.stderrAt.filter(({ line }) => line.includes('restarting')).at(-1);
      putToRunning.push(started - put);
      if (line !== undefined) restart.push(started - line.at);
      requests = {
        query: fx.dynamodb.count('Query'),
        batchGetItem: fx.dynamodb.count('BatchGetItem'),
        decrypt: fx.kms.count('Decrypt'),
      };
      // Let the next poll pass before the next put, so that each rotation is seen alone.
      await sleep(intervalMs * 1.2);
    }
  } finally {
    await watching.stop();
  }
  return {
    rotations: options.rotations,
    intervalMs,
    putToRunning: sample(putToRunning),
    restart: sample(restart),
    requests,
  };
}
