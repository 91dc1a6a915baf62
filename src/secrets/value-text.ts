import { isUtf8 } from 'node:buffer';
import { NotTextError, type NotTextReason } from '../errors.js';

/** Why `value` cannot be text (SPEC §6), or `undefined` when it is valid UTF-8 without NUL. Pure. */
export function notTextReason(value: Uint8Array): NotTextReason | undefined {
  if (value.includes(0)) return 'nul';
  return isUtf8(value) ? undefined : 'invalid-utf8';
}

/** Where a value is going, for the message: what it cannot be, and what to use instead. */
export interface TextUse {
  /** "an environment variable", "printed as json". */
  readonly what: string;
  /** `use "file": true`, `use get -n`. */
  readonly hint: string;
}

/**
 * The value as a string, or a NotTextError naming the credential and version. Never substitutes
 * U+FFFD for bytes that are not UTF-8: a changed value handed over silently is worse than none.
 */
export function valueAsText(
  value: Buffer,
  credential: { readonly name: string; readonly version: string },
  use: TextUse,
): string {
  const reason = notTextReason(value);
  if (reason !== undefined)
    throw new NotTextError(credential.name, credential.version, reason, use.what, use.hint);
  return value.toString('utf8');
}
