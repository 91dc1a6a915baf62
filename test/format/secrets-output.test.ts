import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import dotenv from 'dotenv';
import { UsageError } from '../../src/errors.js';
import { dotenvName, formatSecrets, toDotenv } from '../../src/format/secrets-output.js';

const entries = [
  ['app.db', 'p@ss,"word"'],
  ['token', 'line1\nline2'],
] as const;

test('json is an object with 4-space indent, and no match prints {}', (t) => {
  t.is(
    formatSecrets(entries, 'json'),
    '{\n    "app.db": "p@ss,\\"word\\"",\n    "token": "line1\\nline2"\n}\n',
  );
  t.is(formatSecrets([], 'json'), '{}\n');
});

test('csv quotes fields with commas, quotes and newlines', (t) => {
  t.is(formatSecrets(entries, 'csv'), 'app.db,"p@ss,""word"""\r\ntoken,"line1\nline2"\r\n');
});

test('yaml quotes anything that is not a plain safe scalar', (t) => {
  t.is(
    formatSecrets(
      [
        ['a', 'yes'],
        ['b', 'plain'],
        ['c', 'x: y'],
      ],
      'yaml',
    ),
    'a: "yes"\nb: plain\nc: "x: y"\n',
  );
});

test('dotenv names are upper-cased with every other character turned into _', (t) => {
  t.is(dotenvName('app.db-url/x'), 'APP_DB_URL_X');
});

const tricky = [
  'plain',
  '',
  'with space and # hash',
  'dollar $HOME and `cmd` and \\n backslash',
  "it's",
  'multi\nline\nvalue',
  'inner back\\slash',
  '  padded  ',
  '',
  '\n leading newline',
];

test('dotenv output reads back exactly through the dotenv package and through sh', (t) => {
  const named = tricky.map((value, index) => [`v${index}`, value] as const);
  const text = toDotenv(named);
  const parsed = dotenv.parse(text);
  const dir = mkdtempSync(join(tmpdir(), 'credexec-dotenv-'));
  try {
    const file = join(dir, 'out.env');
    writeFileSync(file, text);
    for (const [index, [name, value]] of named.entries()) {
      t.is(parsed[dotenvName(name)], value, `dotenv: ${JSON.stringify(value)}`);
      const viaShell = execFileSync('sh', ['-c', `. "$1"; printf %s "$V${index}"`, 'sh', file], {
        encoding: 'utf8',
      });
      t.is(viaShell, value, `sh: ${JSON.stringify(value)}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a value no quoting can carry for both readers, or two names colliding, is refused', (t) => {
  t.throws(() => toDotenv([['x', `it's "$x"`]]), {
    instanceOf: UsageError,
    message: /"x".*-f json/,
  });
  for (const [value, why] of [
    ['a\0b', 'it contains a NUL character'],
    ['a\rb', 'it contains a carriage return'],
    ['C:\\dir\\', 'it ends with a backslash'],
  ] as const) {
    t.throws(() => toDotenv([['x', value]]), {
      instanceOf: UsageError,
      message: `credential "x" holds a value that cannot be written in dotenv form for both shells and dotenv (${why}); use -f json`,
    });
  }
  t.throws(() => toDotenv([['line\nbreak', `it's "$x"`]]), {
    instanceOf: UsageError,
    message: /^credential "line\\nbreak" holds .*; use -f json$/,
  });
  t.throws(() => toDotenv([['é', 'v']]), {
    instanceOf: UsageError,
    message: 'credential "é" would become _, which is not a valid variable name; use -f json',
  });
  t.throws(
    () =>
      toDotenv([
        ['a.b', '1'],
        ['a-b', '2'],
      ]),
    { instanceOf: UsageError, message: /A_B/ },
  );
});
