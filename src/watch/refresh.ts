import { LaunchResolveError, type EntryFailure } from '../errors.js';
import {
  entryReferences,
  type CredentialReference,
  type ManifestEntry,
} from '../manifest/manifest-entry.js';
import { entryValues, wipeEntryValues } from '../resolve/entry-values.js';
import {
  resolveEntries,
  wipeResolutions,
  type Resolution,
  type ResolveSource,
} from '../resolve/resolve-entries.js';
import type { Refresh } from '../launch/supervisor.js';

/** Each latest reference at the version the poll read (one that has none stays "latest"). */
function pinned(
  entry: ManifestEntry,
  latest: ReadonlyMap<string, string | undefined>,
): ManifestEntry {
  const pin = (reference: CredentialReference): CredentialReference =>
    reference.version === undefined
      ? { credential: reference.credential, version: latest.get(reference.credential) }
      : reference;
  if (entry.template === undefined) return { ...entry, ...pin(entry) };
  return {
    ...entry,
    template: { ...entry.template, references: entry.template.references.map(pin) },
  };
}

/** Resolutions of the pinned entries, told again in terms of the manifest's own entries. */
function asWritten(
  resolutions: readonly Resolution[],
  originals: ReadonlyMap<ManifestEntry, ManifestEntry>,
): Resolution[] {
  const seen = new Map<ManifestEntry, number>();
  return resolutions.map((resolution) => {
    const entry = originals.get(resolution.entry)!;
    const index = seen.get(resolution.entry) ?? 0;
    seen.set(resolution.entry, index + 1);
    // resolveEntries gives an entry's resolutions in the order of its references.
    return { ...resolution, entry, reference: entryReferences(entry)[index]! };
  });
}

export type RefreshOutcome =
  | { readonly refresh: Refresh; readonly wipe: () => void }
  | { readonly failures: readonly EntryFailure[] };

/**
 * Resolve `entries` again, all or nothing, through the launcher's batch path, each watched
 * reference pinned to the version the poll just read (so what is applied is what is reported,
 * and the unchanged ones come from one BatchGetItem). The failures (names and versions, never
 * values) when any reference fails or cannot be text where text is needed; else the refresh and
 * what zeroes its values.
 */
export async function resolveRefresh(
  source: ResolveSource,
  entries: readonly ManifestEntry[],
  latest: ReadonlyMap<string, string | undefined>,
  concurrency: number,
): Promise<RefreshOutcome> {
  const originals = new Map(entries.map((entry) => [pinned(entry, latest), entry]));
  const resolutions = asWritten(
    await resolveEntries(source, [...originals.keys()], { concurrency }),
    originals,
  );
  try {
    const values = entryValues(resolutions);
    return {
      refresh: { resolutions, values },
      wipe: () => {
        wipeResolutions(resolutions);
        wipeEntryValues(values);
      },
    };
  } catch (error: unknown) {
    wipeResolutions(resolutions);
    if (error instanceof LaunchResolveError) return { failures: error.failures };
    throw error;
  }
}
