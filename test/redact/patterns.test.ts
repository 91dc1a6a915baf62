import test from 'ava';
import {
  MAX_ENCODED_VALUE,
  redactionPatterns,
  redactionReport,
} from '../../src/redact/patterns.js';

const secret = (variable: string, value: string, redact?: boolean) => ({
  variable,
  value: Buffer.from(value),
  ...(redact === undefined ? {} : { redact }),
});

test('values shorter than the minimum are not redacted and are reported by name', (t) => {
  const report = redactionReport([
    secret('PIN', '123'),
    secret('TOKEN', 'abcd'),
    secret('NEWLINE', 'abc\n'),
    secret('EMPTY', ''),
  ]);
  t.deepEqual(report, {
    minLength: 4,
    redacted: [{ variable: 'TOKEN', patterns: 6 }],
    tooShort: ['PIN', 'NEWLINE', 'EMPTY'],
    optedOut: [],
    notEncoded: [],
  });
});

test('the minimum length is an option, and must be a whole number of at least 1', (t) => {
  t.deepEqual(redactionReport([secret('PIN', '123')], { minLength: 3 }).tooShort, []);
  t.deepEqual(redactionReport([secret('PIN', '123')], { minLength: 8 }).tooShort, ['PIN']);
  t.throws(() => redactionReport([], { minLength: 0 }), { instanceOf: RangeError });
  t.throws(() => redactionReport([], { minLength: 2.5 }), { instanceOf: RangeError });
});

test('an entry with redact: false is left out and reported as opted out', (t) => {
  const { patterns, report } = redactionPatterns([
    secret('PUBLIC_URL', 'https://example.test/', false),
    secret('TOKEN', 'tok-123456'),
  ]);
  t.deepEqual(report.optedOut, ['PUBLIC_URL']);
  t.deepEqual([...new Set(patterns.map((pattern) => pattern.variable))], ['TOKEN']);
});

test('a plain token yields itself, its base64 forms and its embedded base64 forms', (t) => {
  const { patterns } = redactionPatterns([secret('TOKEN', 'abcdefgh')]);
  t.deepEqual(
    patterns.map((pattern) => `${pattern.kind} ${pattern.bytes.toString('latin1')}`),
    [
      'raw abcdefgh',
      'base64 YWJjZGVmZ2g=',
      'base64 YWJjZGVmZ2g',
      'base64-embedded YWJjZGVmZ2',
      'base64-embedded FiY2RlZmdo',
      'base64-embedded hYmNkZWZna',
    ],
  );
});

test('a value with a trailing newline is also matched without it, in every form', (t) => {
  const { patterns } = redactionPatterns([secret('TOKEN', 'abcdefgh\n')]);
  const texts = patterns.map((pattern) => pattern.bytes.toString('latin1'));
  for (const form of ['abcdefgh\n', 'abcdefgh', 'abcdefgh\\n', 'abcdefgh%0A', 'YWJjZGVmZ2g=']) {
    t.true(texts.includes(form), form);
  }
});

test('derived patterns shorter than the minimum are dropped', (t) => {
  // Lines "ab" and "cd" are too short; the whole value is not.
  const { patterns } = redactionPatterns([secret('KEY', 'ab\ncd')]);
  t.false(patterns.some((pattern) => pattern.kind === 'line'));
  t.true(patterns.some((pattern) => pattern.bytes.toString() === 'ab\ncd'));
});

test('when two secrets yield the same bytes, raw values win over encodings, then manifest order', (t) => {
  const { patterns } = redactionPatterns([
    secret('FIRST', 'abcdefgh'),
    // The base64 of FIRST's value is SECOND's raw value.
    secret('SECOND', 'YWJjZGVmZ2g='),
    secret('SAME', 'abcdefgh'),
  ]);
  const owner = (text: string) =>
    patterns.find((pattern) => pattern.bytes.toString('latin1') === text)?.variable;
  t.is(owner('abcdefgh'), 'FIRST');
  t.is(owner('YWJjZGVmZ2g='), 'SECOND');
  t.is(new Set(patterns.map((pattern) => pattern.bytes.toString('latin1'))).size, patterns.length);
});

test('the report names entries and counts patterns, and holds no value', (t) => {
  const value = 'sup3r-s3cret-value';
  const report = redactionReport([secret('TOKEN', value), secret('PIN', '12')]);
  t.false(JSON.stringify(report).includes(value));
  t.false(JSON.stringify(report).includes('12"'));
  t.is(report.redacted.length, 1);
  t.true(report.redacted[0]!.patterns > 3);
});

test('a value longer than the encoding limit is matched as it is and line by line only', (t) => {
  const line = 'A'.repeat(63);
  const bundle = `${line}\n`.repeat(Math.ceil(MAX_ENCODED_VALUE / 64) + 1);
  const { patterns, report } = redactionPatterns([
    secret('BUNDLE', bundle),
    secret('TOKEN', 'tok-123456/7'),
  ]);
  t.deepEqual(report.notEncoded, ['BUNDLE']);
  t.deepEqual(
    [...new Set(patterns.filter((p) => p.variable === 'BUNDLE').map((p) => p.kind))],
    ['raw', 'line'],
  );
  t.true(patterns.some((p) => p.variable === 'TOKEN' && p.kind === 'percent'));
});
