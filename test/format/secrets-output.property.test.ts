import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deepStrictEqual, ok } from 'node:assert/strict';
import test, { type ExecutionContext } from 'ava';
import { parse as parseCsv } from 'csv-parse/sync';
import dotenv from 'dotenv';
import fc from 'fast-check';
import { parseDocument } from 'yaml';
import { UsageError } from '../../src/errors.js';
import { dotenvName, formatSecrets, type SecretEntries } from '../../src/format/secrets-output.js';

// For arbitrary names and values, every format's output is read back exactly by a real parser of
// that format, or refused with a UsageError. Seeds are fixed so a failure reproduces.

/** Characters that have a meaning in at least one of the formats or their readers. */
const TRICKY = [
  ...`'"\\$\`\n\r\t =#,:-?{}[]&*!|>%@<~. _/+`,
  '\u0000',
  '\u0007',
  '\u001b',
  '\u007f',
  '\u0080',
  '\u0085',
  '\u00a0',
  '\u2028',
  '\u2029',
  '\ufeff',
  '\ufffe',
  '\uffff',
  'é',
  'ß',
  'ı',
  '😀',
  'a',
  'B',
  '0',
  '1',
  'e',
  'n',
  'o',
  's',
  'y',
];

/** Scalars a YAML or dotenv reader might take for something else than the string. */
const KEYWORDS = [
  'yes',
  'No',
  'ON',
  'off',
  'y',
  'n',
  'null',
  'Null',
  '~',
  'true',
  'False',
  '0o17',
  '017',
  '0x1F',
  '1_000',
  '12:30',
  '1e3',
  '.inf',
  '-.Inf',
  '.nan',
  '<<',
  '=',
  '-',
  '---',
  '...',
  '%YAML',
  '2001-12-14',
  '#',
  '',
  ' ',
  'export',
  '__proto__',
  'constructor',
  '10',
  '2',
];

const text = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: fc.constantFrom(...TRICKY), maxLength: 12 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
  { weight: 1, arbitrary: fc.constantFrom(...KEYWORDS) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom(...KEYWORDS), fc.constantFrom(...TRICKY), fc.constantFrom(...KEYWORDS))
      .map((parts) => parts.join('')),
  },
);

const entriesArbitrary = (name: fc.Arbitrary<string>) =>
  fc
    .uniqueArray(fc.tuple(name, text), { selector: ([key]) => key, maxLength: 6 })
    .map((entries) => entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) as SecretEntries);

const anyEntries = entriesArbitrary(text);

const RUNS = 3000;

/** Run a property; its shrunk counterexample, if any, is the test's failure message. */
function holds<T>(
  t: ExecutionContext,
  property: fc.IProperty<T>,
  parameters: fc.Parameters<T>,
): void {
  t.notThrows(() => fc.assert(property, parameters));
}

