import test from 'ava';
import { EMPTY_CONTEXT } from '../../src/envelope/context.js';
import { ManifestError } from '../../src/errors.js';
import { loadManifest } from '../../src/manifest/load-manifest.js';
import { manifestSources } from '../../src/manifest/manifest-sources.js';
import { parseManifests, type ManifestPolicy } from '../../src/manifest/parse-manifest.js';

const POLICY: ManifestPolicy = { allowVars: new Set(), context: EMPTY_CONTEXT };

function parse(name: string, text: string, policy: ManifestPolicy = POLICY) {
  return parseManifests([{ name, text }], policy);
}

/** The exact problem lines a manifest produces. */
function problems(files: { name: string; text: string }[], policy: ManifestPolicy = POLICY) {
  try {
    parseManifests(files, policy);
  } catch (error: unknown) {
    if (error instanceof ManifestError) return error.message.split('\n');
    throw error;
  }
  return [];
}

test('a dotenv manifest maps variables to latest and pinned credentials, skipping blanks and comments', (t) => {
  const entries = parse(
    'app.env',
    [
      '# database',
      '',
      'DB_PASSWORD=db-password',
      '  export API_KEY = api-key   # the vendor key',
      'PINNED=service-token@3',
      'QUOTED="name with spaces@v2"',
      "SINGLE='team/secret'",
      'COLON: yaml-style',
    ].join('\n'),
  );
  t.deepEqual(
    entries.map(({ variable, credential, version, source }) => [
      variable,
      credential,
      version,
      source.line,
    ]),
    [
      ['DB_PASSWORD', 'db-password', undefined, 3],
      ['API_KEY', 'api-key', undefined, 4],
      ['PINNED', 'service-token', '0000000000000000003', 5],
      ['QUOTED', 'name with spaces', 'v2', 6],
      ['SINGLE', 'team/secret', undefined, 7],
      ['COLON', 'yaml-style', undefined, 8],
    ],
  );
  t.true(entries.every((entry) => !entry.optional && !entry.file));
});

test('a dotenv manifest splits the version at the last @ and accepts CRLF line ends', (t) => {
  const entries = parse('a.env', 'EMAIL=ops@example.com@12\r\nNEXT=plain\r\n');
  t.deepEqual(
    entries.map(({ credential, version, source }) => [credential, version, source.line]),
    [
      ['ops@example.com', '0000000000000000012', 1],
      ['plain', undefined, 2],
    ],
  );
});

test('every dotenv mistake is reported with its file and line', (t) => {
  t.deepEqual(
    problems([
      {
        name: 'bad.env',
        text: [
          'GOOD=fine',
          'no equals sign here',
          '=no-name',
          '1ST=starts-with-digit',
          'HAS-DASH=x',
          'EMPTY=',
          'NOVERSION=name@',
          'NONAME=@3',
          'GOOD=again',
          'HUGE=x@12345678901234567890',
        ].join('\n'),
      },
    ]),
    [
      'bad.env:2: malformed line: expected VAR=credential-name, VAR=name@VERSION or VAR:=template',
      'bad.env:3: malformed line: expected VAR=credential-name, VAR=name@VERSION or VAR:=template',
      'bad.env:4: invalid variable name "1ST" (use letters, digits and _, not starting with a digit)',
      'bad.env:5: invalid variable name "HAS-DASH" (use letters, digits and _, not starting with a digit)',
      'bad.env:6: variable EMPTY has no credential name',
      'bad.env:7: variable NOVERSION: the version after "@" is empty',
      'bad.env:8: variable NONAME: the credential name before "@" is empty',
      'bad.env:9: variable GOOD is already defined at bad.env:1',
      'bad.env:10: variable HUGE: version 12345678901234567890 has more than 19 digits',
    ],
  );
});

