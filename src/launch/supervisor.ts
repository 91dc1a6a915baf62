import type { CredentialReference, ManifestEntry } from '../manifest/manifest-entry.js';
import type { EntryValue } from '../resolve/entry-values.js';
import type { Resolution } from '../resolve/resolve-entries.js';
import type { ChildExit } from './spawn-child.js';

/** How one reference of an entry resolved for the running command, without its value. */
export interface ResolvedVersion {
  readonly entry: ManifestEntry;
  readonly reference: CredentialReference;
  /** The version the command has; `undefined`: the optional credential did not exist. */
  readonly version: string | undefined;
}

/** New values for some or all entries, resolved all or nothing, and how they resolved. */
export interface Refresh {
  /** Every resolution read for these values (none failed), for the record (the audit log). */
  readonly resolutions: readonly Resolution[];
  /** The entries' values; the supervisor zeroes them once the call settles. */
  readonly values: readonly EntryValue[];
}

/** The running command as seen by whoever stops it (its pid, a signal, its end). */
export interface StoppableChild {
  readonly pid: number | undefined;
  kill(signal: NodeJS.Signals): void;
  /** Settles once its process is gone. */
  readonly exited: Promise<void>;
}

/**
 * The command once it runs, as the launcher lets a supervisor drive it (a capability composed in
 * by the CLI: `--watch`, src/watch). The launcher keeps the life cycle exact whatever the
 * supervisor does: signals to credexec reach the command running at that moment once each, the
 * secret files of a command are removed once it is gone, and there are never two commands.
 */
export interface SupervisedCommand {
  /** The manifest as read for the first command, and what each reference resolved to. */
  readonly versions: readonly ResolvedVersion[];
  /**
   * Settles once credexec is to end, with the exit it ends with: the command ended on its own, or
   * a signal asked credexec to stop while a restart was under way (the replaced command's exit).
   * Rejects when a restarted command could not be started (SpawnError).
   */
  readonly ended: Promise<ChildExit>;
  /**
   * True once credexec was asked to stop (a stop signal arrived) or the command ended: start
   * nothing more; `restart` and `reload` then do nothing and return false.
   */
  readonly stopping: boolean;
  /**
   * Start the command again with `refresh.values` (every entry): its new environment and secret
   * files (in a new directory) are made first, then `stop` ends the running command, its files
   * are removed, and the command starts again. False when credexec is to end instead (a stop
   * signal or the command's own exit came first); no command then runs twice. Throws
   * SecretFileError (nothing was stopped) when the new files cannot be written.
   */
  restart(refresh: Refresh, stop: (child: StoppableChild) => Promise<void>): Promise<boolean>;
  /**
   * Rewrite the secret files of the `"file": true` entries of `refresh.values` in place (a
   * deleted optional credential removes its file), then send each of `signals` once to the
   * running command. False when credexec is to end instead. Throws SecretFileError.
   */
  reload(refresh: Refresh, signals: readonly NodeJS.Signals[]): Promise<boolean>;
}

/**
 * What runs beside the command until it ends: by default nothing (wait for it to exit); with
 * `--watch`, the rotation watcher.
 */
export interface Supervisor {
  /**
   * Refuse a manifest this supervisor cannot honour (throw a UsageError), once it is read and
   * before anything is resolved.
   */
  refuse?(entries: readonly ManifestEntry[]): void;
  /**
   * Drive the command; settles once `command.ended` has settled and everything the supervisor
   * started is stopped (its timers, its store connections). Never rejects.
   */
  supervise(command: SupervisedCommand): Promise<void>;
}

/** The default: the command runs until it exits. */
export const waitForExit: Supervisor = {
  supervise: (command) =>
    command.ended.then(
      () => undefined,
      () => undefined,
    ),
};
