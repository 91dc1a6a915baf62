import { constants } from 'node:os';

/** The shell's convention for "killed by signal N". */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 0);
}

/**
 * Make credexec itself die of `signal`, so its parent sees exactly what it would have seen from
 * the child. Returns the 128+N fallback status for when the signal does not kill us (PID 1 in a
 * namespace ignores signals it has no handler for). The one place
 * where credexec signals itself; called from the CLI only.
 */
export function dieOfSignal(signal: NodeJS.Signals): number {
  // Node starts with SIGPIPE ignored; a listener added and removed again puts back the default
  // action (libuv restores it when the last listener goes), so credexec can die of it like `cat`.
  if (signal === 'SIGPIPE') process.on(signal, () => undefined);
  process.removeAllListeners(signal);
  process.kill(process.pid, signal);
  return signalExitCode(signal);
}
