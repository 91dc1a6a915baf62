import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import test from 'ava';
import fc from 'fast-check';
import { main } from '../../src/cli/main.js';
import { findUsageProblem, helpArguments, usageProblem } from '../../src/cli/usage-problems.js';

test('each kind of mistake is named in one line, with what to do', (t) => {
  for (const [args, message] of [
    [['gett', 'x'], 'unknown command "gett"; did you mean "get"?'],
    [['Keys'], 'unknown command "Keys"; did you mean "keys"?'],
    [
      ['node', 'app.js'],
      'unknown command; see credexec --help (to run a program: credexec -- CMD)',
    ],
    [['get', 'x', '--verison', '2'], 'unknown option --verison; did you mean --version?'],
    [['get', 'x', '-verison'], 'unknown option -verison; did you mean --version?'],
    [['get', 'x', '--no-line'], 'unknown option --no-line; did you mean --noline?'],
    [['get', 'x', '-N'], 'unknown option -N; did you mean -n?'],
    [
      ['put', 'x', '-', '-Xk9!'],
      'unknown option (not shown: it does not look like an option name); see credexec put --help',
    ],
    [['-v', '--', 'true'], 'unknown option -v; did you mean -V?'],
    [['-n', 'get', 'x'], 'unknown option -n; see credexec --help'],
    [['--tabel=t', 'list'], 'unknown option --tabel; did you mean --table?'],
    [['getall', '-f', 'xml'], 'invalid --format "xml" (choose json, csv, dotenv or yaml)'],
    [['getall', '-f=xml'], 'invalid --format "xml" (choose json, csv, dotenv or yaml)'],
    [
      ['getall', '-f', 'csv', '-f', 'xml'],
      'invalid --format "xml" (choose json, csv, dotenv or yaml)',
    ],
    [['list', '--backend'], '--backend needs a value (choose aws or local)'],
    [['completion', 'fish'], 'invalid completion shell "fish" (choose bash or zsh)'],
    [
      ['put', 'x', '-', '-a', '--version=2'],
      'put: --version and --autoversion cannot be used together; give one of them',
    ],
    [['get'], 'get: missing credential name (credexec get NAME [K=V…])'],
    [['-t', 'other', 'delete'], 'delete: missing credential name (credexec delete NAME [-v VER])'],
    [['putall', '-a'], 'putall: missing credentials (credexec putall JSON|-|@FILE [K=V…])'],
    [['keys', 'x'], 'keys: too many arguments (credexec keys)'],
    [['check', 'x'], 'check: too many arguments (credexec check [-m MANIFEST]… [--watch-plan])'],
    [['help', 'get', 'put'], 'help: too many arguments (credexec help [COMMAND])'],
    [['help', 'gte'], 'unknown command "gte"; did you mean "get"?'],
  ] as const) {
    t.is(findUsageProblem(args), message, args.join(' '));
  }
});

test('a line with nothing wrong gets no diagnosis, and the fallback names the help to read', (t) => {
  for (const args of [
    ['get', 'x'],
    ['get', 'x', 'env=prod', '-n', '-v', '2', '-f', 'csv'],
    ['-t', 'other', '--backend', 'local', 'list'],
    ['getall', '-f'],
    ['put', 'x', '-', '-a', '-c', 'a comment'],
    ['-m', 'a.env', '--context', 'k=v', '--', 'node', '--bogus'],
    ['run', 'node', 'app.js'],
    ['--localDir', '/tmp/x', 'keys'],
    ['completion', 'zsh'],
  ]) {
    t.is(findUsageProblem(args), undefined, args.join(' '));
  }
  t.is(usageProblem(['get', 'x']), 'invalid arguments; see credexec get --help');
  t.is(usageProblem([]), 'invalid arguments; see credexec --help');
});

