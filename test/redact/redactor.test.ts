import { generateKeyPairSync } from 'node:crypto';
import test, { type ExecutionContext } from 'ava';
import fc from 'fast-check';
import { redactionPatterns, type RedactSecret } from '../../src/redact/patterns.js';
import {
  compileRedaction,
  MAX_SHORT_PATTERNS,
  type Redaction,
} from '../../src/redact/redaction.js';
import { Redactor, redactAll } from '../../src/redact/redactor.js';
import { leakedForms, oracle, redactInPieces, text } from '../support/redaction.js';

const TOKEN = 'tok_8f3a9c2e71b44d0e';
// Characters that percent-encoding and JSON escape, and a space.
const PASSWORD = 'p@ss "w0rd"/+1\\ x=';
const SECRETS: readonly RedactSecret[] = [
  { variable: 'TOKEN', value: Buffer.from(TOKEN) },
  { variable: 'PASSWORD', value: Buffer.from(PASSWORD) },
];
const REDACTION = compileRedaction(SECRETS);

/** Every way of writing `input` in two pieces gives `expected`, and nothing of a value survives. */
function assertEverySplit(
  t: ExecutionContext,
  redaction: Redaction,
  secrets: readonly RedactSecret[],
  input: Buffer,
  expected: Buffer,
): void {
  for (let cut = 0; cut <= input.length; cut += 1) {
    const output = redactInPieces(redaction, input, [cut]);
    if (!output.equals(expected)) {
      t.is(output.toString('latin1'), expected.toString('latin1'), `cut at ${cut}`);
      return;
    }
  }
  for (const secret of secrets) t.deepEqual(leakedForms(expected, secret.value), []);
  t.pass();
}

const line = (text: string) => Buffer.from(`before ${text} after\n`);
const redactedLine = (variable: string) => Buffer.from(`before <redacted:${variable}> after\n`);

const encodedForms = (value: string): Record<string, string> => {
  const bytes = Buffer.from(value);
  return {
    raw: value,
    'base64 padded': bytes.toString('base64'),
    'base64 unpadded': bytes.toString('base64').replace(/=+$/, ''),
    base64url: bytes.toString('base64url'),
    'base64url padded': bytes.toString('base64url').padEnd(Math.ceil(bytes.length / 3) * 4, '='),
    encodeURIComponent: encodeURIComponent(value),
    URLSearchParams: new URLSearchParams({ v: value }).toString().slice(2),
    'percent, lower-case hex': encodeURIComponent(value).replace(/%[0-9A-F]{2}/g, (escape) =>
      escape.toLowerCase(),
    ),
    'JSON.stringify': JSON.stringify(value).slice(1, -1),
  };
};

for (const [variable, value] of [
  ['TOKEN', TOKEN],
  ['PASSWORD', PASSWORD],
] as const) {
  for (const [form, text] of Object.entries(encodedForms(value))) {
    test(`${variable} as ${form} is replaced wherever the output is cut in two`, (t) => {
      assertEverySplit(t, REDACTION, SECRETS, line(text), redactedLine(variable));
    });
  }
}

test('a value inside a longer base64 blob is replaced at each of the three alignments', (t) => {
  for (const prefix of ['user:', 'usr:', 'us:']) {
    for (const encoding of ['base64', 'base64url'] as const) {
      const blob = Buffer.from(`${prefix}${PASSWORD}&more=1`).toString(encoding);
      const output = redactAll(REDACTION, Buffer.from(blob));
      const text = output.toString('latin1');
      const at = text.indexOf('<redacted:PASSWORD>');
      t.true(at >= 0, `${prefix} ${encoding}: ${text}`);
      // At most one character that also carries bits of the value is left on either side.
      const first = Math.floor((prefix.length * 8) / 6);
      const last = Math.ceil(((prefix.length + PASSWORD.length) * 8) / 6);
      t.true(at - first <= 1 && at >= first, `${prefix} ${encoding}: ${text}`);
      t.true(last - (blob.length - (text.length - at - '<redacted:PASSWORD>'.length)) <= 1);
      t.deepEqual(leakedForms(output, Buffer.from(PASSWORD)), []);
      assertEverySplit(t, REDACTION, SECRETS, Buffer.from(blob), output);
    }
  }
});