function sorted(entries: Iterable<readonly [string, string]>): [string, string][] {
  return [...entries]
    .map(([key, value]): [string, string] => [key, value])
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

test('json output is read back exactly by JSON.parse, in the order given', (t) => {
  holds(
    t,
    fc.property(anyEntries, (entries) => {
      const out = formatSecrets(entries, 'json');
      const parsed = JSON.parse(out) as Record<string, string>;
      deepStrictEqual(sorted(Object.entries(parsed)), sorted(entries));
      // Sorted as credstash sorts: by name as a string, integer-like names included.
      const names = [...out.matchAll(/^ {4}("(?:[^"\\]|\\.)*"): /gm)].map(
        ([, quoted]) => JSON.parse(quoted!) as string,
      );
      deepStrictEqual(
        names,
        entries.map(([name]) => name),
      );
    }),
    { seed: 4242, numRuns: RUNS },
  );
});

test('csv output is read back exactly by csv-parse', (t) => {
  holds(
    t,
    fc.property(anyEntries, (entries) => {
      const rows = parseCsv(formatSecrets(entries, 'csv')) as string[][];
      deepStrictEqual(
        rows,
        entries.map(([name, value]) => [name, value]),
      );
    }),
    { seed: 4243, numRuns: RUNS },
  );
});

/** YAML's printable set, without the characters a YAML 1.1 reader takes for line breaks or a BOM. */
const YAML_UNSAFE =
  /[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\u{10000}-\u{10ffff}]/u;

test('yaml output is read back exactly as YAML 1.2 and as YAML 1.1, and holds only printable characters', (t) => {
  holds(
    t,
    fc.property(anyEntries, (entries) => {
      const out = formatSecrets(entries, 'yaml');
      ok(!YAML_UNSAFE.test(out), JSON.stringify(out));
      for (const version of ['1.2', '1.1'] as const) {
        const doc = parseDocument(out, { version, uniqueKeys: true });
        deepStrictEqual(doc.errors, [], `${version}: ${JSON.stringify(out)}`);
        const map = doc.toJS({ mapAsMap: true }) as Map<unknown, unknown>;
        deepStrictEqual([...map], sorted(entries), `${version}: ${JSON.stringify(out)}`);
      }
    }),
    { seed: 4244, numRuns: RUNS },
  );
});

test('yaml writes a name longer than an implicit key may be as an explicit key', (t) => {
  const name = 'n'.repeat(1500);
  const doc = parseDocument(formatSecrets([[name, 'v']], 'yaml'), { uniqueKeys: true });
  t.deepEqual(doc.errors, []);
  t.deepEqual([...(doc.toJS({ mapAsMap: true }) as Map<unknown, unknown>)], [[name, 'v']]);
});

/** The dotenv output, or undefined when it is refused with a UsageError (anything else fails). */
function dotenvOrRefused(entries: SecretEntries): string | undefined {
  try {
    return formatSecrets(entries, 'dotenv');
  } catch (error: unknown) {
    if (error instanceof UsageError && !error.message.includes('\n')) return undefined;
    throw error;
  }
}

/** Mostly names that make distinct variables, so that values are what the property exercises. */
const dotenvEntries = entriesArbitrary(
  fc.oneof(
    { weight: 1, arbitrary: text },
    { weight: 3, arbitrary: fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9._-]{0,8}$/) },
  ),
);

test('dotenv output is read back exactly by the dotenv package, or refused with one line', (t) => {
  let written = 0;
  holds(
    t,
    fc.property(dotenvEntries, (entries) => {
      const out = dotenvOrRefused(entries);
      if (out === undefined) return;
      written++;
      const parsed = dotenv.parse(out);
      deepStrictEqual(
        sorted(Object.entries(parsed)),
        sorted(entries.map(([name, value]) => [dotenvName(name), value])),
        JSON.stringify(out),
      );
    }),
    { seed: 4245, numRuns: RUNS },
  );
  // The property says something only if most inputs are written rather than refused.
  t.true(written > RUNS / 2, `only ${written} of ${RUNS} written`);
});

test('dotenv output sourced by sh sets exactly the values (a batch of cases in one sh)', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'credexec-dotenv-sh-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // Names that no shell treats specially, so the check is about quoting values.
  const cases = fc
    .sample(entriesArbitrary(fc.stringMatching(/^[a-z][a-z0-9._-]{0,5}$/)), {
      seed: 4246,
      numRuns: 400,
    })
    .map((entries) => ({ entries, out: dotenvOrRefused(entries) }))
    .filter(
      (item): item is { entries: SecretEntries; out: string } =>
        item.out !== undefined && item.entries.length > 0,
    );
  t.true(cases.length > 200, `only ${cases.length} cases written`);
  const script: string[] = [];
  cases.forEach(({ entries, out }, index) => {
    const file = join(dir, `${index}.env`);
    writeFileSync(file, out);
    const variables = entries.map(([name]) => `"$${dotenvName(name)}"`).join(' ');
    script.push(`( . '${file}' && printf '%s\\0' ${variables} ) && printf '\\1\\0'`);
  });
  const printed = execFileSync('sh', ['-c', script.join('\n')], { env: {}, maxBuffer: 1 << 26 })
    .toString('utf8')
    .split('\0');
  const expected = cases.flatMap(({ entries }) => [...entries.map(([, value]) => value), '\u0001']);
  t.deepEqual(printed, [...expected, '']);
});
