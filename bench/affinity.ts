import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * CPU affinity for the bench (Linux, through `taskset`): keeping the test servers on one core and
 * credexec on another, so that a run measures round trips rather than two processes taking turns
 * on the same core.
 */

/** Parse a CPU list as the kernel writes it (`0-3,6`) into CPU numbers. */
export function parseCpuList(text: string): number[] {
  const cpus: number[] = [];
  for (const part of text.trim().split(',')) {
    if (part === '') continue;
    const [from, to] = part.split('-').map(Number);
    if (!Number.isInteger(from)) throw new Error(`not a CPU list: ${text}`);
    for (let cpu = from!; cpu <= (to ?? from!); cpu++) cpus.push(cpu);
  }
  return cpus;
}

/** The CPUs a process may run on (`Cpus_allowed_list` of /proc/PID/status). */
export function allowedCpus(pid: number | 'self' = 'self'): string | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return /^Cpus_allowed_list:\s*(\S+)$/m.exec(status)?.[1];
  } catch {
    return undefined;
  }
}

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export type PinPlan =
  | { readonly ok: true; readonly credexecCpu: number; readonly serversCpu: number }
  | { readonly ok: false; readonly reason: string };

/** The first two CPUs this process may use: credexec (and the bench) on one, servers on the other. */
export function planPinning(): PinPlan {
  const list = allowedCpus();
  if (list === undefined) return { ok: false, reason: 'no /proc/self/status (not Linux)' };
  const cpus = parseCpuList(list);
  if (cpus.length < 2) return { ok: false, reason: `only one CPU available (${list})` };
  if (!hasTaskset()) return { ok: false, reason: 'no `taskset` on PATH' };
  return { ok: true, credexecCpu: cpus[0]!, serversCpu: cpus[1]! };
}

/** Set the affinity of every thread of `pid` (threads it starts later inherit it). */
export function pinProcess(pid: number, cpus: string): void {
  execFileSync('taskset', ['--all-tasks', '--pid', '--cpu-list', cpus, String(pid)], {
    stdio: 'ignore',
  });
}
