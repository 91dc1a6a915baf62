import test from 'ava';
import { runCli, tempLocalDir } from '../support/cli.js';

// What a user who mistypes sees: one line, `credexec: <what is wrong>; <what to do>`, exit 2.

const CANARY = 'canary-Zq8-never-print-me';

const USAGE_ERRORS: readonly (readonly [args: readonly string[], stderr: string])[] = [
  [['getall', '-f', 'xml'], 'credexec: invalid --format "xml" (choose json, csv, dotenv or yaml)'],
  [
    ['getall', '--format=xml'],
    'credexec: invalid --format "xml" (choose json, csv, dotenv or yaml)',
  ],
  [['--backend', 'cloud', 'list'], 'credexec: invalid --backend "cloud" (choose aws or local)'],
  [['get'], 'credexec: get: missing credential name (credexec get NAME [K=V…])'],
  [['put'], 'credexec: put: missing credential name (credexec put NAME VALUE|-|@FILE [K=V…])'],
  [
    ['put', 'x'],
    'credexec: put: missing value (credexec put NAME VALUE|-|@FILE [K=V…], or -P to prompt)',
  ],
  [['putall'], 'credexec: putall: missing credentials (credexec putall JSON|-|@FILE [K=V…])'],
  [['delete'], 'credexec: delete: missing credential name (credexec delete NAME [-v VER])'],
  [['gett', 'x'], 'credexec: unknown command "gett"; did you mean "get"?'],
  [['lsit'], 'credexec: unknown command "lsit"; did you mean "list"?'],
  [['get', 'x', '--verison', '2'], 'credexec: unknown option --verison; did you mean --version?'],
  [['getall', '--fromat', 'csv'], 'credexec: unknown option --fromat; did you mean --format?'],
  [['--tabel', 't', 'list'], 'credexec: unknown option --tabel; did you mean --table?'],
  [['--bogus'], 'credexec: unknown option --bogus; see credexec --help'],
  [['keys', '--bogus'], 'credexec: unknown option --bogus; see credexec keys --help'],
  // An option of another command: no suggestion from get's options, but get's help.
  [['list', '-f', 'csv'], 'credexec: unknown option -f; see credexec list --help'],
  [['list', 'foo'], 'credexec: list: too many arguments (credexec list)'],
  [['delete', 'a', 'b'], 'credexec: delete: too many arguments (credexec delete NAME [-v VER])'],
  [
    ['put', 'x', '-', '-v', '2', '-a'],
    'credexec: put: --version and --autoversion cannot be used together; give one of them',
  ],
  [['help', 'gte'], 'credexec: unknown command "gte"; did you mean "get"?'],
  [['help', 'nothing-like-it'], 'credexec: help: unknown command; see credexec --help'],
];

for (const [args, stderr] of USAGE_ERRORS) {
  test(`credexec ${args.join(' ')} is one usage line: ${stderr}`, async (t) => {
    const result = await runCli(args);
    t.is(result.stderr, `${stderr}\n`);
    t.is(result.exitCode, 2);
    t.is(result.stdout, '');
  });
}

// A word typed in the wrong place may be a secret: messages describe it without quoting it.
const CANARY_ERRORS: readonly (readonly [args: readonly string[], stderr: string])[] = [
  [[CANARY], 'credexec: unknown command; see credexec --help (to run a program: credexec -- CMD)'],
  [
    ['-t', 'x', CANARY, 'get'],
    'credexec: unknown command; see credexec --help (to run a program: credexec -- CMD)',
  ],
  [['list', CANARY], 'credexec: list: too many arguments (credexec list)'],
  [['keys', CANARY, CANARY], 'credexec: keys: too many arguments (credexec keys)'],
  [['help', CANARY], 'credexec: help: unknown command; see credexec --help'],
  [
    ['put', 'name', 'value', CANARY],
    'credexec: put: context word 1 is not KEY=VALUE (not shown: it may be a secret); see credexec put --help',
  ],
  [
    ['get', 'name', 'env=prod', CANARY],
    'credexec: get: context word 2 is not KEY=VALUE (not shown: it may be a secret); see credexec get --help',
  ],
  [
    ['getall', CANARY],
    'credexec: getall: context word 1 is not KEY=VALUE (not shown: it may be a secret); see credexec getall --help',
  ],
  [
    ['check', '--context', CANARY],
    'credexec: --context value 1 is not KEY=VALUE (not shown: it may be a secret); see credexec check --help',
  ],
  [
    ['get', 'name', `--${CANARY}`],
    'credexec: unknown option (not shown: it does not look like an option name); see credexec get --help',
  ],
  [['list', `--bogus=${CANARY}`], 'credexec: unknown option --bogus; see credexec list --help'],
  [['getall', '-f', CANARY], 'credexec: invalid --format (choose json, csv, dotenv or yaml)'],
];

