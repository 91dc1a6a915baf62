import type { CredentialReference } from './reference.js';

/** Literal text, or the value of `Template.references[index]`. */
export type TemplatePart =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'reference'; readonly index: number };

/**
 * A composed value as parsed from `postgres://app:{{app.db.password}}@db/app`: literal text and
 * references to credentials, nothing else — no variables, no commands, no functions.
 */
export interface Template {
  readonly parts: readonly TemplatePart[];
  /** Each distinct reference once, in the order of first use. */
  readonly references: readonly CredentialReference[];
}
