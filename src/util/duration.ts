import { UsageError } from '../errors.js';

/**
 * Durations as flags and manifest settings write them: a whole number and one unit, `ms`, `s`,
 * `m`, `h` or `d` (`250ms`, `90s`, `15m`, `24h`, `7d`), above zero. Nothing else: no fractions,
 * no sums (`1h30m`), no unit-less numbers, so a typo never becomes a different duration.
 */
const UNITS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** The duration in milliseconds, or undefined when `text` is not one (or is zero). */
export function durationMs(text: string): number | undefined {
  const match = /^(\d{1,15})(ms|s|m|h|d)$/.exec(text);
  if (match === null) return undefined;
  const value = Number(match[1]) * UNITS[match[2]!]!;
  return Number.isSafeInteger(value) && value > 0 ? value : undefined;
}

export const DURATION_HINT = 'a whole number above 0 and a unit: ms, s, m, h or d (e.g. 24h)';

/** A duration flag (`--fallback-max-age 24h`); anything else is a one-line UsageError. */
export function parseDuration(text: string, flag: string): number {
  const ms = durationMs(text);
  if (ms === undefined) throw new UsageError(`${flag} must be ${DURATION_HINT}, not "${text}"`);
  return ms;
}

/** `2 h 13 min`, `45 s`, `3 d 4 h`, `0 s`: the two largest units, rounded down, for messages. */
export function describeDuration(ms: number): string {
  let rest = Math.max(0, Math.floor(ms / 1000));
  const parts: [number, string][] = [];
  for (const [size, unit] of [
    [86_400, 'd'],
    [3_600, 'h'],
    [60, 'min'],
    [1, 's'],
  ] as const) {
    parts.push([Math.floor(rest / size), unit]);
    rest %= size;
  }
  const first = parts.findIndex(([count]) => count > 0);
  if (first === -1) return '0 s';
  return parts
    .slice(first, first + 2)
    .filter(([count]) => count > 0)
    .map(([count, unit]) => `${count} ${unit}`)
    .join(' ');
}
