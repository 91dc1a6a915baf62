/**
 * A Wu–Manber shift table: lets the redactor rule out most positions as the start of a match
 * while looking at one in every few bytes of ordinary output. Pure.
 *
 * Take `window` = the length every pattern has at least (capped). For a window of that many
 * bytes ending at position e, look at its last GRAM bytes: if they occur in no pattern's first
 * `window` bytes, no match can start anywhere in the window, and the next window worth looking at
 * ends `window - GRAM + 1` bytes later; if they occur only near the start of patterns, the shift
 * is what is left of the pattern's first window after them. A shift of 0 means "a match may start
 * at this window's first byte": the automaton decides there. Grams are hashed into a small table;
 * a collision only makes a shift smaller (slower, never wrong).
 *
 * Short patterns would make every shift short, so only patterns of MIN_WINDOW bytes or more go
 * into the filter; the redaction looks for the shorter ones with `indexOf` (redaction.ts). On
 * 100 secrets of 20–100 bytes the window is about 20 and the filter looks at one byte in 18.
 */
export const GRAM = 3;
export const MIN_WINDOW = 12;
const MAX_WINDOW = 64;
export const HASH_BITS = 16;
export const HASH_SHIFT = 32 - HASH_BITS;
export const HASH_MULTIPLIER = 0x9e3779b1;

export class SkipFilter {
  readonly window: number;
  /** `shift[hash(last GRAM bytes of the window)]`: how far the window may move; 0: look here. */
  readonly shift: Uint8Array;

  private constructor(window: number, shift: Uint8Array) {
    this.window = window;
    this.shift = shift;
  }

  /** The filter for `patterns`, or `undefined` when they are too short for it to pay. */
  static for(patterns: readonly Uint8Array[]): SkipFilter | undefined {
    if (patterns.length === 0) return undefined;
    const shortest = patterns.reduce((least, pattern) => Math.min(least, pattern.length), Infinity);
    if (shortest < MIN_WINDOW) return undefined;
    const window = Math.min(shortest, MAX_WINDOW);
    const shift = new Uint8Array(1 << HASH_BITS).fill(window - GRAM + 1);
    for (const pattern of patterns) {
      for (let last = GRAM - 1; last < window; last += 1) {
        const slot = gramHash(pattern, last);
        shift[slot] = Math.min(shift[slot]!, window - 1 - last);
      }
    }
    return new SkipFilter(window, shift);
  }

  wipe(): void {
    this.shift.fill(0);
  }
}

/** Hash of the GRAM bytes ending at `last` (kept in step with the inlined copy in redactor.ts). */
export function gramHash(bytes: Uint8Array, last: number): number {
  const gram = (bytes[last - 2]! << 16) | (bytes[last - 1]! << 8) | bytes[last]!;
  return Math.imul(gram, HASH_MULTIPLIER) >>> HASH_SHIFT;
}