test('help COMMAND becomes COMMAND --help, keeping the other words', (t) => {
  t.deepEqual(helpArguments(['help']), { args: ['--help'] });
  t.deepEqual(helpArguments(['help', 'get']), { args: ['get', '--help'] });
  t.deepEqual(helpArguments(['-t', 'help', 'help', 'put']), {
    args: ['-t', 'help', 'put', '--help'],
  });
  t.deepEqual(helpArguments(['help', 'nothing']), {
    problem: 'help: unknown command; see credexec --help',
  });
  t.is(helpArguments(['get', 'help']), undefined);
});

/** Secrets as people generate them: mixed case, digits and at least one symbol. */
const secret = fc
  .tuple(
    fc.stringMatching(/^[A-Za-z0-9]{3,12}$/),
    fc.constantFrom('!', '#', '%', '&', '*', '+', ',', '.', ':', ';', '?', '@', '^', '~', '/'),
    fc.stringMatching(/^[A-Za-z0-9!#%&*+.:;?@^~]{2,12}$/),
  )
  .map(([head, symbol, tail]) => `${head}${symbol}${tail}`);

test('a secret typed where a command, option or choice belongs is never repeated', (t) => {
  fc.assert(
    fc.property(secret, (value) => {
      for (const args of [
        [value],
        ['-t', 'x', value, 'get'],
        ['list', value],
        ['delete', 'x', value],
        ['help', value],
        ['completion', value],
        [`--${value}`],
        ['get', 'x', `-${value}`],
        ['put', 'x', '-', `--${value}`],
        ['put', 'x', '-', `--bogus=${value}`],
        ['getall', '-f', value],
        ['--backend', value, 'keys'],
        ['keys', `--backend=${value}`],
      ]) {
        const message = usageProblem(args);
        t.false(message.includes(value), `${args.join(' ')} → ${message}`);
        t.false(message.includes('\n'), message);
      }
    }),
    { seed: 1130, numRuns: 300 },
  );
});

/** Run the CLI in this process; a store directory that is never set up keeps commands cheap. */
async function cli(args: readonly string[], env: Record<string, string>) {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const err: Buffer[] = [];
  stdout.resume();
  stderr.on('data', (chunk: Buffer) => err.push(chunk));
  stdin.end('');
  const code = await main(args, { io: { stdin, stdout, stderr }, env });
  return { code, stderr: Buffer.concat(err).toString('utf8') };
}

// Words a mistyped line is made of. No `--` and no `run`: nothing may start a program.
const WORD = fc.constantFrom(
  ...['setup', 'put', 'putall', 'get', 'getall', 'list', 'keys', 'delete', 'check'],
  ...['completion', 'help', 'gett', 'lst', 'x', 'k=v', '-', '@missing-file', 'csv', 'xml'],
  ...['-v', '2', '-a', '-n', '-f', '--format=yaml', '-d', '-c', '-P', '-V', '-h', '-m'],
  ...['--backend', 'local', 'cloud', '--verison', '--bogus', '-x', '--tags', '--read', '1'],
);

test('every line yargs refuses gets one specific line of ours, never yargs text or the fallback', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'credexec-usage-test-'));
  const env = { CREDEXEC_BACKEND: 'local', CREDEXEC_LOCAL_DIR: join(dir, 'store') };
  try {
    await fc.assert(
      fc.asyncProperty(fc.array(WORD, { minLength: 1, maxLength: 6 }), async (args) => {
        // Help and completion print to stdout; setup would create a store.
        if (args.includes('-h') || args.includes('setup')) return;
        const { code, stderr } = await cli(args, env);
        const lines = stderr.split('\n').slice(0, -1);
        t.true(lines.length <= 1, `${args.join(' ')}: ${stderr}`);
        if (code !== 2) return;
        t.regex(stderr, /^credexec: \S/, args.join(' '));
        t.notRegex(
          stderr,
          /invalid arguments|Unknown argument|Invalid values|Not enough/,
          args.join(' '),
        );
      }),
      { seed: 42, numRuns: 400 },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
