import { deepStrictEqual } from 'node:assert/strict';
import test from 'ava';
import fc from 'fast-check';
import type { EncryptionContext } from '../../src/envelope/context.js';
import { padVersion } from '../../src/envelope/version.js';
import { ManifestError } from '../../src/errors.js';
import { parseManifests, type ManifestPolicy } from '../../src/manifest/parse-manifest.js';
import type { ManifestEntry } from '../../src/manifest/manifest-entry.js';
import { isDangerousVariable, isReservedVariable } from '../../src/manifest/variable-names.js';
import { credentialNameProblem } from '../../src/secrets/credential-name.js';

const POLICY: ManifestPolicy = { allowVars: new Set(), context: { team: 'ops' } };

/** Runs for each property: enough to cover odd inputs, few enough to stay well under a second or two. */
const RUNS = 3000;

/** The outcome of parsing: entries, or the problems of a ManifestError. Anything else throws. */
function outcome(name: string, text: string): ManifestEntry[] | ManifestError {
  try {
    return parseManifests([{ name, text }], POLICY);
  } catch (error: unknown) {
    if (error instanceof ManifestError) return error;
    throw error;
  }
}

/** Every problem names the file and a line that exists in it. */
function located(error: ManifestError, name: string, lines: number): boolean {
  return (
    error.problems.length > 0 &&
    error.problems.every(
      (problem) =>
        problem.file === name &&
        Number.isInteger(problem.line) &&
        problem.line >= 1 &&
        problem.line <= lines &&
        !problem.message.includes('\n'),
    )
  );
}

const dotenvLines = (text: string) => text.split(/\r\n|\r|\n/).length;
const jsonLines = (text: string) => text.split('\n').length;

/** Text made of the pieces manifests are made of, so that near-misses are common. */
function manifestLike(pieces: readonly string[]) {
  return fc
    .array(fc.oneof(fc.constantFrom(...pieces), fc.string({ maxLength: 4, unit: 'binary' })), {
      maxLength: 60,
    })
    .map((parts) => parts.join(''));
}

const DOTENV_PIECES = [
  'A=',
  'A:=',
  'URL:=',
  '{{',
  '}}',
  '{{{{',
  '{{name}}',
  'DB_PASSWORD=',
  'export ',
  'PATH=',
  'CREDEXEC_X=',
  'name',
  '@',
  '@3',
  '@12345678901234567890',
  '#',
  ' ',
  '\t',
  '\n',
  '\r\n',
  '\r',
  '"',
  "'",
  '`',
  '\\n',
  '=',
  ':',
  '\u0000',
  '\u0085',
  '\u2028',
  '\uFEFF',
  'é',
  '😀',
];

const JSON_PIECES = [
  '{',
  '}',
  '[',
  ']',
  ':',
  ',',
  '"',
  '"A"',
  '"B"',
  '"name"',
  '"version"',
  '"optional"',
  '"file"',
  '"context"',
  '"template"',
  '"{{x}}"',
  '"a{{b"',
  '"{{x@3}}"',
  '"__proto__"',
  '"x"',
  '"\\u0001"',
  '"\\ud800"',
  '\\',
  'true',
  'false',
  'null',
  '1',
  '-0.5e3',
  '12345678901234567890',
  ' ',
  '\n',
  '\r\n',
  '\t',
  '\uFEFF',
];

test('any text in a dotenv manifest parses or fails with located problems, never anything else', (t) => {
  fc.assert(
    fc.property(
      fc.oneof(manifestLike(DOTENV_PIECES), fc.string({ unit: 'binary', maxLength: 200 })),
      (text) => {
        const result = outcome('m.env', text);
        return Array.isArray(result)
          ? result.every((entry) => entry.source.file === 'm.env' && entry.source.line >= 1)
          : located(result, 'm.env', dotenvLines(text));
      },
    ),
    { seed: 20_261_101, numRuns: RUNS },
  );
  t.pass();
});

test('any text in a JSON manifest parses or fails with located problems, never anything else', (t) => {
  fc.assert(
    fc.property(
      fc.oneof(
        manifestLike(JSON_PIECES),
        fc.json({ maxDepth: 5 }),
        fc.json({ maxDepth: 3 }).map((json) => json.slice(0, Math.max(0, json.length - 1))),
        fc.string({ unit: 'binary', maxLength: 200 }),
        fc.integer({ min: 60, max: 200 }).map((depth) => `{"A": ${'['.repeat(depth)}`),
      ),
      (text) => {
        const result = outcome('m.json', text);
        return Array.isArray(result)
          ? result.every((entry) => entry.source.file === 'm.json' && entry.source.line >= 1)
          : located(result, 'm.json', jsonLines(text));
      },
    ),
    { seed: 20_261_102, numRuns: RUNS },
  );
  t.pass();
});

