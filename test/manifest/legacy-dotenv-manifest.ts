/**
 * The dotenv-form parser exactly as it was before templates (commit fc13433), frozen here so that
 * a property test can show that every line it accepted still means the same. Do not change it.
 */
import { parse as parseDotenv } from 'dotenv';
import { padVersion } from '../../src/envelope/version.js';
import { messageOf } from '../../src/errors.js';
import type { ParsedEntry } from '../../src/manifest/manifest-entry.js';
import type { ProblemList } from '../../src/manifest/manifest-problems.js';

const BLANK_OR_COMMENT = /^\s*(#.*)?$/;

/** `name@VERSION` pins a version; the last `@` separates them so names may contain `@`. */
function splitReference(
  reference: string,
): { credential: string; version: string | undefined } | string {
  const at = reference.lastIndexOf('@');
  if (at === -1) return { credential: reference, version: undefined };
  const credential = reference.slice(0, at);
  const version = reference.slice(at + 1);
  if (credential === '') return 'the credential name before "@" is empty';
  if (version === '') return 'the version after "@" is empty';
  try {
    return { credential, version: padVersion(version) };
  } catch (error: unknown) {
    return messageOf(error);
  }
}

function parseLine(file: string, line: number, text: string, problems: ProblemList) {
  // dotenv.parse silently drops what it cannot read, so an empty result is a malformed line.
  const pairs = Object.entries(parseDotenv(text));
  const pair = pairs[0];
  if (pair === undefined || pairs.length > 1) {
    problems.add(file, line, 'malformed line: expected VAR=credential-name or VAR=name@VERSION');
    return undefined;
  }
  const [variable, reference] = pair;
  if (reference.trim() === '') {
    problems.add(file, line, `variable ${variable} has no credential name`);
    return undefined;
  }
  const split = splitReference(reference.trim());
  if (typeof split === 'string') {
    problems.add(file, line, `variable ${variable}: ${split}`);
    return undefined;
  }
  return { variable, ...split };
}

/**
 * Parse a dotenv-form manifest line by line with dotenv's own parser, so that every problem can
 * name its line. Multi-line quoted values are therefore not supported (credential names never
 * span lines). Variable names are checked later, together with the other forms.
 */
export function parseLegacyDotenvManifest(
  file: string,
  text: string,
  problems: ProblemList,
): ParsedEntry[] {
  const entries: ParsedEntry[] = [];
  text
    .replace(/^\uFEFF/, '')
    .split(/\r\n|\r|\n/)
    .forEach((lineText, index) => {
      if (BLANK_OR_COMMENT.test(lineText)) return;
      const line = index + 1;
      const parsed = parseLine(file, line, lineText, problems);
      if (parsed === undefined) return;
      entries.push({
        ...parsed,
        optional: false,
        file: false,
        context: undefined,
        source: { file, line },
      });
    });
  return entries;
}
