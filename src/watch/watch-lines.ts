import { describeDuration } from '../util/duration.js';
import type { Change, Missing } from './changes.js';

/**
 * credexec's stderr lines about rotation: one per event, naming variables, credentials and
 * versions, never a value. Pure.
 */

/** `250 ms` below a second, else `10 s`, `1 min 30 s`. */
export function describeWait(ms: number): string {
  return ms < 1000 ? `${ms} ms` : describeDuration(ms);
}

const versionText = (version: string | undefined) => version ?? '(none)';

/** `DB_PASSWORD: app.db.password 0000000000000000003 -> 0000000000000000004`. */
function changeText({ watched, credential, from, to }: Change): string {
  const name = watched.entry.template === undefined ? credential : `{{${credential}}}`;
  return `${watched.entry.variable}: ${name} ${versionText(from)} -> ${versionText(to)}`;
}

export function changeLine(change: Change, what: string): string {
  return `credexec: ${changeText(change)}; ${what}`;
}

export function restartingWhat(signal: NodeJS.Signals, splayMs: number): string {
  return splayMs > 0
    ? `restarting (${signal}) after a ${describeWait(splayMs)} splay`
    : `restarting (${signal})`;
}

export function reloadingWhat(signals: readonly NodeJS.Signals[]): string {
  return `file rewritten, sending ${signals.join(' and ')}`;
}

export const NOT_APPLIED = 'not applied (onChange none)';
export const APPLIED_BY_RESTART = 'applied by the restart (onChange none)';

const KEEPS_RUNNING = 'the command keeps running; retrying at the next poll';

export function missingLine({ entry, credential, held }: Missing): string {
  return `credexec: warning: ${entry.variable}: ${credential} has no version in the store any more; the command keeps running with ${versionText(held)}`;
}

export function pollFailureLine(message: string): string {
  return `credexec: warning: cannot poll for new versions: ${message}; ${KEEPS_RUNNING}`;
}

export function resolveFailureLine(variable: string, credential: string, message: string): string {
  return `credexec: ${variable}: cannot apply the new version of ${credential}: ${message}; ${KEEPS_RUNNING}`;
}

export function applyFailureLine(message: string): string {
  return `credexec: cannot apply the new versions: ${message}; ${KEEPS_RUNNING}`;
}

export const NOTHING_TO_WATCH =
  'credexec: warning: --watch: every entry is pinned to a version (name@VERSION), so there is nothing to watch';