/** Variable names a manifest accepts without --allow-var. */
const variableName = fc
  .stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,12}$/)
  .filter((name) => !isDangerousVariable(name) && !isReservedVariable(name));

/** Credential names: anything without a control character (credstash allows the rest). */
const credentialName = fc
  .string({ unit: 'grapheme', minLength: 1, maxLength: 20 })
  .filter((name) => credentialNameProblem(name) === undefined);

const version = fc.oneof(
  fc.bigInt({ min: 0n, max: 10n ** 19n - 1n }).map(String),
  fc.stringMatching(/^[0-9]{1,3}$/),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }),
);

interface Spec {
  readonly variable: string;
  readonly credential: string;
  readonly version: string | undefined;
}

/** An entry's fields, contexts as their pairs (a parsed context has no prototype). */
function plain(entry: {
  variable: string;
  credential?: string | undefined;
  version?: string | undefined;
  optional: boolean;
  file: boolean;
  context: EncryptionContext;
}) {
  const { variable, credential, version: pinned, optional, file, context } = entry;
  return {
    variable,
    credential,
    version: pinned,
    optional,
    file,
    context: Object.entries(context),
  };
}

test('a dotenv manifest written from valid entries parses back to exactly those entries', (t) => {
  // Single quotes carry a name verbatim, except a quote itself; surrounding blanks are trimmed
  // and the last @ starts a version, so names with those are written in the JSON form instead.
  const dotenvName = credentialName.filter(
    (name) => !name.includes("'") && name.trim() === name && !name.includes('@'),
  );
  const dotenvVersion = version.filter(
    (text) => !text.includes("'") && !text.includes('@') && text.trim() === text,
  );
  const entries = fc.uniqueArray(
    fc.record({
      variable: variableName,
      credential: dotenvName,
      version: fc.option(dotenvVersion, { nil: undefined }),
    }),
    { selector: (entry) => entry.variable, maxLength: 8 },
  );
  fc.assert(
    fc.property(entries, fc.boolean(), (specs: Spec[], exported) => {
      const text = specs
        .map(({ variable, credential, version: pinned }) => {
          const reference = pinned === undefined ? credential : `${credential}@${pinned}`;
          return `${exported ? 'export ' : ''}${variable}='${reference}'`;
        })
        .join('\n');
      const parsed = parseManifests([{ name: 'r.env', text }], POLICY);
      deepStrictEqual(
        parsed.map((entry) => [plain(entry), entry.source.line]),
        specs.map((spec, index) => [
          plain({
            ...spec,
            version: spec.version === undefined ? undefined : padVersion(spec.version),
            optional: false,
            file: false,
            context: POLICY.context,
          }),
          index + 1,
        ]),
      );
    }),
    { seed: 20_261_103, numRuns: RUNS },
  );
  t.pass();
});

test('a JSON manifest written from valid entries parses back to exactly those entries', (t) => {
  const contextKey = fc.oneof(
    fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty'),
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }),
  );
  const context = fc.uniqueArray(fc.tuple(contextKey, fc.string({ maxLength: 8 })), {
    selector: ([key]) => key,
    maxLength: 4,
  });
  const entries = fc.uniqueArray(
    fc.record({
      variable: variableName,
      credential: credentialName,
      version: fc.option(version, { nil: undefined }),
      optional: fc.boolean(),
      file: fc.boolean(),
      context: fc.option(context, { nil: undefined }),
    }),
    { selector: (entry) => entry.variable, maxLength: 8 },
  );
  fc.assert(
    fc.property(entries, fc.boolean(), (specs, pretty) => {
      const manifest = Object.fromEntries(
        specs.map((spec) => [
          spec.variable,
          {
            name: spec.credential,
            ...(spec.version === undefined ? {} : { version: spec.version }),
            optional: spec.optional,
            file: spec.file,
            ...(spec.context === undefined ? {} : { context: Object.fromEntries(spec.context) }),
          },
        ]),
      );
      const text = pretty ? JSON.stringify(manifest, null, 2) : JSON.stringify(manifest);
      const parsed = parseManifests([{ name: 'r.json', text }], POLICY);
      deepStrictEqual(
        parsed.map(plain),
        specs.map((spec) =>
          plain({
            ...spec,
            version: spec.version === undefined ? undefined : padVersion(spec.version),
            context: spec.context === undefined ? POLICY.context : Object.fromEntries(spec.context),
          }),
        ),
      );
    }),
    { seed: 20_261_104, numRuns: RUNS },
  );
  t.pass();
});
