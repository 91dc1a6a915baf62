import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { RunArguments } from './commands/run.js';
import { GLOBAL_OPTIONS, LAUNCHER_OPTIONS, RUN_OPTIONS, type OptionSpecs } from './option-specs.js';

type ParseArgsOptions = NonNullable<ParseArgsConfig['options']>;

function parseArgsOptions(...groups: OptionSpecs[]): ParseArgsOptions {
  const options: ParseArgsOptions = {};
  for (const specs of groups) {
    for (const [name, spec] of Object.entries(specs)) {
      options[name] = {
        type: spec.type,
        ...(spec.alias === undefined ? {} : { short: spec.alias }),
        ...(spec.array ? { multiple: true } : {}),
      };
    }
  }
  return options;
}

const OPTIONS = parseArgsOptions(GLOBAL_OPTIONS, LAUNCHER_OPTIONS, RUN_OPTIONS);

const camelCase = (name: string) =>
  name.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());

/**
 * The launcher's hot path, `credexec [run] [OPTIONS] -- CMD [ARGS…]`, parsed without loading
 * yargs (which costs a large share of start-up). Anything this strict parser does not fully
 * understand — help, an unknown flag, a stray word, no command — returns `undefined` so that the
 * full yargs CLI handles it and reports it the usual way.
 */
export function parseLaunchArguments(args: readonly string[]): RunArguments | undefined {
  const dashes = args.indexOf('--');
  if (dashes === -1 || dashes === args.length - 1) return undefined;
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: args.slice(0, dashes),
      options: OPTIONS,
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
  for (const [name, value] of Object.entries(parsed.values)) values[camelCase(name)] = value;
  return { ...values, '--': args.slice(dashes + 1) } as RunArguments;
}
