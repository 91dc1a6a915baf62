import type { EntryValue } from '../resolve/entry-values.js';
import type { Resolution } from '../resolve/resolve-entries.js';
import { buildChildEnv, type Environment } from './child-env.js';
import type { StartedSecret } from './child-starter.js';
import type { SecretFiles } from './secret-files.js';
import type { ResolvedVersion } from './supervisor.js';

/**
 * The command's environment for these values: each `"file": true` value written to `files` (the
 * variable holds its path), the others as text. Optional entries whose credential does not exist
 * are left unset, even when credexec's own environment has them.
 */
export async function buildEnvironment(
  values: readonly EntryValue[],
  parent: Environment,
  pristine: boolean,
  files: SecretFiles,
): Promise<Record<string, string>> {
  const secrets = new Map<string, string>();
  const unset: string[] = [];
  for (const { entry, value } of values) {
    if (value === undefined) unset.push(entry.variable);
    else {
      secrets.set(
        entry.variable,
        // entryValues checked that every value bound for a variable is text, every part of a
        // template too: a template's own text is Unicode without NUL, so what it composes is.
        entry.file ? await files.write(entry.variable, value) : value.toString('utf8'),
      );
    }
  }
  return buildChildEnv({ parent, secrets, unset, pristine });
}

/** A composed value and each value it was composed of are secrets: a redactor must know each. */
export function startedSecrets(values: readonly EntryValue[]): StartedSecret[] {
  return values.flatMap(({ entry, secrets }) =>
    secrets.map((value) => ({
      variable: entry.variable,
      value,
      file: entry.file,
      redact: entry.redact !== false,
    })),
  );
}

/** What each reference resolved to, without the values (failed ones are left out). */
export function resolvedVersions(resolutions: readonly Resolution[]): ResolvedVersion[] {
  return resolutions.flatMap((resolution) =>
    resolution.status === 'failed'
      ? []
      : [
          {
            entry: resolution.entry,
            reference: resolution.reference,
            version: resolution.status === 'resolved' ? resolution.version : undefined,
          },
        ],
  );
}
