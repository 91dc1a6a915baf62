import { isDeepStrictEqual, parseArgs, type ParseArgsConfig } from 'node:util';
import test from 'ava';
import fc from 'fast-check';
import type { RunArguments } from '../../src/cli/commands/run.js';
import { parseLaunchArguments } from '../../src/cli/launch-arguments.js';
import {
  GLOBAL_OPTIONS,
  LAUNCHER_OPTIONS,
  RUN_OPTIONS,
  type OptionSpecs,
} from '../../src/cli/option-specs.js';

test('the common launcher forms are parsed without yargs, options camel-cased', (t) => {
  t.deepEqual(parseLaunchArguments(['--', 'node', 'server.js', '--port', '8']), {
    '--': ['node', 'server.js', '--port', '8'],
  });
  t.deepEqual(
    parseLaunchArguments([
      'run',
      '-m',
      'a.env',
      '--manifest=b.json',
      '--context',
      'env=prod',
      '--allow-var',
      'PATH',
      '--pristine',
      '--backend',
      'local',
      '--local-dir',
      '/d',
      '--kms-region',
      'eu-west-1',
      '-t',
      'tbl',
      '--concurrency',
      '4',
      '--fallback',
      'f.json',
      '--fallback-max-age=24h',
      '--',
      'true',
    ]),
    {
      manifest: ['a.env', 'b.json'],
      context: ['env=prod'],
      allowVar: ['PATH'],
      pristine: true,
      backend: 'local',
      localDir: '/d',
      kmsRegion: 'eu-west-1',
      table: 'tbl',
      concurrency: '4',
      fallback: 'f.json',
      fallbackMaxAge: '24h',
      '--': ['true'],
    },
  );
});

test('anything else is left to the full CLI, which reports it the usual way', (t) => {
  for (const args of [
    ['run', 'node', 'x'],
    ['--help', '--', 'x'],
    ['--bogus', '--', 'x'],
    ['-m', 'a.env', 'b.env', '--', 'x'],
    ['check', '--', 'x'],
    ['get', 'name', '--', 'x'],
    ['--'],
    ['--pristine=yes', '--', 'x'],
    ['-m', '--', 'x'],
  ]) {
    t.is(parseLaunchArguments(args), undefined, args.join(' '));
  }
});

/** What the fast path did before, with node:util's parseArgs: the reference it must agree with. */
function withParseArgs(args: readonly string[]): RunArguments | undefined {
  const options: NonNullable<ParseArgsConfig['options']> = {};
  for (const specs of [GLOBAL_OPTIONS, LAUNCHER_OPTIONS, RUN_OPTIONS] as OptionSpecs[]) {
    for (const [name, spec] of Object.entries(specs)) {
      options[name] = {
        type: spec.type,
        ...(spec.alias === undefined ? {} : { short: spec.alias }),
        ...(spec.array ? { multiple: true } : {}),
      };
    }
  }
  const dashes = args.indexOf('--');
  if (dashes === -1 || dashes === args.length - 1) return undefined;
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: args.slice(0, dashes),
      options,
      allowPositionals: true,
      strict: true,
    });
  } catch {
    return undefined;
  }
  const { positionals } = parsed;
  if (positionals.length > 1 || (positionals.length === 1 && positionals[0] !== 'run'))
    return undefined;
  const values: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(parsed.values))
    values[name.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase())] = value;
  return { ...values, '--': args.slice(dashes + 1) } as RunArguments;
}

const WORDS = [
  'run',
  '-m',
  '--manifest',
  '--manifest=a.env',
  '--manifest=',
  '-t',
  '--table',
  '--table=x',
  '--pristine',
  '--pristine=1',
  '--context',
  'env=prod',
  '--allow-var',
  'PATH',
  '--concurrency',
  '4',
  '--backend',
  'local',
  '-r',
  '-p',
  '-k',
  '--local-dir',
  '/d',
  '--kms-region',
  '--arn',
  'a.env',
  '-',
  '-x',
  '--bogus',
  '--help',
  '-h',
  '-mvalue',
  '-m=a',
  '--no-pristine',
  'check',
  '---m',
  '--=x',
  '--constructor',
  '--__proto__',
  '',
];

test('it agrees with node:util parseArgs wherever it answers, and answers for every plain form', (t) => {
  const words = fc.array(fc.constantFrom(...WORDS), { maxLength: 8 });
  const args = fc
    .tuple(
      words,
      fc.array(fc.constantFrom('true', '--', '-x', 'run'), { minLength: 1, maxLength: 3 }),
    )
    .map(([before, after]) => [...before, '--', ...after]);
  fc.assert(
    fc.property(args, (argv) => {
      const fast = parseLaunchArguments(argv);
      const reference = withParseArgs(argv);
      if (reference === undefined) return fast === undefined;
      return fast === undefined || isDeepStrictEqual(fast, reference);
    }),
    { seed: 10, numRuns: 3000 },
  );
  // The forms people write are all answered (never left to yargs).
  const plain = fc.array(
    fc.oneof(
      fc
        .tuple(
          fc.constantFrom('-m', '--manifest', '--context', '-t', '--backend', '-r'),
          fc.constantFrom('a.env', 'x=y', '-', 'local'),
        )
        .map((pair) => [...pair]),
      fc.constantFrom(['--pristine'], ['--manifest=b.env'], ['--concurrency=8']),
    ),
    { maxLength: 6 },
  );
  fc.assert(
    fc.property(fc.boolean(), plain, (run, pairs) => {
      const argv = [...(run ? ['run'] : []), ...pairs.flat(), '--', 'true'];
      const fast = parseLaunchArguments(argv);
      return fast !== undefined && isDeepStrictEqual(fast, withParseArgs(argv));
    }),
    { seed: 11, numRuns: 2000 },
  );
  t.pass();
});
