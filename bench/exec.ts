import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { BIN, median, parseProcStatus } from './lib.js';
import type { NodeRuntime } from './runtimes.js';
import { createLocalWorld } from './startup.js';

/** Resident memory of one process tree, in KiB. */
export interface TreeSample {
  /** Every process of the tree: credexec and its child, or the exec'd program alone. */
  readonly treeKb: number;
  /** credexec's own share (0 with --exec: there is no credexec any more). */
  readonly credexecKb: number;
}

export interface ExecRuntimeResult {
  readonly node: string;
  readonly version: string;
  /** `credexec -m one-secret.env -- sleep`: medians. */
  readonly spawned: TreeSample;
  /** `credexec --exec -m one-secret.env -- sleep`: medians. */
  readonly replaced: TreeSample;
  /** spawned.treeKb − replaced.treeKb. */
  readonly savedKb: number;
  readonly samples: readonly { spawned: TreeSample; replaced: TreeSample }[];
}

export interface ExecResult {
  readonly runs: number;
  readonly settleMs: number;
  readonly rows: readonly ExecRuntimeResult[];
  /** Why nothing was measured, when no Node given has process.execve. */
  readonly skipped?: string;
}

const CHILD = 'sleep';

function hasExecve(node: string): boolean {
  return (
    execFileSync(node, ['-p', 'typeof process.execve'], { encoding: 'utf8', env: {} }).trim() ===
    'function'
  );
}

const status = (pid: number) => readFileSync(`/proc/${pid}/status`, 'utf8');
const command = (pid: number) => readFileSync(`/proc/${pid}/comm`, 'utf8').trim();

function children(pid: number): number[] {
  const text = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
  return text === '' ? [] : text.split(' ').map(Number);
}

/** The pids of the tree under `pid`, itself first. */
function tree(pid: number): number[] {
  return [pid, ...children(pid).flatMap(tree)];
}

/** Wait until the tree is the service and nothing else is starting: `sleep` under it or as it. */
async function settled(pid: number, replaced: boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const ready = replaced
      ? command(pid) === CHILD
      : children(pid).some((child) => command(child) === CHILD);
    if (ready) return;
    if (Date.now() > deadline) throw new Error(`credexec ${pid} never ran ${CHILD}`);
    await sleep(10);
  }
}

/** Start credexec (or become the child), let it settle, read the tree's VmRSS, stop it. */
async function measure(
  runtime: NodeRuntime,
  world: Awaited<ReturnType<typeof createLocalWorld>>,
  replaced: boolean,
  settleMs: number,
): Promise<TreeSample> {
  const args = [BIN, ...(replaced ? ['--exec'] : []), '-m', world.oneManifest, '--', CHILD, '60'];
  const child = spawn(runtime.node, args, { env: world.env, cwd: world.dir, stdio: 'ignore' });
  const closed = new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', () => resolve());
  });
  try {
    const pid = child.pid!;
    await settled(pid, replaced);
    // What a long-running service's tree costs: after start-up, once credexec is idle.
    await sleep(settleMs);
    const pids = tree(pid);
    const rss = pids.map((each) => parseProcStatus(status(each)).vmRssKb);
    return {
      treeKb: rss.reduce((sum, kb) => sum + kb, 0),
      credexecKb: replaced ? 0 : rss[0]!,
    };
  } finally {
    child.kill('SIGTERM');
    await closed;
  }
}

const medianOf = (samples: readonly TreeSample[]): TreeSample => ({
  treeKb: median(samples.map((entry) => entry.treeKb)),
  credexecKb: median(samples.map((entry) => entry.credexecKb)),
});

/**
 * Resident memory of the service's process tree with and without `--exec`, for a `sleep` child:
 * credexec (local backend, one secret) and `sleep` against `sleep` alone, on every Node given that
 * has process.execve. Linux only (/proc).
 */
export async function benchExec(options: {
  runs: number;
  settleMs: number;
  runtimes: readonly NodeRuntime[];
}): Promise<ExecResult> {
  const runtimes = options.runtimes.filter((runtime) => hasExecve(runtime.node));
  if (runtimes.length === 0) {
    return {
      runs: options.runs,
      settleMs: options.settleMs,
      rows: [],
      skipped: `no Node given has process.execve (Node ≥ 22.15): measured ${options.runtimes.map((runtime) => runtime.version).join(', ')}; pass one with --nodes`,
    };
  }
  const world = await createLocalWorld();
  try {
    const rows: ExecRuntimeResult[] = [];
    for (const runtime of runtimes) {
      const samples: { spawned: TreeSample; replaced: TreeSample }[] = [];
      for (let run = 0; run < options.runs; run++) {
        samples.push({
          spawned: await measure(runtime, world, false, options.settleMs),
          replaced: await measure(runtime, world, true, options.settleMs),
        });
      }
      const spawned = medianOf(samples.map((sample) => sample.spawned));
      const replaced = medianOf(samples.map((sample) => sample.replaced));
      rows.push({
        node: runtime.node,
        version: runtime.version,
        spawned,
        replaced,
        savedKb: spawned.treeKb - replaced.treeKb,
        samples,
      });
    }
    return { runs: options.runs, settleMs: options.settleMs, rows };
  } finally {
    world.cleanup();
  }
}
