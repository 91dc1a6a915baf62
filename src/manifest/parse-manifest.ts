import type { EncryptionContext } from '../envelope/context.js';
import { ManifestError, type ManifestProblem } from '../errors.js';
import { entryReferences, type ManifestEntry, type ParsedEntry } from './manifest-entry.js';
import { credentialNameProblem } from '../secrets/credential-name.js';
import { ProblemList } from './manifest-problems.js';
import { manifestSettings } from './manifest-settings.js';
import { parseDotenvManifest } from './parse-dotenv-manifest.js';
import { parseJsonManifest } from './parse-json-manifest.js';
import {
  dangerousFamily,
  isReservedVariable,
  isValidVariableName,
  RESERVED_PREFIX,
} from './variable-names.js';

export interface ManifestFile {
  /** As given by the user; used in error messages. */
  readonly name: string;
  readonly text: string;
}

export interface ManifestPolicy {
  /** Dangerous variables the user explicitly allowed (`--allow-var`). */
  readonly allowVars: ReadonlySet<string>;
  /** `--context K=V…`: for every entry without a context of its own. */
  readonly context: EncryptionContext;
}

export function isJsonManifest(name: string): boolean {
  return name.toLowerCase().endsWith('.json');
}

function checkVariable(entry: ParsedEntry, policy: ManifestPolicy, problems: ProblemList): boolean {
  const { variable, source } = entry;
  let message: string | undefined;
  if (!isValidVariableName(variable)) {
    message = `invalid variable name "${variable}" (use letters, digits and _, not starting with a digit)`;
  } else if (isReservedVariable(variable)) {
    message = `variable ${variable} is refused: ${RESERVED_PREFIX}* variables configure credexec and are never passed on`;
  } else if (!policy.allowVars.has(variable)) {
    const family = dangerousFamily(variable);
    if (family !== undefined) {
      message = `variable ${variable} is refused: ${family.reason} (allow it with --allow-var ${variable})`;
    }
  }
  if (message !== undefined) problems.add(source.file, source.line, message);
  return message === undefined;
}

/** Every credential the entry reads (its own, or each of its template's) must be a valid name. */
function checkCredentials(entry: ParsedEntry, problems: ProblemList): boolean {
  let valid = true;
  for (const { credential } of entryReferences(entry)) {
    const problem = credentialNameProblem(credential);
    if (problem === undefined) continue;
    problems.add(entry.source.file, entry.source.line, `variable ${entry.variable}: ${problem}`);
    valid = false;
  }
  return valid;
}

/** Problems sorted by file (in the order given) and line, as a reader would meet them. */
function inReadingOrder(problems: readonly ManifestProblem[], files: readonly ManifestFile[]) {
  const order = new Map(files.map(({ name }, index) => [name, index]));
  return [...problems].sort(
    (a, b) => (order.get(a.file) ?? 0) - (order.get(b.file) ?? 0) || a.line - b.line,
  );
}

/**
 * Parse and combine manifest files (dotenv form, or JSON for `*.json`). Pure: takes file names and
 * texts. Throws one ManifestError listing every problem in every file, each with file and line.
 */
export function parseManifests(
  files: readonly ManifestFile[],
  policy: ManifestPolicy,
): ManifestEntry[] {
  const problems = new ProblemList();
  const seen = new Map<string, ParsedEntry>();
  const entries: ManifestEntry[] = [];
  for (const { name, text } of files) {
    const parse = isJsonManifest(name) ? parseJsonManifest : parseDotenvManifest;
    for (const entry of parse(name, text, problems)) {
      const first = seen.get(entry.variable);
      if (first !== undefined) {
        problems.add(
          entry.source.file,
          entry.source.line,
          `variable ${entry.variable} is already defined at ${first.source.file}:${first.source.line}`,
        );
        continue;
      }
      seen.set(entry.variable, entry);
      const usable = checkVariable(entry, policy, problems);
      if (checkCredentials(entry, problems) && usable) {
        entries.push({ ...entry, context: entry.context ?? policy.context });
      }
    }
  }
  // Launcher settings are the CLI's to use (loadManifestSettings); here they are only checked.
  manifestSettings(files, problems);
  if (!problems.empty) throw new ManifestError(inReadingOrder(problems.all, files));
  return entries;
}