test('ANSI colour sequences around and beside a value pass through untouched', (t) => {
  const input = Buffer.from(`\u001b[1;31merror:\u001b[0m token=\u001b[33m${TOKEN}\u001b[0m\r\n`);
  assertEverySplit(
    t,
    REDACTION,
    SECRETS,
    input,
    Buffer.from('\u001b[1;31merror:\u001b[0m token=\u001b[33m<redacted:TOKEN>\u001b[0m\r\n'),
  );
});

test('of values that are prefixes of each other, the longest that matches wins', (t) => {
  const secrets = ['abcd', 'abcdef', 'abcdefgh', 'bcde'].map((value, index) => ({
    variable: 'ABCD'[index]!,
    value: Buffer.from(value),
  }));
  const redaction = compileRedaction(secrets);
  assertEverySplit(
    t,
    redaction,
    secrets,
    Buffer.from('abcdefg abcdefgh xabcdex bcdef abcd abcdabcdef xbcdefgh'),
    Buffer.from(
      '<redacted:B>g <redacted:C> x<redacted:A>ex <redacted:D>f <redacted:A> <redacted:A><redacted:B> x<redacted:D>fgh',
    ),
  );
});

test('a multi-line PEM key is replaced whole, line by line when re-indented, and as JSON or base64', (t) => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const secrets = [{ variable: 'TLS_KEY', value: Buffer.from(pem) }];
  const redaction = compileRedaction(secrets);
  const body = pem.split('\n').filter((row) => row !== '' && !row.startsWith('-----'));

  assertEverySplit(
    t,
    redaction,
    secrets,
    Buffer.from(`key:\n${pem}done\n`),
    Buffer.from('key:\n<redacted:TLS_KEY>done\n'),
  );

  const yaml = `tls:\r\n  key: |\r\n${pem
    .trimEnd()
    .split('\n')
    .map((row) => `    ${row}`)
    .join('\r\n')}\r\n`;
  const expected = `tls:\r\n  key: |\r\n    -----BEGIN PRIVATE KEY-----\r\n${body
    .map(() => '    <redacted:TLS_KEY>\r\n')
    .join('')}    -----END PRIVATE KEY-----\r\n`;
  t.is(redactAll(redaction, Buffer.from(yaml)).toString(), expected);

  t.is(
    redactAll(redaction, Buffer.from(JSON.stringify({ key: pem }))).toString(),
    '{"key":"<redacted:TLS_KEY>"}',
  );
  t.is(
    redactAll(redaction, Buffer.from(`data: ${Buffer.from(pem).toString('base64')}\n`)).toString(),
    'data: <redacted:TLS_KEY>\n',
  );
  for (const row of body) {
    t.false(redactAll(redaction, Buffer.from(yaml)).toString().includes(row));
  }
});

test('a value written 100 000 times is replaced every time, however the output is cut', (t) => {
  const separated = Buffer.from(`${TOKEN}\n`.repeat(100_000));
  const joined = Buffer.from(TOKEN.repeat(100_000));
  const marker = '<redacted:TOKEN>';
  for (const sizes of [[], Array(200).fill(65_536), Array(600).fill(4093)]) {
    t.is(redactInPieces(REDACTION, separated, sizes).toString(), `${marker}\n`.repeat(100_000));
    t.is(redactInPieces(REDACTION, joined, sizes).toString(), marker.repeat(100_000));
  }
});

test('a prompt that cannot start a value appears at once; one that can is held until flush', (t) => {
  const redactor = new Redactor(REDACTION);
  t.is(text(redactor.write(Buffer.from('Password: '))), 'Password: ');
  t.is(redactor.heldBack, 0);
  // "t" may be the start of TOKEN: held back, the rest is not.
  t.is(text(redactor.write(Buffer.from('Continue? [y/n] t'))), 'Continue? [y/n] ');
  t.is(redactor.heldBack, 1);
  t.is(text(redactor.flush()), 't');
  t.is(redactor.heldBack, 0);
  // After a flush, matching starts afresh: the rest of the value alone is not a match.
  t.is(text(redactor.write(Buffer.from(`${TOKEN.slice(1)}\n`))), `${TOKEN.slice(1)}\n`);
});

