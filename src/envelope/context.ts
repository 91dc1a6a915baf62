import { UsageError } from '../errors.js';

/** KMS encryption context: authenticated, not secret, must match exactly on decrypt. */
export type EncryptionContext = Readonly<Record<string, string>>;

export const EMPTY_CONTEXT: EncryptionContext = Object.freeze({});

/**
 * A context built key by key. It has no prototype, so that every key is an ordinary own key:
 * on a plain object, `context.__proto__ = "x"` would set nothing, and credstash items written
 * with such a key could never be read. Spreads and JSON.stringify copy own keys, `__proto__`
 * included, so the transports send what was given.
 */
export function contextBuilder(): Record<string, string> {
  return Object.create(null) as Record<string, string>;
}

/** Parse `K=V` words (the value may contain `=`); keys must be unique and non-empty. */
export function parseContext(pairs: readonly string[]): EncryptionContext {
  const context = contextBuilder();
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0 || eq === pair.length - 1) {
      throw new UsageError(`encryption context "${pair}" is not of the form KEY=VALUE`);
    }
    const key = pair.slice(0, eq);
    if (Object.hasOwn(context, key)) {
      throw new UsageError(`encryption context key "${key}" is given twice`);
    }
    context[key] = pair.slice(eq + 1);
  }
  return Object.freeze(context);
}

export function isContextArgument(word: string): boolean {
  const eq = word.indexOf('=');
  return eq > 0 && eq < word.length - 1;
}

/** A stable byte encoding (sorted keys) used as AAD by the local keyring and for cache keys. */
export function canonicalContext(context: EncryptionContext): string {
  const keys = Object.keys(context).sort();
  return JSON.stringify(keys.map((key) => [key, context[key]]));
}

export function sameContext(a: EncryptionContext, b: EncryptionContext): boolean {
  return canonicalContext(a) === canonicalContext(b);
}
