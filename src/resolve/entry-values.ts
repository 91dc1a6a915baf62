import { LaunchResolveError, type EntryFailure } from '../errors.js';
import {
  describeReference,
  entryValueProblem,
  type ManifestEntry,
} from '../manifest/manifest-entry.js';
import { renderTemplate } from '../template/render-template.js';
import type { Resolution } from './resolve-entries.js';

/** What one entry gives its variable, once everything it reads has resolved. */
export interface EntryValue {
  readonly entry: ManifestEntry;
  /**
   * The credential's value, or the template composed of its references' values (a new buffer);
   * `undefined` when an optional entry read a credential that does not exist: the variable is
   * left unset.
   */
  readonly value: Buffer | undefined;
  /**
   * Every secret the value holds, for whoever must hide them (a redactor): the value itself and,
   * for a template, each value it was composed of.
   */
  readonly secrets: readonly Buffer[];
}

/** The resolutions of each entry, in manifest order. */
export function resolutionsByEntry(
  resolutions: readonly Resolution[],
): Map<ManifestEntry, Resolution[]> {
  const groups = new Map<ManifestEntry, Resolution[]>();
  for (const resolution of resolutions) {
    const group = groups.get(resolution.entry);
    if (group === undefined) groups.set(resolution.entry, [resolution]);
    else group.push(resolution);
  }
  return groups;
}

/** Why a credential an entry reads cannot reach the child: it failed, or it is not text. */
function failureOf(resolution: Resolution): EntryFailure | undefined {
  const { entry, reference } = resolution;
  const error =
    resolution.status === 'failed'
      ? resolution.error
      : resolution.status === 'resolved'
        ? entryValueProblem(entry, reference.credential, resolution.version, resolution.value)
        : undefined;
  if (error === undefined) return undefined;
  const described = describeReference(reference);
  const credential = entry.template === undefined ? described : `{{${described}}}`;
  return { variable: entry.variable, credential, error };
}

function valueOf(entry: ManifestEntry, resolutions: readonly Resolution[]): EntryValue {
  const read: Buffer[] = [];
  for (const resolution of resolutions) {
    if (resolution.status === 'absent') return { entry, value: undefined, secrets: [] };
    if (resolution.status === 'resolved') read.push(resolution.value);
  }
  if (entry.template === undefined) return { entry, value: read[0], secrets: read };
  // resolveEntries gives a template's resolutions in the order of its references.
  const composed = renderTemplate(entry.template, read);
  return { entry, value: composed, secrets: [composed, ...read] };
}

/**
 * The value of every entry, all or nothing: a credential's own, or its template rendered with the
 * values of its references. Throws LaunchResolveError listing every credential that failed or
 * cannot be text where text is needed (a variable, or any part of a template); an optional entry
 * whose credential (or any reference) does not exist is left unset. Pure. Composed values are new
 * buffers: zero them with `wipeEntryValues`.
 */
export function entryValues(resolutions: readonly Resolution[]): EntryValue[] {
  const failures = resolutions.flatMap((resolution) => failureOf(resolution) ?? []);
  if (failures.length > 0) throw new LaunchResolveError(failures);
  return [...resolutionsByEntry(resolutions)].map(([entry, group]) => valueOf(entry, group));
}

/** Zero the composed values (the values read are zeroed with their resolutions). */
export function wipeEntryValues(values: readonly EntryValue[]): void {
  for (const { entry, value } of values) if (entry.template !== undefined) value?.fill(0);
}