test('held-back bytes are exactly the longest suffix that can still start a value', (t) => {
  const redactor = new Redactor(REDACTION);
  t.is(text(redactor.write(Buffer.from(`x ${TOKEN.slice(0, 12)}`))), 'x ');
  t.is(redactor.heldBack, 12);
  t.is(text(redactor.write(Buffer.from('Z'))), `${TOKEN.slice(0, 12)}Z`);
  t.is(redactor.heldBack, 0);
  // A complete value that a longer pattern could extend is held too, then replaced.
  const redaction = compileRedaction([
    { variable: 'SHORT', value: Buffer.from('abcdef') },
    { variable: 'LONG', value: Buffer.from('abcdefghij') },
  ]);
  const other = new Redactor(redaction);
  t.is(text(other.write(Buffer.from('-abcdefgh'))), '-');
  t.is(other.heldBack, 8);
  t.is(text(other.write(Buffer.from('!'))), '<redacted:SHORT>gh!');
  t.is(text(other.write(Buffer.from('abcdef'))), '');
  t.is(text(other.flush()), '<redacted:SHORT>');
});

test('binary output passes byte for byte except for the replaced values', (t) => {
  const secrets = [
    { variable: 'BLOB', value: Buffer.from([0x00, 0xff, 0x1b, 0x5b, 0x80, 0x0a, 0x0d, 0xc3]) },
    { variable: 'TOKEN', value: Buffer.from(TOKEN) },
  ];
  const redaction = compileRedaction(secrets);
  t.notThrows(() =>
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.uint8Array({ maxLength: 200 }),
            fc.constantFrom(...secrets.map((secret) => new Uint8Array(secret.value))),
          ),
          { maxLength: 12 },
        ),
        fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 8 }),
        (parts, sizes) => {
          const input = Buffer.concat(parts);
          const output = redactInPieces(redaction, input, sizes);
          return (
            output.equals(oracle(secrets, input)) &&
            secrets.every((secret) => leakedForms(output, secret.value).length === 0)
          );
        },
      ),
      { seed: 1203, numRuns: 500 },
    ),
  );
});

/** Secrets from a small alphabet, so that values overlap and prefix each other often. */
const alphabet = [...'abAB=+/%\\" \n'].map((char) => char.charCodeAt(0));
const smallByte = fc.constantFrom(...alphabet);
const smallValue = (maxLength: number) =>
  fc.array(smallByte, { minLength: 1, maxLength }).map((bytes) => Buffer.from(bytes));

/** Which of the redactor's scanning strategies a redaction uses (see redactor.ts). */
function strategy(redaction: Redaction): string {
  if (!redaction.skipping) return 'automaton only';
  if (redaction.filter === undefined) return 'indexOf only';
  return redaction.shortPatterns.length > 0 ? 'filter and indexOf' : 'filter only';
}

/** Random inputs made of the values and noise, cut at random: streaming equals the reference. */
function matchesReference(
  secrets: readonly RedactSecret[],
  minLength: number,
): fc.IPropertyWithHooks<[number[], number[], number[]]> {
  const redaction = compileRedaction(secrets, { minLength });
  return fc.property(
    fc.array(fc.oneof(smallByte, fc.nat(255)), { maxLength: 400 }),
    fc.array(fc.nat(12), { maxLength: 12 }),
    fc.array(fc.oneof(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 61, max: 500 })), {
      maxLength: 16,
    }),
    (noise, inserts, sizes) => {
      const parts: Buffer[] = [];
      let at = 0;
      for (const insert of inserts) {
        parts.push(Buffer.from(noise.slice(at, at + insert * 4)));
        at += insert * 4;
        parts.push(Buffer.from(secrets[insert % secrets.length]!.value));
      }
      parts.push(Buffer.from(noise.slice(at)));
      const input = Buffer.concat(parts);
      let mostHeld = 0;
      const output = redactInPieces(redaction, input, sizes, (held) => {
        mostHeld = Math.max(mostHeld, held);
      });
      return (
        output.equals(oracle(secrets, input, { minLength })) &&
        mostHeld <= Math.max(0, redaction.longestPattern - 1)
      );
    },
  );
}

const named = (values: readonly Buffer[]) =>
  values.map((value, index) => ({ variable: `V${index}`, value }));

for (const [title, values, minLength, seed] of [
  ['short values', fc.array(smallValue(6), { minLength: 1, maxLength: 4 }), 1, 1204],
  ['mixed values', fc.array(smallValue(24), { minLength: 1, maxLength: 6 }), 4, 1205],
  ['long values', fc.array(smallValue(40), { minLength: 1, maxLength: 3 }), 12, 1206],
] as const) {
  test(`streaming equals the slow reference for any values and chunking: ${title}`, (t) => {
    t.notThrows(() =>
      fc.assert(
        fc.property(
          values,
          fc.nat(),
          (valueList, inner) =>
            fc.check(matchesReference(named(valueList), minLength), { seed: inner, numRuns: 3 })
              .failed === false,
        ),
        { seed, numRuns: 250 },
      ),
    );
  });
}

