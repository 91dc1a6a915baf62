import { UsageError } from '../errors.js';
import type { ManifestEntry } from '../manifest/manifest-entry.js';

/**
 * Where exec mode cannot keep its promises it refuses, with one line and exit 2, before anything
 * is resolved. Pure.
 */

/** process.execve exists from Node 22.15 / 23.11 on POSIX systems. */
export function execUnavailable(
  hasExecve: boolean,
  version = process.versions.node,
  platform: NodeJS.Platform = process.platform,
): UsageError | undefined {
  if (platform === 'win32') {
    return new UsageError('--exec needs process.execve, which Node does not have on Windows');
  }
  if (hasExecve) return undefined;
  return new UsageError(`--exec needs Node ≥ 22.15 (process.execve); this is Node ${version}`);
}

/**
 * What each capability that keeps credexec running beside the command does, by the flag that
 * turns it on. The CLI passes the flags in use to `refuseExecWith`.
 */
export const RESIDENT_CAPABILITIES: Readonly<Record<string, string>> = {
  '--watch': 'restarts the command when a secret changes',
  '--redact': "filters the command's output",
};

/** `--exec` together with capabilities that need credexec to stay: a UsageError, else undefined. */
export function execConflict(flags: readonly string[]): UsageError | undefined {
  if (flags.length === 0) return undefined;
  const described = flags.map((flag) => {
    const what = RESIDENT_CAPABILITIES[flag];
    return what === undefined ? flag : `${flag} (${what})`;
  });
  const list =
    described.length === 1
      ? described[0]!
      : `${described.slice(0, -1).join(', ')} or ${described.at(-1)!}`;
  const needs = flags.length === 1 ? 'it needs' : 'they need';
  return new UsageError(
    `--exec cannot be combined with ${list}: ${needs} credexec to keep running beside the command, and --exec replaces credexec with the command`,
  );
}

/** `"file": true` entries: once credexec is gone, nothing would remove their files. */
export function fileEntriesConflict(entries: readonly ManifestEntry[]): UsageError | undefined {
  const variables = [...new Set(entries.filter((entry) => entry.file).map((e) => e.variable))];
  if (variables.length === 0) return undefined;
  return new UsageError(
    `--exec cannot be used with "file": true entries (${variables.join(', ')}): nothing would remove the files once the command has replaced credexec; run without --exec or put these secrets in the environment`,
  );
}
