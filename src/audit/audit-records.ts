import type { Backend } from '../backends/backend.js';
import {
  CredexecError,
  LaunchResolveError,
  ManifestError,
  SecretFileError,
  type EntryFailure,
} from '../errors.js';
import type { LaunchFailure, ObservedEntry } from '../launch/launch-observer.js';
import type { ChildExit } from '../launch/spawn-child.js';
import type {
  BackendRecord,
  EntryRecord,
  ErrorRecord,
  ExitRecord,
  FailureRecord,
} from './audit-schema.js';

/**
 * What goes into a record, built from what the launcher observed. Pure. Only names, versions,
 * paths, codes and numbers are kept: never a value, never an error message (messages carry no
 * values either, but a record has no need of them), never the command's arguments.
 */

/** The backend as far as credexec knows it without asking: names and descriptions. */
export function backendRecord(
  backend: Pick<Backend, 'name' | 'settings' | 'store' | 'keys'>,
): BackendRecord {
  return {
    name: backend.name,
    table: backend.settings.table,
    store: backend.store.description,
    keyService: backend.keys.description,
    keyId: backend.name === 'aws' ? backend.settings.keyId : null,
  };
}

/** A stable code and, where the error has one, its reason (`access-denied`, `not-found`, …). */
export function errorRecord(error: unknown): ErrorRecord {
  if (!(error instanceof CredexecError)) return { code: 'UNEXPECTED', reason: null };
  const reason: unknown = (error as { reason?: unknown }).reason;
  return { code: error.code, reason: typeof reason === 'string' ? reason : null };
}

/** The entries, each failure of `error` (a LaunchResolveError) marked on its variable's entry. */
export function entryRecords(entries: readonly ObservedEntry[], error?: unknown): EntryRecord[] {
  const failures = new Map<string, EntryFailure>(
    error instanceof LaunchResolveError
      ? error.failures.map((failure) => [failure.variable, failure])
      : [],
  );
  return entries.map((entry) => {
    const failure = failures.get(entry.variable);
    const failed = entry.status === 'failed' || failure !== undefined;
    return {
      variable: entry.variable,
      credential: entry.credential,
      requestedVersion: entry.requestedVersion ?? null,
      version: entry.version ?? null,
      status: failed ? 'failed' : entry.status,
      source: entry.origin ?? null,
      file: entry.file,
      optional: entry.optional,
      error: failed ? errorRecord(failure?.error ?? entry.error) : null,
    };
  });
}

export function exitRecord(exit: ChildExit): ExitRecord {
  return { code: exit.code ?? null, signal: exit.signal ?? null };
}

export function failureRecord(failure: LaunchFailure): FailureRecord {
  if ('signal' in failure) {
    return { code: 'SIGNAL', reason: failure.signal, variable: null, problems: null };
  }
  const { error } = failure;
  return {
    ...errorRecord(error),
    variable: error instanceof SecretFileError ? error.variable : null,
    problems:
      error instanceof ManifestError
        ? error.problems.map(({ file, line }) => ({ file, line }))
        : null,
  };
}
