import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { BIN, runCli, tempLocalDir } from '../support/cli.js';

// The completion scripts are run by the shells themselves: source the script, set COMP_WORDS and
// COMP_CWORD as the shell would for the line being completed, call the function, read COMPREPLY.
// credexec on PATH is a shim that logs each call and runs the real bin.

const HAS_ZSH = spawnSync('zsh', ['-c', 'true']).status === 0;

interface World {
  readonly dir: string;
  readonly env: Record<string, string | undefined>;
  readonly bashScript: string;
  readonly zshScript: string;
  readonly calls: string;
}

const world: Promise<World> = (async () => {
  const local = tempLocalDir();
  const bin = join(local.dir, 'bin');
  mkdirSync(bin);
  const calls = join(local.dir, 'calls.log');
  writeFileSync(
    join(bin, 'credexec'),
    `#!/bin/sh\necho "$*" >> "${calls}"\nexec "${process.execPath}" "${BIN}" "$@"\n`,
  );
  chmodSync(join(bin, 'credexec'), 0o755);
  const bashScript = join(local.dir, 'credexec.bash');
  const zshScript = join(local.dir, 'credexec.zsh');
  const bash = await runCli(['completion']);
  const zsh = await runCli(['completion', 'zsh']);
  if (bash.exitCode !== 0 || zsh.exitCode !== 0) throw new Error(bash.stderr + zsh.stderr);
  writeFileSync(bashScript, bash.stdout);
  writeFileSync(zshScript, zsh.stdout);
  const env = { ...local.env, PATH: `${bin}:/usr/bin:/bin`, HOME: local.dir };
  for (const args of [['setup'], ['setup', '-t', 'other']]) {
    if ((await runCli(args, { env })).exitCode !== 0) throw new Error(`${args.join(' ')} failed`);
  }
  for (const name of ['db.password', 'db.user', 'api.token', '$(touch pwned)']) {
    const put = await runCli(['put', name, '-'], { env, input: 'value' });
    if (put.exitCode !== 0) throw new Error(put.stderr);
  }
  return { dir: local.dir, env, bashScript, zshScript, calls };
})();

test.after.always(async () => {
  const { dir } = await world;
  spawnSync('rm', ['-rf', dir]);
});

interface Completion {
  readonly replies: string[];
  readonly status: number | null;
  readonly stderr: string;
}

const BASH_DRIVER =
  'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _credexec; ' +
  'status=$?; (( ${#COMPREPLY[@]} )) && printf "%s\\n" "${COMPREPLY[@]}"; exit $status';

// As zsh's bashcompinit runs the function: through its compgen -F, in sh emulation.
const ZSH_DRIVER =
  'autoload -U +X compinit && compinit -u -D; source "$1"; shift; ' +
  'COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); words=("$@"); CURRENT=$#; ' +
  'compgen -F _credexec -- "${@[-1]}"';

function complete(
  shell: 'bash' | 'zsh',
  { env, bashScript, zshScript }: World,
  words: readonly string[],
  extraEnv: Record<string, string | undefined> = {},
): Completion {
  const run = spawnSync(
    shell,
    [
      '-c',
      shell === 'bash' ? BASH_DRIVER : ZSH_DRIVER,
      '_',
      shell === 'bash' ? bashScript : zshScript,
      ...words,
    ],
    { env: { ...env, ...extraEnv }, encoding: 'utf8', cwd: env.HOME },
  );
  const replies = run.stdout.split('\n').filter((line) => line !== '');
  return { replies, status: run.status, stderr: run.stderr };
}

const COMMANDS = [
  'setup',
  'put',
  'putall',
  'get',
  'getall',
  'list',
  'keys',
  'delete',
  'run',
  'check',
  'completion',
  'help',
];

const CASES: readonly (readonly [words: readonly string[], replies: readonly string[]])[] = [
  [['credexec', ''], COMMANDS],
  [
    ['credexec', 'ge'],
    ['get', 'getall'],
  ],
  [
    ['credexec', '-t', 'x', '--backend', 'aws', 'p'],
    ['put', 'putall'],
  ],
  [['credexec', 'get', '--f'], ['--format']],
  [
    ['credexec', 'get', 'x', '-'],
    [
      ...[
        '--backend',
        '-r',
        '--region',
        '--kms-region',
        '-p',
        '--profile',
        '--arn',
        '-t',
        '--table',
      ],
      ...['-k', '--key', '--local-dir', '-v', '--version', '-n', '--noline', '-f', '--format'],
      ...['-h', '--help'],
    ],
  ],
  [
    ['credexec', 'list', '--'],
    [
      '--backend',
      '--region',
      '--kms-region',
      '--profile',
      '--arn',
      '--table',
      '--key',
      '--local-dir',
      '--help',
    ],
  ],
  [['credexec', '--v'], ['--version']],
  [
    ['credexec', 'getall', '-f', ''],
    ['json', 'csv', 'dotenv', 'yaml'],
  ],
  [['credexec', 'getall', '--format', 'd'], ['dotenv']],
  [['credexec', 'getall', '--format=y'], ['--format=yaml']],
  [
    ['credexec', '--backend', ''],
    ['aws', 'local'],
  ],
  [['credexec', 'put', 'x', '-', '-d', 'SHA5'], ['SHA512']],
  [
    ['credexec', 'help', 'p'],
    ['put', 'putall'],
  ],
  [
    ['credexec', 'completion', ''],
    ['bash', 'zsh'],
  ],
  [['credexec', 'list', ''], []],
  [['credexec', 'get', 'x', 'y'], []],
];

