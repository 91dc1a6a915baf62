import type { ManifestEntry } from '../manifest/manifest-entry.js';
import { spawnChild, type RunningChild } from './spawn-child.js';

/** A secret as it went to the child, for a starter that must know the values (redaction). */
export interface StartedSecret {
  readonly variable: string;
  /** The exact bytes; zeroed by the launcher as soon as `start` settles: copy what you keep. */
  readonly value: Uint8Array;
  /** The value went to a file (the variable holds its path), not into the environment. */
  readonly file: boolean;
  /** False when the manifest opts this entry out of output redaction (`"redact": false`). */
  readonly redact: boolean;
}

export interface StartRequest {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Record<string, string>;
  readonly secrets: readonly StartedSecret[];
  /**
   * For a starter that replaces this process (exec), whose `start` never settles when it works:
   * the launcher lets go of what it holds — it stops handling signals (from then on a signal acts
   * on this process natively, as it will on the command), closes the store's connections and
   * zeroes the decrypted values. Call it right before the point of no return and do not start
   * the command if it rejects (a signal asked credexec to stop meanwhile): reject with its error.
   * A starter that spawns never calls it; the launcher does the same once the child runs.
   */
  readonly release: () => Promise<void>;
}

/**
 * How the launcher starts the command once its environment is ready: spawn it with inherited
 * stdio (the default), or whatever a capability composed in by the CLI does instead — pipe its
 * output through a redactor, or become it (exec). Failures reject with SpawnError.
 */
export interface ChildStarter {
  /**
   * Refuse a manifest this starter cannot honour (throw), once it is read and before anything is
   * resolved: no store or key-service call is made for a refused manifest.
   */
  refuse?(entries: readonly ManifestEntry[]): void;
  start(request: StartRequest): Promise<RunningChild>;
}

/** The default: a child with inherited stdin, stdout and stderr, in credexec's process group. */
export const spawnStarter: ChildStarter = {
  start: ({ command, args, env }) => spawnChild(command, args, env),
};
