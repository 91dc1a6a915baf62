import type { StoppableChild } from '../launch/supervisor.js';
import { describeWait } from './watch-lines.js';

/**
 * Stop the command for a restart: `signal`, then SIGKILL if it is still there `timeoutMs` later
 * (one stderr line says so). Settles once it is gone.
 */
export async function stopCommand(
  child: StoppableChild,
  signal: NodeJS.Signals,
  timeoutMs: number,
  warn: (line: string) => void,
): Promise<void> {
  child.kill(signal);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([
    child.exited.then(() => false),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), timeoutMs);
    }),
  ]);
  clearTimeout(timer);
  if (!timedOut) return;
  warn(
    `credexec: the command did not stop within ${describeWait(timeoutMs)} of ${signal}; sending SIGKILL`,
  );
  child.kill('SIGKILL');
  await child.exited;
}
