import type { Resolution } from '../resolve/resolve-entries.js';
import type { ForwardedSignal } from './signal-relay.js';
import type { ChildExit } from './spawn-child.js';

/**
 * One credential a manifest entry reads, as resolution left it, without its value: an entry's own
 * credential, or one reference of a template (a template gives one per reference).
 */
export interface ObservedEntry {
  readonly variable: string;
  readonly credential: string;
  /** The version the manifest pins; `undefined`: the latest. */
  readonly requestedVersion: string | undefined;
  readonly status: Resolution['status'];
  /** The version that resolved (resolved entries only). */
  readonly version: string | undefined;
  /**
   * Who answered: the store (an absent entry's "not found" included) or the outage fallback;
   * `undefined` for a failed entry.
   */
  readonly origin: 'store' | 'fallback' | undefined;
  readonly file: boolean;
  readonly optional: boolean;
  /** Why a failed entry failed: an error, whose message never holds a value. */
  readonly error: unknown;
}

/** Why nothing was started: what failed, or the signal that stopped credexec first. */
export type LaunchFailure = { readonly error: unknown } | { readonly signal: ForwardedSignal };

/**
 * Told what a launch does, for a capability that keeps a record of it (the audit log), composed
 * in by the CLI. It is given data, never a value, and decides what to keep. Its calls must not
 * throw: failing to record something is the observer's to report.
 *
 * A launch calls `resolved` (unless it failed or was stopped before resolution was over), then
 * either `started` and, once the command ends, `ended`; or `failed`, exactly once. With `--watch`,
 * a command restarted with new values is `replaced` once it is gone, and `resolved` and `started`
 * (or `failed`, when it cannot start again) follow for the new one: one `started` … `replaced` or
 * `ended` pair per command.
 */
export interface LaunchObserver {
  /** Every manifest entry went through resolution; some may have failed. */
  resolved(entries: readonly ObservedEntry[]): void;
  /** The command is running; `pid` is its process id. */
  started(pid: number | undefined): void;
  /** The command ended, with its exit status or the signal that killed it. */
  ended(exit: ChildExit): void;
  /** The command was stopped to be started again with new values (`--watch`), and is gone. */
  replaced?(exit: ChildExit): void;
  /** Nothing was started. */
  failed(failure: LaunchFailure): void;
}

export function observedEntries(resolutions: readonly Resolution[]): ObservedEntry[] {
  return resolutions.map((resolution) => {
    const { entry, reference } = resolution;
    const resolved = resolution.status === 'resolved' ? resolution : undefined;
    return {
      variable: entry.variable,
      credential: reference.credential,
      requestedVersion: reference.version,
      status: resolution.status,
      version: resolved?.version,
      origin: resolution.status === 'failed' ? undefined : (resolved?.origin ?? 'store'),
      file: entry.file,
      optional: entry.optional,
      error: resolution.status === 'failed' ? resolution.error : undefined,
    };
  });
}