for (const [expected, values, minLength, seed] of [
  ['automaton only', Array.from({ length: 20 }, (_, index) => `a${index}b`), 1, 1208],
  ['indexOf only', ['ab+', 'b"a'], 1, 1209],
  ['filter only', ['ab a/b=+AB%/aa', 'aaaaaaaaaaaab', 'ba\\"AB ab+a/'], 4, 1210],
  ['filter and indexOf', ['ab+a', 'aab=B/aaab', 'ABab "ab a'], 4, 1211],
] as const) {
  test(`streaming equals the slow reference with the ${expected} scanning strategy`, (t) => {
    const secrets = named(values.map((value) => Buffer.from(value)));
    t.is(strategy(compileRedaction(secrets, { minLength })), expected);
    t.notThrows(() => fc.assert(matchesReference(secrets, minLength), { seed, numRuns: 1000 }));
  });
}

test('when nothing matches, the held-back bytes are the longest suffix that is a proper prefix of a pattern', (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(
        fc.array(smallValue(10), { minLength: 1, maxLength: 4 }),
        fc.array(smallByte, { maxLength: 40 }),
        (values, noise) => {
          const secrets = values.map((value, index) => ({ variable: `V${index}`, value }));
          const input = Buffer.from(noise);
          if (!oracle(secrets, input, { minLength: 1 }).equals(input)) return true;
          const redactor = new Redactor(compileRedaction(secrets, { minLength: 1 }));
          const output = Buffer.concat(redactor.write(input));
          const { patterns } = redactionPatterns(secrets, { minLength: 1 });
          let expected = 0;
          for (let size = 1; size <= input.length; size += 1) {
            const suffix = input.subarray(input.length - size);
            const live = patterns.some(
              ({ bytes }) => bytes.length > size && bytes.subarray(0, size).equals(suffix),
            );
            if (live) expected = size;
          }
          return redactor.heldBack === expected && output.length === input.length - expected;
        },
      ),
      { seed: 1207, numRuns: 2000 },
    ),
  );
});

test('more short patterns than indexOf is used for make the automaton read every byte', (t) => {
  const secrets = Array.from({ length: MAX_SHORT_PATTERNS + 1 }, (_, index) => ({
    variable: `PIN${index}`,
    value: Buffer.from(`p${String(index).padStart(3, '0')}`),
  }));
  const redaction = compileRedaction(secrets);
  t.false(redaction.skipping);
  t.is(
    redactAll(redaction, Buffer.from('a p000 b p016 c p017')).toString(),
    'a <redacted:PIN0> b <redacted:PIN16> c p017',
  );
});

test('after replace(), held-back bytes are scanned with the new set: old and new values are caught', (t) => {
  const old = [{ variable: 'API_KEY', value: Buffer.from('alpha-secret-1') }];
  const rotated = [...old, { variable: 'API_KEY', value: Buffer.from('bravo-secret-2') }];
  const redactor = new Redactor(compileRedaction(old));
  t.is(text(redactor.write(Buffer.from('old: alpha-sec'))), 'old: ');
  t.is(text(redactor.replace(compileRedaction(rotated))), '');
  t.is(redactor.heldBack, 'alpha-sec'.length);
  t.is(
    text(redactor.write(Buffer.from('ret-1 new: bravo-secret-2\n'))),
    '<redacted:API_KEY> new: <redacted:API_KEY>\n',
  );
});

test('replace() returns held-back bytes that can no longer start a value', (t) => {
  const redactor = new Redactor(
    compileRedaction([{ variable: 'A', value: Buffer.from('alpha-secret-1') }]),
  );
  t.is(text(redactor.write(Buffer.from('x alpha-sec'))), 'x ');
  const next = compileRedaction([{ variable: 'B', value: Buffer.from('secret-2222') }]);
  t.is(text(redactor.replace(next)), 'alpha-');
  t.is(redactor.heldBack, 3);
  t.is(text(redactor.write(Buffer.from('ret-2222'))), '<redacted:B>');
});

test('a redaction without values passes everything through at once', (t) => {
  const redaction = compileRedaction([{ variable: 'PIN', value: Buffer.from('12') }]);
  t.deepEqual(redaction.report.tooShort, ['PIN']);
  const redactor = new Redactor(redaction);
  const input = Buffer.from('PIN 12, and some text\n');
  t.deepEqual(redactor.write(input), [input]);
  t.is(redactor.heldBack, 0);
});
