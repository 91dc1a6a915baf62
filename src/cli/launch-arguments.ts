import type { RunArguments } from './commands/run.js';
import {
  GLOBAL_OPTIONS,
  LAUNCHER_OPTIONS,
  RUN_OPTIONS,
  type OptionSpec,
  type OptionSpecs,
} from './option-specs.js';

function specsByName(...groups: OptionSpecs[]): {
  long: Map<string, OptionSpec>;
  short: Map<string, string>;
} {
  const long = new Map<string, OptionSpec>();
  const short = new Map<string, string>();
  for (const specs of groups) {
    for (const [name, spec] of Object.entries(specs)) {
      long.set(name, spec);
      if (spec.alias !== undefined) short.set(spec.alias, name);
    }
  }
  return { long, short };
}

const OPTIONS = specsByName(GLOBAL_OPTIONS, LAUNCHER_OPTIONS, RUN_OPTIONS);

const camelCase = (name: string) =>
  name.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());

/** What node:util's parseArgs would take as an option rather than as a value. */
const looksLikeOption = (word: string) => word.length > 1 && word.startsWith('-');

/**
 * The launcher's hot path, `credexec [run] [OPTIONS] -- CMD [ARGS…]`, parsed without loading
 * yargs (which costs a large share of start-up). It reads `--name value`, `--name=value`,
 * `-x value` and boolean `--name`, as node:util's parseArgs does in strict mode, and nothing
 * more: anything else — help, an unknown flag, a stray word, no command, `-xVALUE` — returns
 * `undefined` so that the full yargs CLI handles it and reports it the usual way. (parseArgs
 * itself costs about a millisecond of start-up: its module and its option checks.)
 */
export function parseLaunchArguments(args: readonly string[]): RunArguments | undefined {
  const dashes = args.indexOf('--');
  if (dashes === -1 || dashes === args.length - 1) return undefined;
  const values: Record<string, unknown> = {};
  let sawRun = false;
  for (let index = 0; index < dashes; index++) {
    const word = args[index]!;
    if (word === 'run' && !sawRun) {
      sawRun = true;
      continue;
    }
    let name: string | undefined;
    let inline: string | undefined;
    if (word.startsWith('--')) {
      const equals = word.indexOf('=');
      name = equals === -1 ? word.slice(2) : word.slice(2, equals);
      inline = equals === -1 ? undefined : word.slice(equals + 1);
    } else if (word.length === 2 && word.startsWith('-')) {
      name = OPTIONS.short.get(word[1]!);
    }
    const spec = name === undefined ? undefined : OPTIONS.long.get(name);
    if (name === undefined || spec === undefined) return undefined;
    let value: string | boolean;
    if (spec.type === 'boolean') {
      if (inline !== undefined) return undefined;
      value = true;
    } else if (inline !== undefined) {
      value = inline;
    } else if (spec.optionalValue === true) {
      value = '';
    } else {
      const next = args[index + 1];
      if (index + 1 >= dashes || next === undefined || looksLikeOption(next)) return undefined;
      value = next;
      index++;
    }
    const key = camelCase(name);
    if (spec.array) ((values[key] ??= []) as unknown[]).push(value);
    else values[key] = value;
  }
  return { ...values, '--': args.slice(dashes + 1) } as RunArguments;
}
