import type { EncryptionContext } from '../envelope/context.js';
import { NotTextError } from '../errors.js';
import { notTextReason, type TextUse } from '../secrets/value-text.js';

/** Where an entry was written, for error messages. */
export interface SourceLocation {
  readonly file: string;
  /** 1-based. */
  readonly line: number;
}

/** One `VAR → credential` mapping as written in a single manifest file. */
export interface ParsedEntry {
  readonly variable: string;
  readonly credential: string;
  /** Padded when numeric; `undefined` means the latest version. */
  readonly version: string | undefined;
  readonly optional: boolean;
  /** The value goes to a private file and the variable holds its path. */
  readonly file: boolean;
  /** `undefined` when the entry has no context of its own (the global `--context` applies). */
  readonly context: EncryptionContext | undefined;
  readonly source: SourceLocation;
}

/** An entry of the combined manifest, validated and with its encryption context settled. */
export interface ManifestEntry extends ParsedEntry {
  readonly context: EncryptionContext;
}

/** `name` or `name@version`, as a manifest would reference it. */
export function describeReference(entry: Pick<ParsedEntry, 'credential' | 'version'>): string {
  return entry.version === undefined ? entry.credential : `${entry.credential}@${entry.version}`;
}

/** Where the value of an entry without `"file": true` goes. */
export const ENVIRONMENT_VARIABLE: TextUse = {
  what: 'an environment variable',
  hint: 'use "file": true',
};

/**
 * Why the value that resolved for `entry` cannot be handed to the child, or `undefined`. An
 * environment variable must be text (valid UTF-8 without NUL, SPEC §6); a file takes any bytes.
 * Checked before any value becomes a string, so a failed launch leaves no string copies behind.
 */
export function entryValueProblem(
  entry: Pick<ParsedEntry, 'credential' | 'file'>,
  version: string,
  value: Uint8Array,
): NotTextError | undefined {
  if (entry.file) return undefined;
  const reason = notTextReason(value);
  if (reason === undefined) return undefined;
  const { what, hint } = ENVIRONMENT_VARIABLE;
  return new NotTextError(entry.credential, version, reason, what, hint);
}
