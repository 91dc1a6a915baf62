import { readFileSync } from 'node:fs';

/**
 * Fields 5 (pgrp) and 8 (tpgid, the terminal's foreground group) of /proc/<pid>/stat. The command
 * name (field 2) is in parentheses and may contain spaces, so fields are counted after the last ")".
 */
export function parseProcStat(stat: string): { pgrp: number; tpgid: number } | undefined {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const pgrp = Number(fields[2]);
  const tpgid = Number(fields[5]);
  return Number.isInteger(pgrp) && Number.isInteger(tpgid) ? { pgrp, tpgid } : undefined;
}

/**
 * Is this process in the foreground process group of its controlling terminal? Node has no
 * tcgetpgrp(), so on Linux this reads /proc/self/stat; elsewhere it returns `undefined` and the
 * caller falls back to "stdin is a TTY" alone.
 */
export function isForegroundProcessGroup(
  readStat: () => string = () => readFileSync('/proc/self/stat', 'utf8'),
): boolean | undefined {
  try {
    const stat = parseProcStat(readStat());
    return stat === undefined ? undefined : stat.tpgid > 0 && stat.pgrp === stat.tpgid;
  } catch {
    return undefined;
  }
}

/**
 * The terminal delivers Ctrl-C / Ctrl-\ to its whole foreground group, which includes the child
 * (spawned in credexec's group), so forwarding SIGINT/SIGQUIT then would deliver them twice.
 */
export function terminalAlreadyDelivers(
  stdinIsTty: boolean,
  foreground: boolean | undefined,
): boolean {
  return stdinIsTty && foreground !== false;
}
