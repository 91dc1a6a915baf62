import type { ManifestEntry } from '../manifest/manifest-entry.js';
import type { WatchedEntry, WatchPlan } from './watch-plan.js';

/**
 * What one poll means for the running command: which watched credentials changed for which
 * entries, which of them call for an action, and which required credentials are gone. Pure: it
 * compares the versions the command has with the latest versions read.
 */

/** The version of `credential` that `entry` gave the command; `undefined`: it did not exist. */
export type Held = Map<ManifestEntry, Map<string, string | undefined>>;

/** One watched credential of one entry at a new latest version (or gone). */
export interface Change {
  readonly watched: WatchedEntry;
  readonly credential: string;
  readonly from: string | undefined;
  readonly to: string | undefined;
}

/** A credential a required entry reads that has no version left: the command keeps the old one. */
export interface Missing {
  readonly entry: ManifestEntry;
  readonly credential: string;
  readonly held: string | undefined;
}

export interface Decision {
  /** Changes to apply: by `action`. */
  readonly acting: readonly Change[];
  /** Changes under `"onChange": "none"` not reported yet. */
  readonly reported: readonly Change[];
  /** Every change under `"onChange": "none"` the command does not have (a restart applies them). */
  readonly drifted: readonly Change[];
  readonly missing: readonly Missing[];
  /**
   * One action for every change acted on: a restart when any entry asks for one (or an optional
   * file entry appears, whose variable the running command does not have), else the signals of
   * the entries reloaded; undefined when nothing is to be done.
   */
  readonly action:
    | { readonly kind: 'restart' }
    | { readonly kind: 'signal'; readonly signals: readonly NodeJS.Signals[] }
    | undefined;
}

/** What the running command has, as the watcher keeps track of it. */
export interface CommandState {
  /** What each entry gave the command. */
  readonly held: Held;
  /** For `none` entries, the versions already reported (a change is said once, not every poll). */
  readonly reported: Held;
  /** Entries whose variable the command has (an optional entry that did not exist is unset). */
  readonly inEnvironment: ReadonlySet<ManifestEntry>;
}

/** Compare what the command holds with the latest versions. */
export function decide(
  plan: WatchPlan,
  state: CommandState,
  latest: ReadonlyMap<string, string | undefined>,
): Decision {
  const { held, reported } = state;
  const acting: Change[] = [];
  const quiet: Change[] = [];
  const drifted: Change[] = [];
  const missing: Missing[] = [];
  for (const watched of plan.entries) {
    const { entry } = watched;
    const versions = held.get(entry);
    for (const credential of watched.watched) {
      const from = versions?.get(credential);
      const to = latest.get(credential);
      if (from === to) continue;
      if (to === undefined && !entry.optional) {
        missing.push({ entry, credential, held: from });
        continue;
      }
      const change = { watched, credential, from, to };
      if (watched.policy.kind !== 'none') {
        acting.push(change);
        continue;
      }
      drifted.push(change);
      if (!reported.has(entry) || reported.get(entry)!.get(credential) !== to) quiet.push(change);
    }
  }
  return {
    acting,
    reported: quiet,
    drifted,
    missing,
    action: actionFor(acting, state.inEnvironment),
  };
}

function actionFor(
  acting: readonly Change[],
  inEnvironment: ReadonlySet<ManifestEntry>,
): Decision['action'] {
  if (acting.length === 0) return undefined;
  const restart = acting.some(
    ({ watched, to }) =>
      watched.policy.kind === 'restart' ||
      // A variable the running command does not have reaches it only by a restart.
      (to !== undefined && !inEnvironment.has(watched.entry)),
  );
  if (restart) return { kind: 'restart' };
  const signals = new Set<NodeJS.Signals>();
  for (const { watched } of acting)
    if (watched.policy.kind === 'signal') signals.add(watched.policy.signal);
  return { kind: 'signal', signals: [...signals] };
}
