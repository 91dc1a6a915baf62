import type { Redaction } from './redaction.js';
import { HASH_MULTIPLIER, HASH_SHIFT } from './skip-filter.js';

const EMPTY = Buffer.alloc(0);
const NO_SHIFTS = new Uint8Array(0);

/**
 * Output of one call: consecutive pieces, each a view of the input or a fresh marker. Returning
 * pieces rather than one buffer spares copying the chunk when a held-back prefix came before it.
 */
export type Output = Buffer[];

/**
 * The streaming state of one output stream (stdout or stderr of one child). It replaces matches
 * of the redaction's patterns by their markers, scanning left to right and taking, at each
 * position, the longest pattern that starts there — the result `redactAll` gives for the whole
 * stream at once, however the stream is cut into chunks.
 *
 * It works on bytes: everything that is not part of a match passes through unchanged (binary
 * output, invalid UTF-8, ANSI escape sequences). It holds back only the bytes that could still
 * become part of a match — the longest suffix of the input so far that is a proper prefix of some
 * pattern, so never more than the longest pattern minus one byte — and returns everything before
 * them at once.
 *
 * `flush()` ends the current segment: a complete match is replaced, the held-back prefix is
 * returned as it is, and matching starts afresh. The stream adapter calls it when the stream has
 * been idle for a while (so that a prompt which happens to be a prefix of a pattern still
 * appears) and at the end. The price: a secret that the child writes in two parts separated by
 * more than that idle time is not recognised.
 */
export class Redactor {
  #redaction: Redaction;
  /**
   * Bytes seen but not yet returned, always a copy we own. No automaton state is carried from one
   * chunk to the next: these bytes are scanned again in front of the next chunk. They start at the
   * earliest position that can still start a match, so scanning them again from the automaton's
   * root gives the same result as having scanned everything, and there are few of them.
   */
  #pending: Buffer = EMPTY;

  constructor(redaction: Redaction) {
    this.#redaction = redaction;
  }

  get redaction(): Redaction {
    return this.#redaction;
  }

  /** How many bytes are held back right now. */
  get heldBack(): number {
    return this.#pending.length;
  }

  /**
   * Feed the next chunk; returns the output that is final now, as pieces (possibly none). Pieces
   * may be views of `chunk`.
   */
  write(chunk: Uint8Array): Output {
    const input = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    const output: Output = [];
    const held = this.#pending;
    if (held.length === 0) {
      this.#scan(input, false, false, output);
      return output;
    }
    // The held-back bytes are settled within the next `longest` bytes: scan them joined with
    // those alone, then the rest of the chunk where that left off, with no copy of the chunk.
    const longest = this.#redaction.longestPattern;
    const head = Math.min(input.length, longest);
    const joined = Buffer.allocUnsafe(held.length + head);
    joined.set(held, 0);
    joined.set(input.subarray(0, head), held.length);
    held.fill(0);
    this.#scan(joined, false, true, output);
    if (input.length > longest) {
      // What is held back now lies within `input` (it is shorter than `longest`).
      const resume = longest - this.#pending.length;
      this.#pending.fill(0);
      this.#pending = EMPTY;
      this.#scan(input.subarray(resume), false, false, output);
    }
    return output;
  }

  /** Return the held-back bytes (with any complete match replaced) and start afresh. */
  flush(): Output {
    const output: Output = [];
    const held = this.#pending;
    if (held.length > 0) this.#scan(held, true, true, output);
    return output;
  }

  /**
   * Switch to another secret set (after a rotation: old and new values together) without losing
   * the held-back bytes: they are scanned again with the new patterns, and whatever can no longer
   * start a match is returned.
   */
  replace(redaction: Redaction): Output {
    this.#redaction = redaction;
    const output: Output = [];
    const held = this.#pending;
    if (held.length > 0) this.#scan(held, false, true, output);
    return output;
  }

  /** Forget the held-back bytes (zeroed) without returning them. */
  discard(): void {
    this.#pending.fill(0);
    this.#pending = EMPTY;
  }

