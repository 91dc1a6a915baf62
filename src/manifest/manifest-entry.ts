import type { EncryptionContext } from '../envelope/context.js';
import type { ChangePolicy } from './change-policy.js';
import { NotTextError } from '../errors.js';
import { notTextReason, type TextUse } from '../secrets/value-text.js';
import type { CredentialReference } from '../template/reference.js';
import type { Template } from '../template/template.js';

export { describeReference, type CredentialReference } from '../template/reference.js';

/** Where an entry was written, for error messages. */
export interface SourceLocation {
  readonly file: string;
  /** 1-based. */
  readonly line: number;
}

/** What every entry has, whatever its value is made of. */
interface EntryFields {
  readonly variable: string;
  /** A credential that does not exist leaves the variable unset instead of failing. */
  readonly optional: boolean;
  /** The value goes to a private file and the variable holds its path. */
  readonly file: boolean;
  /** `false` (JSON `"redact": false`): `--redact` leaves this entry's values in the output. */
  readonly redact?: boolean;
  /** JSON `"onChange"`: what `--watch` does when the entry changes; the run's default if absent. */
  readonly onChange?: ChangePolicy;
  /** `undefined` when the entry has no context of its own (the global `--context` applies). */
  readonly context: EncryptionContext | undefined;
  readonly source: SourceLocation;
}

/** `VAR → credential`, as written in a single manifest file. */
export interface ParsedCredentialEntry extends EntryFields, CredentialReference {
  readonly template?: undefined;
}

/** `VAR → template`: a value composed of text and several credentials. */
export interface ParsedTemplateEntry extends EntryFields {
  readonly template: Template;
  /** A template names its credentials in its references (`entryReferences`). */
  readonly credential?: undefined;
  readonly version?: undefined;
}

export type ParsedEntry = ParsedCredentialEntry | ParsedTemplateEntry;

/** An entry of the combined manifest, validated and with its encryption context settled. */
export type CredentialEntry = ParsedCredentialEntry & { readonly context: EncryptionContext };
export type TemplateEntry = ParsedTemplateEntry & { readonly context: EncryptionContext };
export type ManifestEntry = CredentialEntry | TemplateEntry;

/**
 * Every credential the entry reads: its own, or each distinct reference of its template (in the
 * order of first use). All of them are read under the entry's encryption context.
 */
export function entryReferences(entry: ParsedEntry): readonly CredentialReference[] {
  return entry.template === undefined ? [entry] : entry.template.references;
}

/** Where the value of an entry without `"file": true` goes. */
export const ENVIRONMENT_VARIABLE: TextUse = {
  what: 'an environment variable',
  hint: 'use "file": true',
};

/** Where a credential referenced by a template goes. */
export const TEMPLATE_PART: TextUse = {
  what: 'part of a template',
  hint: 'give it an entry of its own with "file": true',
};

/**
 * Why the value that resolved for `credential` (read by `entry`) cannot be handed to the child,
 * or `undefined`. An environment variable must be text (valid UTF-8 without NUL, SPEC §6), and so
 * must every part of a template, whether it becomes a variable or a file; a file of its own takes
 * any bytes. Checked before any value becomes a string, so a failed launch leaves no string
 * copies behind.
 */
export function entryValueProblem(
  entry: Pick<ParsedEntry, 'file' | 'template'>,
  credential: string,
  version: string,
  value: Uint8Array,
): NotTextError | undefined {
  if (entry.file && entry.template === undefined) return undefined;
  const reason = notTextReason(value);
  if (reason === undefined) return undefined;
  const { what, hint } = entry.template === undefined ? ENVIRONMENT_VARIABLE : TEMPLATE_PART;
  return new NotTextError(credential, version, reason, what, hint);
}
