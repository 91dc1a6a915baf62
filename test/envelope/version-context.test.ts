import test from 'ava';
import { canonicalContext, parseContext, sameContext } from '../../src/envelope/context.js';
import { parseDigestName } from '../../src/envelope/digests.js';
import { nextVersion, padVersion } from '../../src/envelope/version.js';
import { UsageError, VersionLimitError } from '../../src/errors.js';

test('numeric versions are padded to 19 digits and other versions kept verbatim', (t) => {
  t.is(padVersion('1'), '0000000000000000001');
  t.is(padVersion('0000000000000000007'), '0000000000000000007');
  t.is(padVersion('007'), '0000000000000000007');
  t.is(padVersion('release-a'), 'release-a');
});

test('a version of more than 19 digits or an empty version is a usage error', (t) => {
  t.throws(() => padVersion('12345678901234567890'), { instanceOf: UsageError });
  t.throws(() => padVersion(''), { instanceOf: UsageError });
});

test('the next version after none is 1, and after 9 is 10, even past 2^53', (t) => {
  t.is(nextVersion(undefined, 'c'), '0000000000000000001');
  t.is(nextVersion('0000000000000000009', 'c'), '0000000000000000010');
  t.is(nextVersion('9007199254740993', 'c'), '0009007199254740994');
  t.is(nextVersion('9999999999999999998', 'c'), '9999999999999999999');
});

test('autoversion after a non-numeric version is refused', (t) => {
  t.throws(() => nextVersion('beta', 'c'), {
    instanceOf: UsageError,
    message:
      'cannot autoincrement credential "c": the latest version "beta" is not a number (use -v to choose one)',
  });
});

test('autoversion past the largest 19-digit version is a runtime failure, not a usage error', (t) => {
  const error = t.throws(() => nextVersion('9999999999999999999', 'full'), {
    instanceOf: VersionLimitError,
    message:
      'cannot add a version to credential "full": its latest version 9999999999999999999 is the largest credstash can store (19 digits)',
  });
  t.false(error instanceof UsageError);
  t.is(error?.credential, 'full');
});

test('context words become a map and the value may contain =', (t) => {
  t.deepEqual({ ...parseContext(['env=prod', 'url=a=b']) }, { env: 'prod', url: 'a=b' });
  t.deepEqual({ ...parseContext([]) }, {});
});

test('malformed or repeated context words are usage errors', (t) => {
  for (const words of [['env'], ['=prod'], ['env='], ['env=a', 'env=b']]) {
    t.throws(() => parseContext(words), { instanceOf: UsageError }, words.join(' '));
  }
});

test('contexts compare equal regardless of key order', (t) => {
  t.true(sameContext({ a: '1', b: '2' }, { b: '2', a: '1' }));
  t.false(sameContext({ a: '1' }, { a: '1', b: '2' }));
  t.is(canonicalContext({ b: '2', a: '1' }), canonicalContext({ a: '1', b: '2' }));
});

test('digest names are accepted in any case and unknown ones are usage errors', (t) => {
  t.is(parseDigestName('sha'), 'SHA');
  t.is(parseDigestName('Sha512'), 'SHA512');
  t.throws(() => parseDigestName('SHA3'), { instanceOf: UsageError, message: /unknown digest/ });
});

/** Keys that name Object.prototype members: a plain object would drop or shadow them. */
const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty'];

test('context keys that name Object.prototype members are kept as ordinary keys', (t) => {
  for (const key of PROTOTYPE_KEYS) {
    const context = parseContext([`${key}=x`, 'env=prod']);
    t.deepEqual(Object.keys(context), [key, 'env'], key);
    t.true(Object.hasOwn(context, key), key);
    t.is(context[key], 'x', key);
    t.is(
      canonicalContext(context),
      JSON.stringify(
        [
          [key, 'x'],
          ['env', 'prod'],
        ].sort(),
      ),
      key,
    );
    t.false(sameContext(context, parseContext(['env=prod'])), key);
  }
  t.throws(() => parseContext(['__proto__=a', '__proto__=b']), {
    instanceOf: UsageError,
    message: 'encryption context key "__proto__" is given twice',
  });
});

test('a context with __proto__ survives a spread and JSON, as the KMS transports send it', (t) => {
  const context = parseContext(['__proto__=x']);
  const spread = { ...context };
  t.true(Object.hasOwn(spread, '__proto__'));
  t.is(JSON.stringify(spread), '{"__proto__":"x"}');
  t.is(JSON.stringify(context), '{"__proto__":"x"}');
  t.is(Object.getPrototypeOf(spread), Object.prototype, 'the spread did not set a prototype');
});
