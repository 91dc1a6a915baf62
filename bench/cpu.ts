import { readFileSync } from 'node:fs';

/**
 * CPU time of waited-for children, from this process's own `/proc/self/stat` (cutime + cstime,
 * in clock ticks of 10 ms): read it before and after a spawned command to get that command's CPU
 * time (its own children included). Undefined off Linux.
 */
const TICK_MS = 10;

export function childrenCpuMs(): number | undefined {
  let text: string;
  try {
    text = readFileSync('/proc/self/stat', 'utf8');
  } catch {
    return undefined;
  }
  // Fields after the parenthesised command name; cutime and cstime are fields 16 and 17.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) * TICK_MS;
}

/** CPU time this process (here: the in-process test servers) used, in ms. */
export function ownCpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

/** Run `work` and report the CPU its spawned children and this process used meanwhile. */
export async function withCpu<T>(
  work: () => Promise<T>,
): Promise<{ result: T; childCpuMs: number | undefined; ownCpuMs: number }> {
  const childBefore = childrenCpuMs();
  const ownBefore = ownCpuMs();
  const result = await work();
  const childAfter = childrenCpuMs();
  return {
    result,
    childCpuMs:
      childBefore === undefined || childAfter === undefined ? undefined : childAfter - childBefore,
    ownCpuMs: ownCpuMs() - ownBefore,
  };
}
