import type { EncryptionContext } from '../envelope/context.js';

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
