import { UsageError } from '../errors.js';
import {
  describePolicy,
  policyProblem,
  RESTART,
  type ChangePolicy,
} from '../manifest/change-policy.js';
import {
  describeReference,
  entryReferences,
  type CredentialReference,
  type ManifestEntry,
} from '../manifest/manifest-entry.js';

/**
 * What `--watch` watches (docs/launcher.md "Rotation"): every reference an entry reads at its
 * latest version — never one pinned with `@VERSION` — under the entry's policy, its own
 * `"onChange"` or the run's default. Pure.
 */
export interface WatchedEntry {
  readonly entry: ManifestEntry;
  readonly policy: ChangePolicy;
  /** Where the policy comes from: the entry's own `"onChange"`, or the run's default. */
  readonly own: boolean;
  /** The credentials it reads at their latest version, each once. */
  readonly watched: readonly string[];
}

export interface WatchPlan {
  /** Entries with at least one watched credential, in manifest order. */
  readonly entries: readonly WatchedEntry[];
  /** Every credential polled, once each: one version lookup per poll. */
  readonly credentials: readonly string[];
}

export function isWatched(reference: CredentialReference): boolean {
  return reference.version === undefined;
}

export function watchPlan(
  entries: readonly ManifestEntry[],
  defaultPolicy: ChangePolicy = RESTART,
): WatchPlan {
  const watchedEntries: WatchedEntry[] = [];
  const credentials = new Set<string>();
  for (const entry of entries) {
    const watched = [
      ...new Set(
        entryReferences(entry)
          .filter(isWatched)
          .map(({ credential }) => credential),
      ),
    ];
    if (watched.length === 0) continue;
    for (const credential of watched) credentials.add(credential);
    watchedEntries.push({
      entry,
      policy: entry.onChange ?? defaultPolicy,
      own: entry.onChange !== undefined,
      watched,
    });
  }
  return { entries: watchedEntries, credentials: [...credentials] };
}

/**
 * The run's default policy cannot apply to every watched entry: `signal:` for entries whose value
 * goes to the environment. A UsageError naming them, or undefined. (An entry's own `"onChange"`
 * is checked when the manifest is read.)
 */
export function planProblem(plan: WatchPlan, source: string): UsageError | undefined {
  const refused = plan.entries.filter(
    ({ entry, policy, own }) => !own && policyProblem(policy, entry.file) !== undefined,
  );
  if (refused.length === 0) return undefined;
  const policy = describePolicy(refused[0]!.policy);
  const variables = refused.map(({ entry }) => entry.variable).join(', ');
  return new UsageError(
    `${source} ${policy} cannot apply to ${variables}: their values are environment variables, which cannot change inside a running process; give them "onChange": "restart" (or "none"), or make them "file": true`,
  );
}

function watchedColumn(entry: ManifestEntry): string {
  const references = entryReferences(entry);
  const pinned = references.filter((reference) => !isWatched(reference)).length;
  if (pinned === 0) return 'yes';
  if (pinned === references.length) return 'no (pinned)';
  return `yes (${references.length - pinned} of ${references.length})`;
}

function policyColumn(watched: WatchedEntry | undefined): string {
  if (watched === undefined) return '-';
  const { policy, own } = watched;
  const what =
    policy.kind === 'restart'
      ? 'restart'
      : policy.kind === 'signal'
        ? `${describePolicy(policy)} (file rewritten)`
        : 'none (reported only)';
  return own ? what : `${what}, default`;
}

/**
 * `credexec check --watch-plan`: one row per entry (a template's references below it), whether
 * it is watched and what a change does; then what one poll costs. Names only.
 */
export function formatWatchPlan(entries: readonly ManifestEntry[], plan: WatchPlan): string {
  const byEntry = new Map(plan.entries.map((watched) => [watched.entry, watched]));
  const rows: string[][] = [['VARIABLE', 'CREDENTIAL', 'WATCHED', 'ON CHANGE']];
  for (const entry of entries) {
    const watched = byEntry.get(entry);
    if (entry.template === undefined) {
      rows.push([
        entry.variable,
        describeReference(entry),
        watchedColumn(entry),
        policyColumn(watched),
      ]);
      continue;
    }
    rows.push([entry.variable, 'template', watchedColumn(entry), policyColumn(watched)]);
    for (const reference of entry.template.references) {
      rows.push([
        '',
        `{{${describeReference(reference)}}}`,
        isWatched(reference) ? 'yes' : 'no (pinned)',
        '',
      ]);
    }
  }
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  const table = rows.map((row) =>
    row
      .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!)))
      .join('  ')
      .trimEnd(),
  );
  const count = plan.credentials.length;
  const summary =
    count === 0
      ? 'nothing to watch: every entry is pinned to a version'
      : `${count} credential(s) watched: each poll reads ${count} version(s) (aws: ${count} Query request(s) of one item's name and version), and no key service call while nothing changes`;
  return `${[...table, summary].join('\n')}\n`;
}
