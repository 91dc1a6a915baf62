import { Automaton } from './automaton.js';
import {
  redactionPatterns,
  type RedactSecret,
  type RedactionOptions,
  type RedactionReport,
} from './patterns.js';
import { MIN_WINDOW, SkipFilter } from './skip-filter.js';

/**
 * At most this many patterns shorter than MIN_WINDOW are looked for with `Buffer#indexOf` (one
 * native search each per chunk) beside the skip filter. Each costs about as much as the filter
 * itself, so with more the automaton reads every byte instead (measured on 100 secrets: 1.9 GB/s
 * per CPU second with the filter alone, 0.55 with 6 short patterns, 0.3 reading every byte).
 */
export const MAX_SHORT_PATTERNS = 16;

/**
 * A compiled secret set: the automaton, what lets the redactor skip most bytes, one marker per
 * pattern, and the report for `check --redact`. Immutable, so the stdout and stderr redactors of
 * one child share it.
 */
export class Redaction {
  /** Decides every match: leftmost, then longest (see redactor.ts). */
  readonly automaton: Automaton;
  /** Rules out most start positions of the patterns of MIN_WINDOW bytes or more. */
  readonly filter: SkipFilter | undefined;
  /** The patterns shorter than MIN_WINDOW, found with `indexOf` (empty when the filter is off). */
  readonly shortPatterns: readonly Buffer[];
  /**
   * Whether the redactor may skip bytes at all; when not, the automaton reads every byte (too
   * many short patterns).
   */
  readonly skipping: boolean;
  /** `<redacted:VARIABLE>` for each pattern index. */
  readonly markers: readonly Buffer[];
  readonly report: RedactionReport;
  /** Number of patterns (all forms of all redacted values). */
  readonly patternCount: number;

  constructor(secrets: readonly RedactSecret[], options: RedactionOptions = {}) {
    const { patterns, report } = redactionPatterns(secrets, options);
    const bytes = patterns.map((pattern) => pattern.bytes);
    this.automaton = new Automaton(bytes);
    const short = bytes.filter((pattern) => pattern.length < MIN_WINDOW);
    // With no pattern at all this skips everything at once.
    this.skipping = short.length <= MAX_SHORT_PATTERNS;
    this.filter = this.skipping
      ? SkipFilter.for(bytes.filter((pattern) => pattern.length >= MIN_WINDOW))
      : undefined;
    this.shortPatterns = this.skipping ? short.map((pattern) => Buffer.from(pattern)) : [];
    const markerOf = new Map<string, Buffer>();
    this.markers = patterns.map((pattern) => {
      let marker = markerOf.get(pattern.variable);
      if (marker === undefined) {
        marker = Buffer.from(`<redacted:${pattern.variable}>`, 'utf8');
        markerOf.set(pattern.variable, marker);
      }
      return marker;
    });
    // The automaton, the filter and the short patterns have their own copies.
    for (const pattern of bytes) pattern.fill(0);
    this.report = report;
    this.patternCount = patterns.length;
  }

  /** The longest pattern, in bytes: a redactor never holds back more than this minus one. */
  get longestPattern(): number {
    return this.automaton.longestPattern;
  }

  /** Zero everything derived from the values. The redaction must not be used afterwards. */
  wipe(): void {
    this.automaton.wipe();
    this.filter?.wipe();
    for (const pattern of this.shortPatterns) pattern.fill(0);
  }
}

/** Build the redaction for `secrets` (see patterns.ts for what is matched). */
export function compileRedaction(
  secrets: readonly RedactSecret[],
  options: RedactionOptions = {},
): Redaction {
  return new Redaction(secrets, options);
}
