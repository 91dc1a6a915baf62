import test from 'ava';
import fc from 'fast-check';
import { UsageError } from '../../src/errors.js';
import { describeDuration, durationMs, parseDuration } from '../../src/util/duration.js';

test('durations are a whole number above zero and one unit', (t) => {
  t.is(durationMs('250ms'), 250);
  t.is(durationMs('90s'), 90_000);
  t.is(durationMs('15m'), 900_000);
  t.is(durationMs('24h'), 86_400_000);
  t.is(durationMs('7d'), 604_800_000);
  for (const text of [
    '',
    '0h',
    '24',
    'h',
    '1.5h',
    '1h30m',
    ' 24h',
    '24h ',
    '24H',
    '-1h',
    '+1h',
    '1e3s',
    '24 h',
    '99999999999999d',
  ])
    t.is(durationMs(text), undefined, JSON.stringify(text));
});

test('a bad duration flag is one usage line naming the flag and the accepted form', (t) => {
  const error = t.throws(() => parseDuration('1 day', '--fallback-max-age'), {
    instanceOf: UsageError,
  });
  t.is(
    error?.message,
    '--fallback-max-age must be a whole number above 0 and a unit: ms, s, m, h or d (e.g. 24h), not "1 day"',
  );
});

test('ages are described by their two largest units, rounded down', (t) => {
  t.is(describeDuration(0), '0 s');
  t.is(describeDuration(999), '0 s');
  t.is(describeDuration(-5_000), '0 s');
  t.is(describeDuration(45_000), '45 s');
  t.is(describeDuration(65_000), '1 min 5 s');
  t.is(describeDuration(2 * 3_600_000 + 13 * 60_000 + 59_999), '2 h 13 min');
  t.is(describeDuration(3_600_000 + 5_000), '1 h');
  t.is(describeDuration(86_400_000 + 4 * 3_600_000 + 1), '1 d 4 h');
  t.is(describeDuration(30 * 86_400_000 + 59_000), '30 d');
});

test('every written duration reads back to its number times its unit', (t) => {
  const units = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 1_000_000 }),
      fc.constantFrom(...(Object.keys(units) as (keyof typeof units)[])),
      (count, unit) => durationMs(`${count}${unit}`) === count * units[unit],
    ),
    { seed: 13_003, numRuns: 2_000 },
  );
  t.pass();
});
