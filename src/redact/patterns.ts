import {
  base64Forms,
  embeddedBase64Forms,
  jsonForms,
  lineForms,
  percentForms,
  withoutTrailingNewline,
  type FormKind,
} from './encodings.js';

/** One resolved secret as redaction sees it. */
export interface RedactSecret {
  /** The variable the value is bound to; matches are replaced by `<redacted:VARIABLE>`. */
  readonly variable: string;
  readonly value: Uint8Array;
  /** `false` opts this entry out (`"redact": false` in the manifest). Default: redacted. */
  readonly redact?: boolean;
}

export interface RedactionOptions {
  /**
   * Values shorter than this (in bytes, after dropping a trailing newline) are not redacted, and
   * no derived pattern shorter than this is used: short strings occur everywhere in ordinary
   * output and replacing them would garble it. Default 4.
   */
  readonly minLength?: number;
}

export const DEFAULT_MIN_LENGTH = 4;

/**
 * Values longer than this are matched as they are and line by line only: their encodings would
 * add several times their size to the automaton (about 70 bytes of memory per pattern byte while
 * it is built), and a large file secret leaks whole in an encoding rarely.
 */
export const MAX_ENCODED_VALUE = 16 * 1024;

/** A byte string to replace, and the variable whose value it comes from. */
export interface Pattern {
  readonly bytes: Buffer;
  readonly variable: string;
  readonly kind: FormKind;
}

/** What `credexec check --redact` prints: names and counts, never values. */
export interface RedactionReport {
  readonly minLength: number;
  /** Redacted entries and how many distinct patterns (forms) each contributes. */
  readonly redacted: readonly { readonly variable: string; readonly patterns: number }[];
  /** Entries whose value is shorter than `minLength`: not redacted. */
  readonly tooShort: readonly string[];
  /** Entries with `redact: false`. */
  readonly optedOut: readonly string[];
  /** Entries longer than MAX_ENCODED_VALUE: matched as they are and line by line only. */
  readonly notEncoded: readonly string[];
}

export interface PatternSet {
  readonly patterns: readonly Pattern[];
  readonly report: RedactionReport;
}

/**
 * Every pattern to replace for `secrets`, in priority order: when two secrets yield the same bytes
 * (the same value under two variables, or one value equal to another's encoding), the earlier
 * pattern names the marker. Raw values of all secrets come first, then lines of multi-line values,
 * then the encodings. Pure.
 */
export function redactionPatterns(
  secrets: readonly RedactSecret[],
  options: RedactionOptions = {},
): PatternSet {
  const minLength = options.minLength ?? DEFAULT_MIN_LENGTH;
  if (!Number.isInteger(minLength) || minLength < 1) {
    throw new RangeError(`redaction minimum length must be a whole number ≥ 1, not ${minLength}`);
  }
  const tooShort: string[] = [];
  const optedOut: string[] = [];
  const included: RedactSecret[] = [];
  for (const secret of secrets) {
    if (secret.redact === false) optedOut.push(secret.variable);
    else if (withoutTrailingNewline(secret.value).length < minLength)
      tooShort.push(secret.variable);
    else included.push(secret);
  }

  const seen = new Map<string, Pattern>();
  const counts = new Map<string, number>(included.map((secret) => [secret.variable, 0]));
  const add = (variable: string, kind: FormKind, bytes: Uint8Array) => {
    if (bytes.length < minLength) return;
    const key = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
    if (seen.has(key)) return;
    seen.set(key, { bytes: Buffer.from(bytes), variable, kind });
    counts.set(variable, (counts.get(variable) ?? 0) + 1);
  };
  const stages: readonly ((secret: RedactSecret, value: Uint8Array) => void)[] = [
    (secret, value) => {
      add(secret.variable, 'raw', secret.value);
      add(secret.variable, 'raw', value);
    },
    (secret) => lineForms(secret.value).forEach((line) => add(secret.variable, 'line', line)),
    (secret, value) => {
      for (const form of [secret.value, value]) {
        jsonForms(form).forEach((json) => add(secret.variable, 'json', json));
      }
      for (const line of lineForms(secret.value)) {
        jsonForms(line).forEach((json) => add(secret.variable, 'json', json));
      }
    },
    (secret, value) => {
      for (const form of [secret.value, value]) {
        percentForms(form).forEach((percent) => add(secret.variable, 'percent', percent));
      }
    },
    (secret, value) => {
      for (const form of [secret.value, value]) {
        base64Forms(form).forEach((base64) => add(secret.variable, 'base64', base64));
      }
    },
    (secret, value) => {
      for (const form of [secret.value, value]) {
        for (const base64 of embeddedBase64Forms(form)) {
          add(secret.variable, 'base64-embedded', base64);
        }
      }
    },
  ];
  const notEncoded = included
    .filter((secret) => secret.value.length > MAX_ENCODED_VALUE)
    .map((secret) => secret.variable);
  stages.forEach((stage, index) => {
    for (const secret of included) {
      // The first two stages are the value itself and its lines.
      if (index >= 2 && secret.value.length > MAX_ENCODED_VALUE) continue;
      stage(secret, withoutTrailingNewline(secret.value));
    }
  });
  return {
    patterns: [...seen.values()],
    report: {
      minLength,
      redacted: [...counts].map(([variable, patterns]) => ({ variable, patterns })),
      tooShort,
      optedOut,
      notEncoded,
    },
  };
}

/** The report alone (for `credexec check --redact`): builds the patterns, zeroes them, keeps counts. */
export function redactionReport(
  secrets: readonly RedactSecret[],
  options: RedactionOptions = {},
): RedactionReport {
  const { patterns, report } = redactionPatterns(secrets, options);
  for (const pattern of patterns) pattern.bytes.fill(0);
  return report;
}
