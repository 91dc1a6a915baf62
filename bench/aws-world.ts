import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { allowedCpus, pinProcess, planPinning, type PinPlan } from './affinity.js';
import {
  startAwsServers,
  type AwsServers,
  type Path,
  type RequestCounts,
  type ServersInfo,
} from './aws-servers.js';
import { ownCpuMs } from './cpu.js';
import { REPO_ROOT } from './lib.js';
import type { ServerReply, ServerRequest } from './server-process.js';

/**
 * Where the bench runs the aws world relative to credexec.
 * - `replayed`: as `pinned`, and the delay proxies answer each request they have seen before with
 *   the servers' recorded answer (bench/delay-proxy.ts), so the servers' own compute, which on one
 *   core queues a burst of 200 requests behind each other, is off the delayed paths.
 * - `pinned`: the servers in a process of their own on one core (`taskset`), the bench and
 *   everything it spawns (credexec, the baseline's SDK) on another, so neither waits for the other.
 * - `shared`: the servers in the bench's own process, all of it on whatever cores the kernel picks:
 *   on a 2-core machine credexec and the servers then take turns.
 */
export type Isolation = 'replayed' | 'pinned' | 'shared';
export const ISOLATIONS: readonly Isolation[] = ['replayed', 'pinned', 'shared'];

export interface Placement {
  /** The servers' process: the bench's own, or one of their own. */
  readonly serversProcess: 'bench' | 'own';
  /** CPUs the servers may run on (their `Cpus_allowed_list`). */
  readonly serversCpus: string;
  /** CPUs the bench, and so credexec and the baseline, may run on. */
  readonly credexecCpus: string;
}

export interface AwsWorld extends ServersInfo {
  readonly isolation: Isolation;
  readonly placement: Placement;
  seed(n: number): Promise<void>;
  reset(): Promise<void>;
  counts(path: Path): Promise<RequestCounts>;
  /**
   * CPU time the servers have used so far, in ms. `shared`: the whole bench process (servers and
   * the bench's own bookkeeping); `pinned`: the server process alone.
   */
  serverCpuMs(): Promise<number>;
  close(): Promise<void>;
}

/**
 * The isolations to run, given those asked for: `pinned` needs two CPUs and `taskset`; without
 * them it is dropped (for `shared`, once) and `unavailable` says why.
 */
export function availableIsolations(requested: readonly Isolation[]): {
  isolations: Isolation[];
  plan: PinPlan;
  unavailable?: string;
} {
  const plan = planPinning();
  const needPinning = requested.filter((isolation) => isolation !== 'shared');
  if (plan.ok || needPinning.length === 0) return { isolations: [...requested], plan };
  return {
    isolations: ['shared'],
    plan,
    unavailable: `servers not pinned (${needPinning.join(', ')} asked for): ${plan.reason}; measured with shared cores instead`,
  };
}

export async function startAwsWorld(isolation: Isolation, delayMs: number): Promise<AwsWorld> {
  if (isolation === 'shared') return inProcessWorld(await startAwsServers(delayMs));
  const plan = planPinning();
  if (!plan.ok) throw new Error(`cannot pin the servers: ${plan.reason}`);
  return serverProcessWorld(plan, delayMs, isolation);
}

function inProcessWorld(servers: AwsServers): AwsWorld {
  const cpus = allowedCpus() ?? 'unknown';
  return {
    isolation: 'shared',
    placement: { serversProcess: 'bench', serversCpus: cpus, credexecCpus: cpus },
    env: servers.env,
    endpoints: servers.endpoints,
    seed: (n) => servers.seed(n),
    reset: async () => servers.resetCounters(),
    counts: async (path) => servers.counts(path),
    serverCpuMs: async () => ownCpuMs(),
    close: () => servers.close(),
  };
}

const SERVER_SCRIPT = join(REPO_ROOT, 'bench', 'server-process.ts');

/**
 * The servers in their own process under `taskset -c SERVERS`, this process (and so every
 * process it spawns from now on) pinned to the other CPU until `close`.
 */
async function serverProcessWorld(
  plan: Extract<PinPlan, { ok: true }>,
  delayMs: number,
  isolation: Exclude<Isolation, 'shared'>,
): Promise<AwsWorld> {
  const child = spawn(
    'taskset',
    [
      '--cpu-list',
      String(plan.serversCpu),
      process.execPath,
      '--import',
      'tsx',
      SERVER_SCRIPT,
      String(delayMs),
      ...(isolation === 'replayed' ? ['replay'] : []),
    ],
    { cwd: REPO_ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'json' },
  );
  const client = new ServerClient(child);
  let info: ServersInfo;
  try {
    info = await client.ready;
  } catch (error: unknown) {
    child.kill('SIGKILL');
    throw error;
  }
  const original = allowedCpus() ?? '';
  pinProcess(process.pid, String(plan.credexecCpu));
  return {
    isolation,
    placement: {
      serversProcess: 'own',
      serversCpus: allowedCpus(child.pid!) ?? String(plan.serversCpu),
      credexecCpus: allowedCpus() ?? String(plan.credexecCpu),
    },
    ...info,
    seed: async (n) => void (await client.request({ op: 'seed', n })),
    reset: async () => void (await client.request({ op: 'reset' })),
    counts: async (path) => (await client.request({ op: 'counts', path })) as RequestCounts,
    serverCpuMs: async () => (await client.request({ op: 'cpu' })) as number,
    async close() {
      try {
        await client.stop();
      } finally {
        if (original !== '') pinProcess(process.pid, original);
      }
    },
  };
}

/** A request without its id (`Omit` over each member of the union). */
type Unsent<T> = T extends unknown ? Omit<T, 'id'> : never;

type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void };

/** Requests to `bench/server-process.ts` over its IPC channel, matched to replies by id. */
class ServerClient {
  readonly ready: Promise<ServersInfo>;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private exited: Promise<void>;

  constructor(private readonly child: ChildProcess) {
    let onReady: Pending | undefined;
    this.ready = new Promise((resolve, reject) => {
      onReady = { resolve: resolve as (value: unknown) => void, reject };
    });
    child.on('message', (message: ServerReply | ({ type: 'ready' } & ServersInfo)) => {
      if ('type' in message) {
        onReady?.resolve({ env: message.env, endpoints: message.endpoints });
        return;
      }
      const waiting = this.pending.get(message.id);
      if (waiting === undefined) return;
      this.pending.delete(message.id);
      if (message.ok) waiting.resolve(message.value);
      else waiting.reject(new Error(`server process: ${message.error}`));
    });
    this.exited = new Promise((resolve) => {
      const gone = (why: string) => {
        const error = new Error(`server process ${why}`);
        onReady?.reject(error);
        for (const waiting of this.pending.values()) waiting.reject(error);
        this.pending.clear();
        resolve();
      };
      child.on('error', (error) => gone(`failed: ${error.message}`));
      child.on('exit', (code, signal) => gone(`exited with ${code ?? signal}`));
    });
  }

  request(request: Unsent<ServerRequest>): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.send({ ...request, id } as ServerRequest, (error) => {
        if (error === null) return;
        this.pending.delete(id);
        reject(error);
      });
    });
  }

  /** Ask the servers to close; kill the process if it has not exited 10 s later. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    // The process exits right after its reply, so the reply may lose the race with 'exit'.
    await this.request({ op: 'stop' }).catch(() => undefined);
    await this.exited;
    clearTimeout(timer);
  }
}