  /**
   * Redact `data` into `pieces`. `final`: no more input follows this segment. `owned`: `data` is
   * our own copy, so the matched bytes in it are zeroed once the output is assembled.
   *
   * Two phases alternate. Skipping rules out start positions cheaply (the skip filter for
   * patterns of MIN_WINDOW bytes or more, `indexOf` for the few shorter ones) and stops where a
   * match may start. From there the automaton, started at its root, reads byte by byte and
   * decides: it keeps the leftmost complete match, lets a longer one that starts at the same
   * byte replace it, and replaces it in the output once no live prefix reaches back to it; as
   * soon as nothing is pending and the earliest live prefix starts after where it began, the
   * bytes before are settled and skipping resumes there. Without skipping (too many short
   * patterns) the automaton reads everything.
   */
  #scan(data: Buffer, final: boolean, owned: boolean, pieces: Output): void {
    const redaction = this.#redaction;
    const automaton = redaction.automaton;
    const markers = redaction.markers;
    const dense = automaton.dense;
    const fastLimit = automaton.fastLimit;
    const denseLimit = automaton.denseLimit;
    const matchLength = automaton.matchLength;
    const matchPattern = automaton.matchPattern;
    const liveDepth = automaton.liveDepth;
    const skipping = redaction.skipping;
    const window = redaction.filter?.window ?? 0;
    const shift = redaction.filter?.shift ?? NO_SHIFTS;
    const shorts = redaction.shortPatterns;
    const length = data.length;
    // Where a short pattern occurs next, per short pattern (-1: not searched yet).
    const shortNext = shorts.length === 0 ? undefined : new Int32Array(shorts.length).fill(-1);
    let longestShort = 0;
    for (const pattern of shorts) longestShort = Math.max(longestShort, pattern.length);
    // Near the end, skipping cannot rule anything out; let the automaton finish instead.
    const tailReach = Math.max(window, longestShort);
    const matches: number[] = [];
    let emitted = 0;
    // Every start before `position` is ruled out or settled.
    let position = 0;
    let index: number;
    let state: number;
    // Where the automaton started from its root: it knows nothing of the bytes before.
    let origin: number;
    // A complete match that a longer one starting at the same byte could still replace; -1: none.
    let start = -1;
    let end = 0;
    let pattern = 0;
    outer: for (;;) {
      if (skipping) {
        let bound = length;
        if (shortNext !== undefined) {
          // indexOf finds whole occurrences only: a short pattern cut off by the end of the data
          // may start in its last longestShort - 1 bytes.
          bound = Math.max(position, length - longestShort + 1);
          for (let short = 0; short < shorts.length; short += 1) {
            let next = shortNext[short]!;
            if (next < position) {
              next = data.indexOf(shorts[short]!, position);
              if (next < 0) next = length;
              shortNext[short] = next;
            }
            if (next < bound) bound = next;
          }
        }
        if (window !== 0) {
          // A window whose last GRAM bytes occur in no pattern's first `window` bytes cannot
          // hold the start of a match: move on by the shift (skip-filter.ts).
          let last = position + window - 1;
          const stop = bound + window - 1;
          while (last < length && last < stop) {
            const gram = (data[last - 2]! << 16) | (data[last - 1]! << 8) | data[last]!;
            const step = shift[Math.imul(gram, HASH_MULTIPLIER) >>> HASH_SHIFT]!;
            if (step === 0) break;
            last += step;
          }
          position = Math.min(last - window + 1, bound, length);
        } else {
          position = bound;
        }
      }
      index = position;
      origin = position;
      state = 0;
      for (;;) {
        if (start < 0 && skipping) {
          const live = index - liveDepth[state]!;
          if (live > origin && live + tailReach <= length) {
            position = live;
            continue outer;
          }
        }
        if (start < 0 && !skipping && state < fastLimit) {
          // Reading every byte: the hot loop, in shallow states that end no match.
          while (index < length) {
            state = dense[(state << 8) | data[index++]!]!;
            if (state >= fastLimit) break;
          }
          if (state < fastLimit) break outer;
        } else {
          if (index >= length) {
            if (!final || start < 0) break outer;
            // The end of the segment: the pending match is as long as it will get.
            if (start > emitted) pieces.push(data.subarray(emitted, start));
            pieces.push(Buffer.from(markers[pattern]!));
            matches.push(start, end);
            emitted = end;
            position = end;
            start = -1;
            continue outer;
          }
          const byte = data[index++]!;
          state = state < denseLimit ? dense[(state << 8) | byte]! : automaton.step(state, byte);
        }
        const matched = matchLength[state]!;
        // The longest pattern ending here starts earliest: keep the leftmost, then the longest.
        if (matched !== 0 && (start < 0 || index - matched <= start)) {
          start = index - matched;
          end = index;
          pattern = matchPattern[state]!;
        }
        // Once no live prefix reaches back to the match, nothing can replace it any more.
        if (start >= 0 && index - liveDepth[state]! > start) {
          if (start > emitted) pieces.push(data.subarray(emitted, start));
          pieces.push(Buffer.from(markers[pattern]!));
          matches.push(start, end);
          emitted = end;
          index = end;
          origin = end;
          state = 0;
          start = -1;
        }
      }
    }
    const keep = final ? length : length - liveDepth[state]!;
    if (keep > emitted) pieces.push(data.subarray(emitted, keep));
    this.#pending = keep < length ? Buffer.from(data.subarray(keep)) : EMPTY;
    if (owned) {
      for (let match = 0; match < matches.length; match += 2) {
        data.fill(0, matches[match], matches[match + 1]);
      }
    }
  }
}

/**
 * The whole input redacted at once: what a Redactor returns for the same bytes however they are
 * chunked (with no flush in between), followed by its flush.
 */
export function redactAll(redaction: Redaction, input: Uint8Array): Buffer {
  const redactor = new Redactor(redaction);
  return Buffer.concat([...redactor.write(input), ...redactor.flush()]);
}