for (const [args, stderr] of CANARY_ERRORS) {
  test(`a secret typed in the wrong place is never echoed: credexec ${args.join(' ')}`, async (t) => {
    const result = await runCli(args);
    t.is(result.stderr, `${stderr}\n`);
    t.is(result.exitCode, 2);
    t.false(result.stdout.includes(CANARY));
  });
}

test('a secret typed after -P is taken for context and never echoed', async (t) => {
  const local = tempLocalDir();
  try {
    t.is((await runCli(['setup'], { env: local.env })).exitCode, 0);
    const result = await runCli(['put', 'name', '-P', CANARY], { env: local.env });
    t.is(
      result.stderr,
      'credexec: put: context word 1 is not KEY=VALUE (not shown: it may be a secret); see credexec put --help\n',
    );
    t.is(result.exitCode, 2);
  } finally {
    local.cleanup();
  }
});

test('credexec help prints what credexec --help prints', async (t) => {
  const help = await runCli(['help']);
  const flag = await runCli(['--help']);
  t.is(help.exitCode, 0);
  t.is(help.stderr, '');
  t.is(help.stdout, flag.stdout);
  t.regex(help.stdout, /^credexec /);
});

for (const command of ['setup', 'put', 'get', 'getall', 'run', 'check', 'completion']) {
  test(`credexec help ${command} prints what credexec ${command} --help prints`, async (t) => {
    const help = await runCli(['help', command]);
    const flag = await runCli([command, '--help']);
    t.is(help.exitCode, 0, help.stderr);
    t.is(help.stderr, '');
    t.is(help.stdout, flag.stdout);
    t.true(help.stdout.startsWith(`credexec ${command}`), help.stdout);
  });
}

test('the top-level help lists -V, --version, help and completion, within 100 columns', async (t) => {
  const help = await runCli(['--help'], { env: { PATH: process.env.PATH, COLUMNS: '300' } });
  t.is(help.exitCode, 0);
  t.regex(help.stdout, /^ {2}-V, --version +print credexec's version +\[boolean\]$/m);
  t.regex(help.stdout, /^ {2}credexec help \[command\] /m);
  t.regex(help.stdout, /^ {2}credexec completion \[shell\] /m);
  for (const line of help.stdout.split('\n')) t.true(line.length <= 100, line);
});

for (const command of ['setup', 'put', 'get', 'getall', 'run', 'check']) {
  test(`credexec ${command} --help shows examples without a literal secret`, async (t) => {
    const help = await runCli([command, '--help']);
    t.is(help.exitCode, 0);
    const examples = help.stdout.split('\nExamples:\n')[1];
    t.truthy(examples, help.stdout);
    const lines = examples!.split('\n').filter((line) => line.startsWith('  credexec'));
    t.true(lines.length >= 1, examples);
    for (const line of help.stdout.split('\n')) t.true(line.length <= 100, line);
  });
}

test('put examples take the value from stdin, a file or a prompt, never literally', async (t) => {
  const help = await runCli(['put', '--help']);
  const examples = help.stdout.split('\nExamples:\n')[1]!;
  const commands = examples.split('\n').filter((line) => /credexec put /.test(line));
  t.true(commands.length >= 2, examples);
  for (const line of commands) t.regex(line, /credexec put \S+ (-|@\S+|-P)(\s|$)/, line);
});

test('-V and --version print the version', async (t) => {
  for (const flag of ['-V', '--version']) {
    const result = await runCli([flag]);
    t.is(result.exitCode, 0);
    t.regex(result.stdout, /^\d+\.\d+\.\d+\n$/);
  }
});