for (const shell of ['bash', 'zsh'] as const) {
  // zsh is not on every machine; CI installs it (.ci/run), so there a missing zsh fails.
  const shellTest = shell === 'zsh' && !HAS_ZSH && process.env.CI !== 'true' ? test.skip : test;

  for (const [words, replies] of CASES) {
    shellTest(
      `${shell}: completing "${words.join(' ')}" offers ${replies.join(' ') || 'nothing'}`,
      async (t) => {
        const result = complete(shell, await world, words, { CREDEXEC_BACKEND: undefined });
        t.deepEqual(result.replies, replies);
        t.is(result.stderr, '');
        t.is(result.status, 0);
      },
    );
  }

  shellTest(`${shell}: after -- the program is completed from PATH`, async (t) => {
    const result = complete(shell, await world, ['credexec', '-m', 'a.env', '--', 'ech']);
    t.true(result.replies.includes('echo'), result.replies.join(' '));
    t.true(
      result.replies.every((word) => word.startsWith('ech')),
      result.replies.join(' '),
    );
  });

  shellTest(`${shell}: credential names come from the local store, as they are`, async (t) => {
    const w = await world;
    t.deepEqual(complete(shell, w, ['credexec', 'get', 'db']).replies, ['db.password', 'db.user']);
    t.deepEqual(complete(shell, w, ['credexec', 'delete', '']).replies, [
      '$(touch pwned)',
      'api.token',
      'db.password',
      'db.user',
    ]);
    t.deepEqual(complete(shell, w, ['credexec', '--backend', 'local', 'put', 'a']).replies, [
      'api.token',
    ]);
    // Another table of the same local directory: set up, and empty.
    t.deepEqual(complete(shell, w, ['credexec', '-t', 'other', 'get', '']).replies, []);
    // A name is a word to offer, never a command to run.
    t.false(existsSync(join(w.env.HOME!, 'pwned')));
  });

  shellTest(
    `${shell}: no name is completed, and credexec never runs, on the aws backend`,
    async (t) => {
      const w = await world;
      const before = existsSync(w.calls) ? readFileSync(w.calls, 'utf8') : '';
      for (const [words, backend] of [
        [['credexec', 'get', ''], undefined],
        [['credexec', 'get', ''], 'aws'],
        // The command line wins over CREDEXEC_BACKEND.
        [['credexec', '--backend', 'aws', 'delete', 'd'], 'local'],
        [['credexec', '--backend=aws', 'get', 'd'], 'local'],
      ] as const) {
        const result = complete(shell, w, words, { CREDEXEC_BACKEND: backend });
        t.deepEqual(result.replies, [], words.join(' '));
        t.is(result.stderr, '');
      }
      t.is(existsSync(w.calls) ? readFileSync(w.calls, 'utf8') : '', before);
    },
  );

  shellTest(
    `${shell}: without a store, or without credexec on PATH, it offers nothing quietly`,
    async (t) => {
      const w = await world;
      for (const extraEnv of [
        { CREDEXEC_LOCAL_DIR: join(w.dir, 'nowhere') },
        { PATH: '/usr/bin:/bin' },
      ]) {
        const result = complete(shell, w, ['credexec', 'get', ''], extraEnv);
        t.deepEqual(result.replies, []);
        t.is(result.stderr, '');
        t.is(result.status, 0);
      }
    },
  );
}

test(`bash's split of --format=VALUE at "=" (COMP_WORDBREAKS) is understood`, async (t) => {
  const w = await world;
  t.deepEqual(complete('bash', w, ['credexec', 'getall', '--format', '=', 'c']).replies, ['csv']);
  t.deepEqual(complete('bash', w, ['credexec', 'getall', '--format', '=']).replies, [
    'json',
    'csv',
    'dotenv',
    'yaml',
  ]);
  t.deepEqual(complete('bash', w, ['credexec', '--backend', '=', 'local', 'g']).replies, [
    'get',
    'getall',
  ]);
});

test('credexec completion rejects an unknown shell in one line', async (t) => {
  const result = await runCli(['completion', 'fish']);
  t.is(result.stderr, 'credexec: invalid completion shell "fish" (choose bash or zsh)\n');
  t.is(result.exitCode, 2);
});

test("the zsh script is the bash one behind zsh's bash completion emulation", async (t) => {
  const { bashScript, zshScript } = await world;
  const bash = readFileSync(bashScript, 'utf8');
  const zsh = readFileSync(zshScript, 'utf8');
  t.regex(zsh, /^autoload -U \+X bashcompinit && bashcompinit$/m);
  const body = (text: string) => text.slice(text.indexOf('_credexec_add() {'));
  t.is(body(zsh), body(bash));
  const registered = spawnSync(
    'bash',
    ['-c', 'source "$1"; complete -p credexec', '_', bashScript],
    {
      encoding: 'utf8',
    },
  );
  t.is(registered.stdout, 'complete -o default -F _credexec credexec\n');
});
