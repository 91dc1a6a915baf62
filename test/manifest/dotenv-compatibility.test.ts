import { deepStrictEqual } from 'node:assert/strict';
import test from 'ava';
import fc from 'fast-check';
import { ProblemList } from '../../src/manifest/manifest-problems.js';
import { parseDotenvManifest } from '../../src/manifest/parse-dotenv-manifest.js';
import { parseLegacyDotenvManifest } from './legacy-dotenv-manifest.js';

const RUNS = 4000;
const LEGACY_MALFORMED = 'malformed line: expected VAR=credential-name or VAR=name@VERSION';

function run(parse: typeof parseDotenvManifest, line: string) {
  const problems = new ProblemList();
  const entries = parse('m.env', line, problems);
  return { entries, problems: problems.all.map(({ line: at, message }) => `${at}: ${message}`) };
}

const PIECES = [
  'A',
  'DB_URL',
  'export ',
  'export',
  ' ',
  '\t',
  '=',
  ':',
  ':=',
  ': ',
  '{{',
  '}}',
  '{',
  '}',
  'name',
  '@',
  '@3',
  'template:',
  '#',
  '"',
  "'",
  '`',
  '\\n',
  '\u2028',
  '\u2029',
  '\u0085',
  '\u00a0',
  '\uFEFF',
  'postgres://',
  '$HOME',
  '$(id)',
  '.',
  '-',
  'é',
];

/** Lines in today's grammar and near it: assignments with every separator, and loose pieces. */
const line = fc
  .oneof(
    fc
      .tuple(
        fc.constantFrom('', ' ', 'export ', '  export\t'),
        fc.constantFrom('A', 'DB_URL', 'a.b', 'x-y', 'export', '1ST'),
        fc.constantFrom('=', ' = ', ':', ': ', ':=', ' :=', ':= ', '=:', '==', ' : ='),
        fc.array(fc.oneof(fc.constantFrom(...PIECES), fc.string({ maxLength: 3 })), {
          maxLength: 12,
        }),
      )
      .map(([prefix, name, separator, value]) => `${prefix}${name}${separator}${value.join('')}`),
    fc
      .array(fc.oneof(fc.constantFrom(...PIECES), fc.string({ maxLength: 3, unit: 'binary' })), {
        maxLength: 20,
      })
      .map((parts) => parts.join('')),
  )
  .map((text) => text.replace(/[\r\n]/g, ''));

test('every dotenv line read before templates existed still reads the same; only lines it refused can be templates', (t) => {
  let templates = 0;
  let kept = 0;
  fc.assert(
    fc.property(line, (text) => {
      const legacy = run(parseLegacyDotenvManifest, text);
      const current = run(parseDotenvManifest, text);
      const refusedAsMalformed =
        legacy.problems.length === 1 && legacy.problems[0]!.endsWith(LEGACY_MALFORMED);
      if (!refusedAsMalformed) {
        // An entry, a blank or comment line, or a problem other than "malformed": all unchanged.
        deepStrictEqual(current, legacy);
        kept++;
        return;
      }
      const isTemplateLine = /^\s*(?:export\s+)?[\w.-]+\s*:=/.test(text);
      if (!isTemplateLine) {
        deepStrictEqual(current, {
          entries: [],
          problems: [
            '1: malformed line: expected VAR=credential-name, VAR=name@VERSION or VAR:=template',
          ],
        });
        return;
      }
      templates++;
      const templateEntry =
        current.entries.length === 1 && current.entries[0]!.template !== undefined;
      const templateProblem =
        current.problems.length === 1 &&
        /: (variable \S+ has no template|variable \S+: template: |malformed line)/.test(
          current.problems[0]!,
        );
      if (!templateEntry && !templateProblem)
        throw new Error(`unexpected outcome ${JSON.stringify(current)}`);
    }),
    { seed: 20_261_304, numRuns: RUNS },
  );
  // Both kinds of line were generated in numbers, so the property says something about each.
  t.true(kept > RUNS / 10, `${kept} lines read as before`);
  t.true(templates > RUNS / 50, `${templates} template lines`);
});
