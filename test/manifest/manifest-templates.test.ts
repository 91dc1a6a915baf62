import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { EMPTY_CONTEXT } from '../../src/envelope/context.js';
import { ManifestError } from '../../src/errors.js';
import type { ManifestEntry } from '../../src/manifest/manifest-entry.js';
import { entryReferences } from '../../src/manifest/manifest-entry.js';
import { parseManifests, type ManifestPolicy } from '../../src/manifest/parse-manifest.js';
import { renderTemplate } from '../../src/template/render-template.js';
import { REPO_ROOT } from '../support/vectors.js';

const POLICY: ManifestPolicy = { allowVars: new Set(), context: { team: 'ops' } };

function parse(name: string, text: string, policy: ManifestPolicy = POLICY) {
  return parseManifests([{ name, text }], policy);
}

function problems(name: string, text: string, policy: ManifestPolicy = POLICY): string[] {
  try {
    parseManifests([{ name, text }], policy);
  } catch (error: unknown) {
    if (error instanceof ManifestError) return error.message.split('\n');
    throw error;
  }
  return [];
}

/** What an entry says, with a template shown as it renders with `<name@version>` values. */
function summary(entry: ManifestEntry) {
  const { variable, optional, file, source } = entry;
  const context = { ...entry.context };
  if (entry.template === undefined) {
    return {
      variable,
      credential: entry.credential,
      version: entry.version,
      context,
      line: source.line,
    };
  }
  const values = entry.template.references.map(({ credential, version }) =>
    Buffer.from(`<${credential}${version === undefined ? '' : `@${version}`}>`),
  );
  const rendered = renderTemplate(entry.template, values).toString('utf8');
  return { variable, rendered, optional, file, context, line: source.line };
}

test('a dotenv line VAR:=TEMPLATE is a template, read with dotenv quoting and comments', (t) => {
  const entries = parse(
    'app.env',
    [
      'DB_PASSWORD=app.db.password',
      'DATABASE_URL:=postgres://app:{{app.db.password}}@db:5432/app',
      'export REDIS_URL := "redis://:{{ app.redis.password@3 }}@cache:6379/0#primary"  # quoted: # is text',
      "AUTH:='Basic {{app.basic}}'",
      'PLAIN_LOOKALIKE=postgres://{{app.db.password}}',
      'PREFIXED=template:{{x}}',
    ].join('\n'),
  );
  t.deepEqual(entries.map(summary), [
    {
      variable: 'DB_PASSWORD',
      credential: 'app.db.password',
      version: undefined,
      context: { team: 'ops' },
      line: 1,
    },
    {
      variable: 'DATABASE_URL',
      rendered: 'postgres://app:<app.db.password>@db:5432/app',
      optional: false,
      file: false,
      context: { team: 'ops' },
      line: 2,
    },
    {
      variable: 'REDIS_URL',
      rendered: 'redis://:<app.redis.password@0000000000000000003>@cache:6379/0#primary',
      optional: false,
      file: false,
      context: { team: 'ops' },
      line: 3,
    },
    {
      variable: 'AUTH',
      rendered: 'Basic <app.basic>',
      optional: false,
      file: false,
      context: { team: 'ops' },
      line: 4,
    },
    // `=` keeps its meaning: these name credentials, braces and all.
    {
      variable: 'PLAIN_LOOKALIKE',
      credential: 'postgres://{{app.db.password}}',
      version: undefined,
      context: { team: 'ops' },
      line: 5,
    },
    {
      variable: 'PREFIXED',
      credential: 'template:{{x}}',
      version: undefined,
      context: { team: 'ops' },
      line: 6,
    },
  ]);
});

test('a JSON entry with "template" composes a value, with optional, file and context', (t) => {
  const text = JSON.stringify(
    {
      DATABASE_URL: { template: 'postgres://app:{{app.db.password}}@db:5432/app' },
      PGPASS: {
        template: 'db:5432:app:app:{{app.db.password@2}}\n',
        file: true,
        optional: true,
        context: { env: 'prod' },
      },
      LOOKALIKE: 'postgres://{{app.db.password}}',
    },
    null,
    2,
  );
  t.deepEqual(parse('app.json', text).map(summary), [
    {
      variable: 'DATABASE_URL',
      rendered: 'postgres://app:<app.db.password>@db:5432/app',
      optional: false,
      file: false,
      context: { team: 'ops' },
      line: 2,
    },
    {
      variable: 'PGPASS',
      rendered: 'db:5432:app:app:<app.db.password@0000000000000000002>\n',
      optional: true,
      file: true,
      context: { env: 'prod' },
      line: 5,
    },
    {
      variable: 'LOOKALIKE',
      credential: 'postgres://{{app.db.password}}',
      version: undefined,
      context: { team: 'ops' },
      line: 13,
    },
  ]);
});