test('a JSON manifest accepts names and objects with version, optional, file and context', (t) => {
  const entries = parse(
    'app.json',
    JSON.stringify(
      {
        DB: 'db-password',
        TOKEN: { name: 'token', version: '3' },
        NUMERIC: { name: 'token', version: 7 },
        CERT: { name: 'tls-key', file: true, optional: true },
        SCOPED: { name: 'scoped', context: { env: 'prod', app: 'web' } },
        EMPTY_CONTEXT: { name: 'plain', context: {} },
      },
      null,
      2,
    ),
    { allowVars: new Set(), context: { team: 'ops' } },
  );
  t.deepEqual(
    entries.map((entry) => ({
      variable: entry.variable,
      credential: entry.credential,
      version: entry.version,
      optional: entry.optional,
      file: entry.file,
      context: { ...entry.context },
      line: entry.source.line,
    })),
    [
      {
        variable: 'DB',
        credential: 'db-password',
        version: undefined,
        optional: false,
        file: false,
        context: { team: 'ops' },
        line: 2,
      },
      {
        variable: 'TOKEN',
        credential: 'token',
        version: '0000000000000000003',
        optional: false,
        file: false,
        context: { team: 'ops' },
        line: 3,
      },
      {
        variable: 'NUMERIC',
        credential: 'token',
        version: '0000000000000000007',
        optional: false,
        file: false,
        context: { team: 'ops' },
        line: 7,
      },
      {
        variable: 'CERT',
        credential: 'tls-key',
        version: undefined,
        optional: true,
        file: true,
        context: { team: 'ops' },
        line: 11,
      },
      {
        variable: 'SCOPED',
        credential: 'scoped',
        version: undefined,
        optional: false,
        file: false,
        context: { env: 'prod', app: 'web' },
        line: 16,
      },
      {
        variable: 'EMPTY_CONTEXT',
        credential: 'plain',
        version: undefined,
        optional: false,
        file: false,
        context: {},
        line: 23,
      },
    ],
  );
});

test('a JSON name is taken verbatim, @ included', (t) => {
  const [entry] = parse('a.json', '{"A": "user@example.com"}');
  t.is(entry?.credential, 'user@example.com');
  t.is(entry?.version, undefined);
});

test('every JSON mistake is reported with its file and line', (t) => {
  const text = `{
  "GOOD": "fine",
  "bad name": "x",
  "UNKNOWN": { "name": "x", "versoin": "1" },
  "NO_NAME": { "optional": true },
  "WRONG_TYPES": { "name": "x", "optional": "yes", "file": 1, "version": 1.5 },
  "CONTEXT": { "name": "x", "context": { "k": 1 } },
  "NUMBER": 3,
  "GOOD": "again",
  "TWICE": { "name": "x", "name": "y" },
  "EMPTY": ""
}`;
  t.deepEqual(problems([{ name: 'm.json', text }]), [
    'm.json:3: invalid variable name "bad name" (use letters, digits and _, not starting with a digit)',
    'm.json:4: variable UNKNOWN: unknown key "versoin" (allowed: name, version, template, optional, file, redact, context, onChange)',
    'm.json:5: variable NO_NAME: "name" or "template" is required',
    'm.json:6: variable WRONG_TYPES: "optional" must be true or false',
    'm.json:6: variable WRONG_TYPES: "file" must be true or false',
    'm.json:6: variable WRONG_TYPES: "version" must be a string or a whole number',
    'm.json:7: variable CONTEXT: context values must be strings with a key',
    'm.json:8: variable NUMBER: expected a credential name or an object with "name" or "template"',
    'm.json:9: variable GOOD is already defined at m.json:2',
    'm.json:10: variable TWICE: "name" is given twice (first on line 10)',
    'm.json:11: variable EMPTY has no credential name',
  ]);
});

test('JSON syntax errors name the line where parsing stopped', (t) => {
  t.deepEqual(problems([{ name: 's.json', text: '{\n  "A": "a",\n  "B": "b"\n  "C": "c"\n}' }]), [
    's.json:4: invalid JSON: expected "," or "}" in an object',
  ]);
  t.deepEqual(problems([{ name: 't.json', text: '{\n  "A": "a",\n' }]), [
    't.json:3: invalid JSON: expected a property name in double quotes',
  ]);
  t.deepEqual(problems([{ name: 'u.json', text: '["A"]' }]), [
    'u.json:1: a JSON manifest must be an object mapping variable names to credentials',
  ]);
  t.deepEqual(problems([{ name: 'v.json', text: '{"A": "tab\there"}' }]), [
    'v.json:1: invalid JSON: invalid string (control character or bad escape)',
  ]);
});

test('a variable defined in two files is reported at the second with the first location', (t) => {
  t.deepEqual(
    problems([
      { name: 'base.env', text: 'A=one\nB=two' },
      { name: 'extra.json', text: '{\n  "B": "three"\n}' },
    ]),
    ['extra.json:2: variable B is already defined at base.env:2'],
  );
});

