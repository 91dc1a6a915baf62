import { deepStrictEqual, ok, strictEqual, throws } from 'node:assert/strict';
import test from 'ava';
import fc from 'fast-check';
import { canonicalContext, parseContext } from '../../src/envelope/context.js';
import { nextVersion, padVersion, VERSION_WIDTH } from '../../src/envelope/version.js';
import { UsageError, VersionLimitError } from '../../src/errors.js';

const RUNS = 5000;
const LARGEST = 10n ** BigInt(VERSION_WIDTH) - 1n;

/** What parseContext should make of `words`: the pairs in order, or undefined for a usage error. */
function expectedPairs(words: readonly string[]): [string, string][] | undefined {
  const pairs: [string, string][] = [];
  for (const word of words) {
    const eq = word.indexOf('=');
    if (eq <= 0 || eq === word.length - 1) return undefined;
    const key = word.slice(0, eq);
    if (pairs.some(([seen]) => seen === key)) return undefined;
    pairs.push([key, word.slice(eq + 1)]);
  }
  return pairs;
}

test('context words parse to exactly their pairs, keys verbatim, or fail as usage errors', (t) => {
  const key = fc.oneof(
    fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'a'),
    fc.string({ unit: 'grapheme', maxLength: 6 }),
  );
  const word = fc.oneof(
    fc.tuple(key, fc.string({ unit: 'grapheme', maxLength: 6 })).map(([k, v]) => `${k}=${v}`),
    fc.string({ unit: 'binary', maxLength: 8 }),
  );
  fc.assert(
    fc.property(fc.array(word, { maxLength: 6 }), (words) => {
      const expected = expectedPairs(words);
      if (expected === undefined) {
        throws(() => parseContext(words), UsageError);
        return;
      }
      const context = parseContext(words);
      deepStrictEqual(Object.entries(context), expected);
      ok(expected.every(([k]) => Object.hasOwn(context, k)));
      ok(Object.isFrozen(context));
      strictEqual(
        canonicalContext(context),
        JSON.stringify([...expected].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
      );
    }),
    { seed: 20_261_105, numRuns: RUNS },
  );
  t.pass();
});

const numeric = fc.oneof(
  fc.bigInt({ min: 0n, max: LARGEST }).map(String),
  fc
    .tuple(fc.nat(25), fc.bigInt({ min: 0n, max: LARGEST }))
    .map(([zeros, n]) => '0'.repeat(zeros) + String(n)),
  fc.stringMatching(/^[0-9]{1,25}$/),
);
const anyVersion = fc.oneof(numeric, fc.string({ unit: 'binary', maxLength: 25 }));

test('any version string pads to 19 digits keeping its number, stays verbatim, or is a usage error', (t) => {
  fc.assert(
    fc.property(anyVersion, (version) => {
      if (version === '') {
        throws(() => padVersion(version), UsageError);
        return;
      }
      if (!/^[0-9]+$/.test(version)) {
        strictEqual(padVersion(version), version);
        return;
      }
      if (BigInt(version) > LARGEST) {
        throws(() => padVersion(version), UsageError);
        return;
      }
      const padded = padVersion(version);
      ok(/^[0-9]{19}$/.test(padded), padded);
      strictEqual(BigInt(padded), BigInt(version));
      strictEqual(padVersion(padded), padded);
    }),
    { seed: 20_261_106, numRuns: RUNS },
  );
  t.pass();
});

test('padded numeric versions sort as strings in numeric order', (t) => {
  const small = fc.bigInt({ min: 0n, max: LARGEST }).map(String);
  fc.assert(
    fc.property(small, small, (a, b) => {
      const [pa, pb] = [padVersion(a), padVersion(b)];
      strictEqual(pa < pb, BigInt(a) < BigInt(b));
      strictEqual(pa === pb, BigInt(a) === BigInt(b));
    }),
    { seed: 20_261_107, numRuns: RUNS },
  );
  t.pass();
});

test('the next version is one more and sorts after, or the latest is not a number, or it is the largest', (t) => {
  fc.assert(
    fc.property(fc.option(anyVersion, { nil: undefined }), (latest) => {
      if (latest === undefined) {
        strictEqual(nextVersion(latest, 'c'), '0000000000000000001');
        return;
      }
      if (!/^[0-9]+$/.test(latest)) {
        throws(() => nextVersion(latest, 'c'), UsageError);
        return;
      }
      if (BigInt(latest) >= LARGEST) {
        throws(() => nextVersion(latest, 'c'), VersionLimitError);
        return;
      }
      const next = nextVersion(latest, 'c');
      strictEqual(BigInt(next), BigInt(latest) + 1n);
      ok(next > padVersion(latest));
    }),
    { seed: 20_261_108, numRuns: RUNS },
  );
  t.pass();
});