test('a template entry reads each distinct reference once', (t) => {
  const [entry] = parse('a.env', 'URL:={{a}}:{{b@1}}/{{a}}?{{ b@1 }}');
  t.deepEqual(entryReferences(entry!), [
    { credential: 'a', version: undefined },
    { credential: 'b', version: '0000000000000000001' },
  ]);
});

test('every template mistake in a dotenv manifest is reported with its file and line', (t) => {
  t.deepEqual(
    problems(
      'bad.env',
      [
        'EMPTY:=',
        'UNCLOSED:=postgres://app:{{app.db.password@db/app',
        'NONE:=postgres://app@db/app',
        'EMPTY_REF:=a{{ }}b',
        'CONTROL:="{{bad\\nname}}"',
        'PATH:=/opt/{{dir}}/bin',
        'CREDEXEC_X:={{x}}',
        'BAD-NAME:={{x}}',
        'OK:={{x}}',
        'OK=x',
        'NO_VERSION:={{x@}}',
      ].join('\n'),
    ),
    [
      'bad.env:1: variable EMPTY has no template',
      'bad.env:2: variable UNCLOSED: template: "{{" at character 16 is never closed by "}}" (a literal "{{" is written "{{{{")',
      'bad.env:3: variable NONE: template: the template references no credential (write each one as {{name}})',
      'bad.env:4: variable EMPTY_REF: template: empty reference at character 2 (a literal "{{" is written "{{{{")',
      'bad.env:5: variable CONTROL: credential name "bad\\u000aname" contains a control character (U+000A)',
      'bad.env:6: variable PATH is refused: shells run code from it or look commands up with it (allow it with --allow-var PATH)',
      'bad.env:7: variable CREDEXEC_X is refused: CREDEXEC_* variables configure credexec and are never passed on',
      'bad.env:8: invalid variable name "BAD-NAME" (use letters, digits and _, not starting with a digit)',
      'bad.env:10: variable OK is already defined at bad.env:9',
      'bad.env:11: variable NO_VERSION: template: the reference at character 1: the version after "@" is empty',
    ],
  );
});

test('every template mistake in a JSON manifest is reported with its file and line', (t) => {
  const text = `{
  "BOTH": { "template": "{{a}}", "name": "a" },
  "PINNED": { "template": "{{a}}", "version": "3" },
  "NOT_TEXT": { "template": 3 },
  "EMPTY": { "template": "  " },
  "NESTED": { "template": "{{a {{b}}" },
  "NUL": { "template": "{{a}}\\u0000" },
  "LONE": { "template": "{{a}}\\ud800" },
  "LD_PRELOAD": { "template": "/tmp/{{lib}}.so" }
}`;
  t.deepEqual(problems('m.json', text), [
    'm.json:2: variable BOTH: "name" and "template" cannot be combined',
    'm.json:3: variable PINNED: "version" does not apply to a template (pin a reference as {{name@VERSION}})',
    'm.json:4: variable NOT_TEXT: "template" must be a non-empty string',
    'm.json:5: variable EMPTY: "template" must be a non-empty string',
    'm.json:6: variable NESTED: template: the reference at character 1 is not closed by "}}" before the next "{{" (a literal "{{" is written "{{{{")',
    'm.json:7: variable NUL: template: a template cannot contain a NUL character (character 6)',
    'm.json:8: variable LONE: template: a template must be Unicode text: a lone surrogate at character 6',
    'm.json:9: variable LD_PRELOAD is refused: the dynamic loader or the C library loads code, data or files from it (allow it with --allow-var LD_PRELOAD)',
  ]);
});

test('a dangerous variable may hold a template only when --allow-var names it', (t) => {
  const [entry] = parse('a.env', 'NODE_OPTIONS:=--require {{preload}}', {
    allowVars: new Set(['NODE_OPTIONS']),
    context: EMPTY_CONTEXT,
  });
  t.is(entry?.variable, 'NODE_OPTIONS');
  t.deepEqual(problems('a.env', 'node_options:=--require {{preload}}'), [
    'a.env:1: variable node_options is refused: Node.js loads code or data from it, or writes files where it says (allow it with --allow-var node_options)',
  ]);
});

test('the example manifests, templates included, parse', (t) => {
  for (const name of ['credexec.env', 'credexec.json']) {
    const text = readFileSync(join(REPO_ROOT, 'examples', name), 'utf8');
    const entries = parseManifests([{ name, text }], POLICY);
    const url = entries.find((entry) => entry.variable === 'DATABASE_URL');
    t.deepEqual(
      url?.template?.references,
      [{ credential: 'demo.db.password', version: undefined }],
      name,
    );
  }
});