test('variables that change how code loads are refused unless allowed', (t) => {
  const text = [
    'LD_PRELOAD=a',
    'NODE_OPTIONS=b',
    'PATH=c',
    'DYLD_INSERT_LIBRARIES=d',
    'IFS=e',
  ].join('\n');
  t.deepEqual(problems([{ name: 'd.env', text }]), [
    'd.env:1: variable LD_PRELOAD is refused: the dynamic loader or the C library loads code, data or files from it (allow it with --allow-var LD_PRELOAD)',
    'd.env:2: variable NODE_OPTIONS is refused: Node.js loads code or data from it, or writes files where it says (allow it with --allow-var NODE_OPTIONS)',
    'd.env:3: variable PATH is refused: shells run code from it or look commands up with it (allow it with --allow-var PATH)',
    'd.env:4: variable DYLD_INSERT_LIBRARIES is refused: the dynamic loader or the C library loads code, data or files from it (allow it with --allow-var DYLD_INSERT_LIBRARIES)',
    'd.env:5: variable IFS is refused: shells run code from it or look commands up with it (allow it with --allow-var IFS)',
  ]);
  const allowed = parse('d.env', 'NODE_OPTIONS=b', {
    allowVars: new Set(['NODE_OPTIONS']),
    context: EMPTY_CONTEXT,
  });
  t.deepEqual(
    allowed.map((entry) => entry.variable),
    ['NODE_OPTIONS'],
  );
});

test('CREDEXEC_ variables are refused even with --allow-var', (t) => {
  t.deepEqual(
    problems([{ name: 'c.env', text: 'CREDEXEC_BACKEND=x' }], {
      allowVars: new Set(['CREDEXEC_BACKEND']),
      context: EMPTY_CONTEXT,
    }),
    [
      'c.env:1: variable CREDEXEC_BACKEND is refused: CREDEXEC_* variables configure credexec and are never passed on',
    ],
  );
});

test('an empty manifest is valid and yields no entries', (t) => {
  t.deepEqual(parse('empty.env', '# nothing yet\n'), []);
  t.deepEqual(parse('empty.json', '{}'), []);
});

test('-m flags win over CREDEXEC_MANIFEST, which is split on the path delimiter, over the default', (t) => {
  t.deepEqual(manifestSources(['a.env', 'b.json'], 'x.env:y.env', ':'), {
    paths: ['a.env', 'b.json'],
    isDefault: false,
  });
  t.deepEqual(manifestSources([], 'x.env::y.env', ':'), {
    paths: ['x.env', 'y.env'],
    isDefault: false,
  });
  t.deepEqual(manifestSources([], '', ':'), { paths: ['./credexec.env'], isDefault: true });
  t.deepEqual(manifestSources([], undefined, ':'), { paths: ['./credexec.env'], isDefault: true });
});

function enoent(): Error {
  return Object.assign(new Error('missing'), { code: 'ENOENT' });
}

test('a missing default manifest is an error that says how to name one', async (t) => {
  const error = await t.throwsAsync(
    loadManifest(manifestSources([], undefined, ':'), POLICY, () => Promise.reject(enoent())),
    { instanceOf: ManifestError },
  );
  t.is(
    error?.message,
    './credexec.env: no manifest: ./credexec.env does not exist (name one with -m FILE or CREDEXEC_MANIFEST; an empty file runs the command with no secrets)',
  );
});

test('every unreadable named manifest is reported', async (t) => {
  const error = await t.throwsAsync(
    loadManifest(manifestSources(['a.env', 'b.env'], undefined, ':'), POLICY, () =>
      Promise.reject(enoent()),
    ),
    { instanceOf: ManifestError },
  );
  t.is(
    error?.message,
    'a.env: cannot read manifest (ENOENT)\nb.env: cannot read manifest (ENOENT)',
  );
});

test('JSON context keys that name Object.prototype members are kept', (t) => {
  const keys = ['__proto__', 'constructor', 'toString', 'hasOwnProperty'];
  const [entry] = parse(
    'p.json',
    JSON.stringify({ A: { name: 'a', context: Object.fromEntries(keys.map((k) => [k, k])) } }),
  );
  t.deepEqual(Object.keys(entry!.context), keys);
  for (const key of keys) t.true(Object.hasOwn(entry!.context, key), key);
  t.is(entry!.context.__proto__ as unknown, '__proto__');
  t.deepEqual(
    problems([
      {
        name: 'q.json',
        text: '{"A": {"name": "a", "context": {"__proto__": "x", "__proto__": "y"}}}',
      },
    ]),
    ['q.json:1: variable A context: "__proto__" is given twice (first on line 1)'],
  );
});

