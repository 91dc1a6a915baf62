import { spawn, type ChildProcess } from 'node:child_process';
import { SpawnError, type SpawnFailure } from '../errors.js';
import { errnoCode } from '../util/system.js';
import type { StartedSecret } from './child-starter.js';
import { tooLargeReason } from './exec-limits.js';

/** How the child ended: an exit code, or the signal that killed it. */
export type ChildExit =
  | { readonly code: number; readonly signal?: undefined }
  | { readonly code?: undefined; readonly signal: NodeJS.Signals };

export interface RunningChild {
  readonly process: ChildProcess;
  readonly exited: Promise<ChildExit>;
  /**
   * The running command was handed new values (`--watch` rewrote its secret files): a starter
   * that must know every value the command holds (redaction) learns them here. The buffers are
   * zeroed once the call returns: copy what you keep.
   */
  learn?(secrets: readonly StartedSecret[]): void;
}

/** The shell's convention: not found → 127, found but cannot be executed → 126. */
function spawnFailure(code: string | undefined): SpawnFailure {
  if (code === 'ENOENT' || code === 'ENOTDIR') return 'not-found';
  if (code === 'EACCES' || code === 'EPERM' || code === 'ENOEXEC' || code === 'EISDIR') {
    return 'not-executable';
  }
  if (code === 'E2BIG') return 'too-large';
  return 'failed';
}

/**
 * What to say; `sizes` explains an E2BIG when the arguments and environment are at hand. Also
 * used by the exec starter, so that a command that cannot start is reported the same either way.
 */
export function spawnError(
  command: string,
  error: unknown,
  sizes?: { argv: readonly string[]; env: Readonly<Record<string, string>> },
): SpawnError {
  const code = errnoCode(error);
  const reason = spawnFailure(code);
  const suffix = code === undefined ? '' : ` (${code})`;
  const what =
    reason === 'not-found'
      ? `command not found${suffix}`
      : reason === 'not-executable'
        ? `permission denied or not executable${suffix}`
        : reason === 'too-large' && sizes !== undefined
          ? `cannot start: ${tooLargeReason(sizes.argv, sizes.env)}`
          : reason === 'too-large'
            ? `cannot start: the arguments and environment are too large${suffix}`
            : `cannot start${suffix}`;
  return new SpawnError(reason, `${command}: ${what}`, { cause: error });
}

/**
 * Start the command with inherited stdio (or its stdout and stderr on pipes, for a starter that
 * passes them on), in credexec's own process group (so a terminal's
 * Ctrl-C reaches it directly). node:child_process rather than execa: execa's cleanup hooks
 * install their own signal handlers (which would interfere with exactly-once forwarding and
 * dying of the child's signal) and importing it costs ~200 ms of start-up. Resolves once the
 * child is running; spawn failures reject with SpawnError.
 *
 * `env` is used here and nowhere else: no closure that outlives the call refers to it, so the
 * child's environment (secrets included) becomes garbage as soon as the child has started.
 */
export function spawnChild(
  command: string,
  args: readonly string[],
  env: Record<string, string>,
  stdio: 'inherit' | ['inherit', 'pipe', 'pipe'] = 'inherit',
): Promise<RunningChild> {
  let child: ChildProcess;
  try {
    child = spawn(command, args, { stdio, env, detached: false, shell: false });
  } catch (error: unknown) {
    // Node reports E2BIG (and a few argument errors) synchronously, while env is still at hand.
    return Promise.reject(spawnError(command, error, { argv: [command, ...args], env }));
  }
  return started(command, child);
}

function started(command: string, child: ChildProcess): Promise<RunningChild> {
  return new Promise((resolve, reject) => {
    const exited = new Promise<ChildExit>((resolveExit) => {
      child.once('exit', (code, signal) => {
        resolveExit(signal === null ? { code: code ?? 0 } : { signal });
      });
    });
    // `on`, not `once`: a later 'error' (say, a failed kill) must not become an uncaught exception.
    child.on('error', (error) => reject(spawnError(command, error)));
    child.once('spawn', () => resolve({ process: child, exited }));
  });
}
