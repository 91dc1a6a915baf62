import test from 'ava';
import fc from 'fast-check';
import { editDistance, suggest } from '../../src/cli/suggest.js';

test('edit distance counts insertions, deletions, substitutions and swapped neighbours', (t) => {
  for (const [a, b, distance] of [
    ['get', 'get', 0],
    ['gett', 'get', 1],
    ['gt', 'get', 1],
    ['gte', 'get', 1],
    ['lsit', 'list', 1],
    ['verison', 'version', 1],
    ['fromat', 'format', 1],
    ['chekc', 'check', 1],
    ['ptuall', 'putall', 1],
    ['abc', 'ca', 3],
    ['', 'keys', 4],
    ['setup', '', 5],
  ] as const) {
    t.is(editDistance(a, b), distance, `${a} → ${b}`);
  }
});

test('edit distance is symmetric, zero only for equal words, and bounded by the lengths', (t) => {
  const word = fc.string({ unit: fc.constantFrom('a', 'b', 'c', 'd'), maxLength: 8 });
  fc.assert(
    fc.property(word, word, (a, b) => {
      const distance = editDistance(a, b);
      t.is(distance, editDistance(b, a));
      t.is(distance === 0, a === b);
      t.true(distance >= Math.abs(a.length - b.length));
      t.true(distance <= Math.max(a.length, b.length));
    }),
    { seed: 20261130, numRuns: 3000 },
  );
});

test('suggest picks the nearest candidate within two edits, one for words of up to four letters', (t) => {
  const commands = ['setup', 'put', 'putall', 'get', 'getall', 'list', 'keys', 'delete', 'help'];
  t.is(suggest('gett', commands), 'get');
  t.is(suggest('getal', commands), 'getall');
  t.is(suggest('lsit', commands), 'list');
  t.is(suggest('stup', commands), 'setup');
  t.is(suggest('delte', commands), 'delete');
  t.is(suggest('Get', commands), 'get');
  // Too far for a short word: `pin` is not a typo of `put`, nor `ls` of `list`.
  t.is(suggest('pin', commands), undefined);
  t.is(suggest('ls', commands), undefined);
  t.is(suggest('key', commands), 'keys');
  t.is(suggest('node', commands), undefined);
  t.is(suggest('s3cr3t-Value', commands), undefined);
});
