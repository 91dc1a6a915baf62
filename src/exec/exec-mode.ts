import type { ChildStarter } from '../launch/child-starter.js';
import { execStarter } from './exec-starter.js';
import { processExecve } from './hand-over.js';
import { execConflict, execUnavailable } from './refusals.js';
import { synchronousStderr } from './sync-stderr.js';

export { RESIDENT_CAPABILITIES, execConflict, fileEntriesConflict } from './refusals.js';

/** What `--exec` composes into the launcher. */
export interface ExecMode {
  readonly starter: ChildStarter;
  /** credexec's own stderr until the exec: synchronous, so nothing is lost with the process. */
  readonly stderr: () => NodeJS.WritableStream;
}

/**
 * The room's entry point, loaded by the CLI only when `--exec` is given. Throws UsageError where
 * exec mode cannot keep its promises: a Node without process.execve, or `residentFlags` (the
 * flags in use whose capability needs credexec to keep running beside the command). `"file":
 * true` entries are refused by the starter once the manifest is read, before anything resolves.
 */
export function execMode(residentFlags: readonly string[]): ExecMode {
  const execve = processExecve();
  const unavailable = execUnavailable(execve !== undefined);
  if (unavailable !== undefined) throw unavailable;
  const conflict = execConflict(residentFlags);
  if (conflict !== undefined) throw conflict;
  const stderr = synchronousStderr();
  return { starter: execStarter(execve!), stderr: () => stderr };
}