test('JSON nested too deeply is a manifest error at its line, for arrays and objects', (t) => {
  const deepArray = `{\n  "A": ${'['.repeat(100_000)}`;
  t.deepEqual(problems([{ name: 'a.json', text: deepArray }]), [
    'a.json:2: invalid JSON: nested too deeply (more than 64 levels)',
  ]);
  const deepObject = `{"A": {"name": "x", "context":\n${'{"k":'.repeat(100_000)}`;
  t.deepEqual(problems([{ name: 'o.json', text: deepObject }]), [
    'o.json:2: invalid JSON: nested too deeply (more than 64 levels)',
  ]);
  const mixed = `{"A":\n\n${'[{"k":'.repeat(40)}1${'}]'.repeat(40)}}`;
  t.deepEqual(problems([{ name: 'm.json', text: mixed }]), [
    'm.json:3: invalid JSON: nested too deeply (more than 64 levels)',
  ]);
});

test('JSON nested 64 levels deep is read like any other value', (t) => {
  // The root object is level 1; an entry's "context" value at level 64 is still only a type error.
  const text = `{"A": {"name": "x", "context": {"k": ${'['.repeat(61)}${']'.repeat(61)}}}}`;
  t.deepEqual(problems([{ name: 'd.json', text }]), [
    'd.json:1: variable A: context values must be strings with a key',
  ]);
});

test('credential names with control characters are refused at their line', (t) => {
  const dotenv = ['OK=fine', 'NEWLINE="a\\nb"', 'TAB=a\tb', 'C1=a\u0085b', 'PINNED="x\\ny@2"'].join(
    '\n',
  );
  t.deepEqual(problems([{ name: 'c.env', text: dotenv }]), [
    'c.env:2: variable NEWLINE: credential name "a\\u000ab" contains a control character (U+000A)',
    'c.env:3: variable TAB: credential name "a\\u0009b" contains a control character (U+0009)',
    'c.env:4: variable C1: credential name "a\\u0085b" contains a control character (U+0085)',
    'c.env:5: variable PINNED: credential name "x\\u000ay" contains a control character (U+000A)',
  ]);
  const json = '{\n  "A": "a\\u0001",\n  "B": {"name": "b\\u007f"},\n  "C": {"name": "\u009f"}\n}';
  t.deepEqual(problems([{ name: 'c.json', text: json }]), [
    'c.json:2: variable A: credential name "a\\u0001" contains a control character (U+0001)',
    'c.json:3: variable B: credential name "b\\u007f" contains a control character (U+007F)',
    'c.json:4: variable C: credential name "\\u009f" contains a control character (U+009F)',
  ]);
});

test('"onChange" gives a JSON entry its own --watch policy; signal: needs "file": true', (t) => {
  const entries = parse(
    'm.json',
    JSON.stringify({
      DB: { name: 'app.db', onChange: 'none' },
      TLS: { name: 'app.tls', file: true, onChange: 'signal:SIGHUP' },
      CONF: { template: 'k={{a}}', file: true, onChange: 'signal:usr1' },
      PLAIN: 'app.plain',
      RESTART: { name: 'app.r', onChange: 'restart' },
    }),
  );
  t.deepEqual(
    entries.map(({ variable, onChange }) => [variable, onChange]),
    [
      ['DB', { kind: 'none' }],
      ['TLS', { kind: 'signal', signal: 'SIGHUP' }],
      ['CONF', { kind: 'signal', signal: 'SIGUSR1' }],
      ['PLAIN', undefined],
      ['RESTART', { kind: 'restart' }],
    ],
  );
  const text = [
    '{',
    '  "ENV": { "name": "app.env", "onChange": "signal:SIGHUP" },',
    '  "KILL": { "name": "app.k", "file": true, "onChange": "signal:SIGKILL" },',
    '  "BAD": { "name": "app.b", "onChange": "signal:SIGNOPE" },',
    '  "NUM": { "name": "app.n", "onChange": 1 },',
    '  "WORD": { "name": "app.w", "onChange": "reload" }',
    '}',
  ].join('\n');
  t.deepEqual(problems([{ name: 'm.json', text }]), [
    'm.json:2: variable ENV: "onChange": "signal:SIGHUP" needs "file": true: an environment variable cannot change inside a running process, so a new value reaches it only by a restart',
    'm.json:3: variable KILL: "onChange" cannot use SIGKILL: it cannot be caught, so it cannot ask the command to reload',
    'm.json:4: variable BAD: "onChange" must name a signal, not "SIGNOPE"',
    'm.json:5: variable NUM: "onChange" must be a string: restart, none or signal:NAME',
    'm.json:6: variable WORD: "onChange" must be restart, none or signal:NAME (e.g. signal:SIGHUP), not "reload"',
  ]);
});
