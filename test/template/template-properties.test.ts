import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import fc from 'fast-check';
import { padVersion } from '../../src/envelope/version.js';
import { parseTemplate } from '../../src/template/parse-template.js';
import type { CredentialReference } from '../../src/template/reference.js';
import { renderTemplate } from '../../src/template/render-template.js';
import { REPO_ROOT } from '../support/vectors.js';

/** Runs for each property: pure code, so a few thousand stay well under a second or two. */
const RUNS = 3000;

/** Text made of the pieces templates are made of, so that near-misses are common. */
const templateLike = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        '{',
        '}',
        '{{',
        '}}',
        '{{{{',
        '{{{',
        '@',
        '@3',
        '@12345678901234567890',
        ' ',
        '\t',
        '\n',
        'name',
        'app.db.password',
        '$HOME',
        '${PATH}',
        '$(id)',
        '`id`',
        '\u0000',
        '\ud800',
        '\udc00',
        '😀',
        'é',
      ),
      fc.string({ maxLength: 4, unit: 'binary' }),
    ),
    { maxLength: 40 },
  )
  .map((parts) => parts.join(''));

test('any text parses to a template with references, or to one problem line without its text', (t) => {
  fc.assert(
    fc.property(fc.stringMatching(/^[A-Za-z0-9]{12}$/), templateLike, (canary, rest) => {
      const text = `CANARY${canary}${rest}`;
      const result = parseTemplate(text);
      if (result.problem !== undefined) {
        return !result.problem.includes('\n') && !result.problem.includes(`CANARY${canary}`);
      }
      const { template } = result;
      const values = template.references.map(() => Buffer.from('v'));
      const composed = renderTemplate(template, values).toString('utf8');
      return template.references.length > 0 && composed.startsWith(`CANARY${canary}`);
    }),
    { seed: 20_261_301, numRuns: RUNS },
  );
  t.pass();
});

/** A credential name a template can reference (see docs/launcher.md for the limits). */
const referencedName = fc
  .string({ unit: 'grapheme', minLength: 1, maxLength: 12 })
  .filter(
    (name) => name.trim() === name && !name.includes('{{') && !name.includes('}}') && name !== '',
  );

const pinnedVersion = fc
  .oneof(
    fc.bigInt({ min: 0n, max: 10n ** 19n - 1n }).map(String),
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 6 }),
  )
  .filter(
    (version) =>
      version.trim() === version &&
      version !== '' &&
      !version.includes('@') &&
      !version.includes('{{') &&
      !version.includes('}}'),
  );

/** A reference as written: the last @ starts a version, so a name with @ is always pinned. */
const reference = fc
  .record({ credential: referencedName, version: fc.option(pinnedVersion, { nil: undefined }) })
  .filter(({ credential, version }) => version !== undefined || !credential.includes('@'));

type Segment = { text: string } | { ref: { credential: string; version: string | undefined } };

/** Literal text written so that it reads back as itself: every run of k braces doubled (2k), less one when k is odd. */
function writeLiteral(text: string): string {
  return text.replace(/\{+/g, (run) =>
    '{'.repeat(run.length % 2 === 0 ? 2 * run.length : 2 * run.length - 1),
  );
}

function writeTemplate(segments: readonly Segment[]): string {
  return segments
    .map((segment) =>
      'text' in segment
        ? writeLiteral(segment.text)
        : `{{ ${segment.ref.credential}${segment.ref.version === undefined ? '' : `@${segment.ref.version}`} }}`,
    )
    .join('');
}

/** Adjacent literal segments are one piece of text. */
function merged(segments: readonly Segment[]): Segment[] {
  const out: Segment[] = [];
  for (const segment of segments) {
    const last = out.at(-1);
    if ('text' in segment && last !== undefined && 'text' in last)
      out[out.length - 1] = { text: last.text + segment.text };
    else out.push(segment);
  }
  return out;
}

const valueOf = (ref: CredentialReference) =>
  Buffer.from(`<${ref.credential}|${ref.version ?? 'latest'}>`);

test('a template written from text and references renders to the text with each value in place', (t) => {
  const segments = fc
    .array(
      fc.oneof(
        fc.record({ text: fc.string({ unit: 'grapheme', maxLength: 8 }) }),
        fc.record({ text: fc.constantFrom('{', '{{', '{{{', '}', '}}', '{{{{{') }),
        fc.record({ ref: reference }),
      ),
      { maxLength: 12 },
    )
    .map(merged)
    .filter((list) => list.some((segment) => 'ref' in segment));
  fc.assert(
    fc.property(segments, (list) => {
      const result = parseTemplate(writeTemplate(list));
      if (result.problem !== undefined) throw new Error(result.problem);
      const { template } = result;
      const expectedRefs: CredentialReference[] = [];
      const keys = new Set<string>();
      let expected = Buffer.alloc(0);
      for (const segment of list) {
        if ('text' in segment) {
          expected = Buffer.concat([expected, Buffer.from(segment.text, 'utf8')]);
          continue;
        }
        const ref = {
          credential: segment.ref.credential,
          version: segment.ref.version === undefined ? undefined : padVersion(segment.ref.version),
        };
        const key = `${ref.credential}\u0000${ref.version ?? ''}`;
        if (!keys.has(key)) expectedRefs.push(ref);
        keys.add(key);
        expected = Buffer.concat([expected, valueOf(ref)]);
      }
      t.deepEqual(template.references, expectedRefs);
      t.deepEqual(renderTemplate(template, template.references.map(valueOf)), expected);
    }),
    { seed: 20_261_302, numRuns: RUNS },
  );
});

test('literal braces round-trip: any text without references, written escaped, reads back as itself', (t) => {
  fc.assert(
    fc.property(
      fc.string({ unit: fc.constantFrom('{', '}', ' ', 'a', '@'), maxLength: 30 }),
      (text) => {
        const result = parseTemplate(`${writeLiteral(text)}{{x}}`);
        if (result.problem !== undefined) throw new Error(result.problem);
        t.deepEqual(
          renderTemplate(result.template, [Buffer.from('X')]).toString('utf8'),
          `${text}X`,
        );
      },
    ),
    { seed: 20_261_303, numRuns: RUNS },
  );
});

test('parsing is linear: a megabyte of braces or of unclosed references takes well under a second', (t) => {
  const inputs = [
    '{'.repeat(1_000_000),
    '{{a'.repeat(300_000),
    `${'{{a'.repeat(300_000)}}}`,
    '{{a}}'.repeat(200_000),
    '}}'.repeat(500_000),
    `{{${'@'.repeat(1_000_000)}}}`,
    `{{${' '.repeat(1_000_000)}`,
  ];
  for (const input of inputs) {
    const started = process.hrtime.bigint();
    parseTemplate(input);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    t.true(ms < 1000, `${input.slice(0, 8)}… took ${ms} ms`);
  }
});

test('the template language has no way to read the environment, files or commands: its modules import nothing that could', (t) => {
  const dir = join(REPO_ROOT, 'src', 'template');
  const files = readdirSync(dir).filter((name) => name.endsWith('.ts'));
  t.deepEqual(files.sort(), [
    'parse-template.ts',
    'reference.ts',
    'render-template.ts',
    'template.ts',
  ]);
  const allowed = new Set([
    './reference.js',
    './template.js',
    '../envelope/version.js',
    '../errors.js',
  ]);
  for (const file of files) {
    const source = readFileSync(join(dir, file), 'utf8');
    const imports = [...source.matchAll(/from '([^']+)'/g)].map((match) => match[1]);
    t.deepEqual(
      imports.filter((name) => !allowed.has(name!)),
      [],
      file,
    );
    for (const capability of [
      'process',
      'require(',
      'import(',
      'globalThis',
      'eval(',
      'Function(',
      'child_process',
      'node:',
    ]) {
      t.false(source.includes(capability), `${file} mentions ${capability}`);
    }
  }
  // render is given the template and the values it may use, and nothing else.
  t.is(renderTemplate.length, 2);
});
