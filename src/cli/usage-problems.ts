import {
  COMMANDS,
  TOP_LEVEL,
  commandSpec,
  optionsOf,
  type CommandSpec,
  type PositionalSpec,
} from './command-specs.js';
import type { OptionSpec, OptionSpecs } from './option-specs.js';
import { suggest } from './suggest.js';

/**
 * What is wrong with a command line yargs refused, said in one line that names the missing or
 * mistyped thing and what to do about it. yargs stays the judge of what is valid; this only
 * explains, reading the words the way yargs-parser does.
 *
 * Words typed in the wrong place may be secrets (`credexec put name s3cr3t extra`), so messages
 * quote command names, option names and choices only when they are clearly that: a known word,
 * something close enough to one to suggest it, or an option name made of lower-case words.
 * Anything else is described, never repeated.
 */

/** One option as given: `--format=xml`, `-f xml`, or one letter of `-nf xml`. */
interface OptionUse {
  /** Without dashes: `format`, `f`. */
  readonly name: string;
  readonly long: boolean;
  /** The whole word it came from, for `-verison`. */
  readonly word: string;
  /** Its value, inline or the next word; undefined for a flag. */
  readonly value: string | undefined;
  /** Before the command word: yargs read it with the top level's options. */
  readonly beforeCommand: boolean;
}

interface ScannedLine {
  /** The first word that is neither an option nor an option's value, and where it is. */
  readonly commandWord: string | undefined;
  readonly commandIndex: number;
  readonly command: CommandSpec | undefined;
  readonly options: readonly OptionUse[];
  /** The words after the command word, before `--`. */
  readonly positionals: readonly string[];
}

const NEGATIVE_NUMBER = /^-([0-9]+(\.[0-9]+)?|\.[0-9]+)$/;

const camelCase = (name: string) =>
  name.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());

/** The option `name` (long name, its camelCase form, or alias) as [key, spec]. */
function findOption(specs: OptionSpecs, name: string): [string, OptionSpec] | undefined {
  for (const [key, spec] of Object.entries(specs)) {
    if (key === name || spec.alias === name || camelCase(key) === name) return [key, spec];
  }
  return undefined;
}

/** Read `args` as yargs-parser does: which words are options, their values, and positionals. */
function scan(args: readonly string[]): ScannedLine {
  const end = args.indexOf('--');
  const words = end === -1 ? args : args.slice(0, end);
  let specs = optionsOf(TOP_LEVEL);
  let commandWord: string | undefined;
  let commandIndex = -1;
  let command: CommandSpec | undefined;
  const options: OptionUse[] = [];
  const positionals: string[] = [];

  /** The value of an option at index `i` given without `=`, taking the next word if it fits. */
  const valueAfter = (i: number, name: string, long: boolean): [string | undefined, number] => {
    const spec = findOption(specs, name)?.[1];
    const next = words[i + 1];
    if (spec?.type === 'boolean') {
      return next === 'true' || next === 'false' ? [next, i + 1] : [undefined, i];
    }
    if (next === undefined) return ['', i];
    const fits =
      NEGATIVE_NUMBER.test(next) ||
      (long || spec?.array === true ? !next.startsWith('-') : !/^(-|--)[^-]/.test(next));
    return fits ? [next, i + 1] : ['', i];
  };

  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    const beforeCommand = commandWord === undefined;
    if (!word.startsWith('-') || word === '-' || NEGATIVE_NUMBER.test(word) || /^-{3}/.test(word)) {
      if (commandWord === undefined) {
        commandWord = word;
        commandIndex = i;
        command = commandSpec(word);
        if (command !== undefined) specs = optionsOf(command);
      } else {
        positionals.push(word);
      }
      continue;
    }
    if (word.startsWith('--')) {
      const eq = word.indexOf('=');
      const name = eq === -1 ? word.slice(2) : word.slice(2, eq);
      let value: string | undefined = eq === -1 ? undefined : word.slice(eq + 1);
      if (value === undefined) [value, i] = valueAfter(i, name, true);
      options.push({ name, long: true, word, value, beforeCommand });
      continue;
    }
    const letters = word.slice(1);
    for (let j = 0; j < letters.length; j++) {
      const name = letters[j]!;
      const rest = letters.slice(j + 1);
      let value: string | undefined;
      if (rest.startsWith('=')) value = rest.slice(1);
      else if (rest === '') [value, i] = valueAfter(i, name, false);
      else if (/[A-Za-z]/.test(name) && /^-?\d+(\.\d*)?(e-?\d+)?$/.test(rest)) value = rest;
      else if (/\W/.test(rest[0]!)) value = rest;
      options.push({ name, long: false, word, value, beforeCommand });
      if (value !== undefined && rest !== '') break;
    }
  }
  return { commandWord, commandIndex, command, options, positionals };
}

const COMMAND_NAMES = COMMANDS.map(({ name }) => name);

/** `a, b or c`. */
function alternatives(words: readonly string[]): string {
  return words.length < 2
    ? words.join('')
    : `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`;
}

const helpFor = (command: CommandSpec | undefined) =>
  command === undefined || command === TOP_LEVEL
    ? 'credexec --help'
    : `credexec ${command.name} --help`;

function unknownCommand(word: string, prefix = ''): string {
  const suggestion = suggest(word, COMMAND_NAMES);
  if (suggestion !== undefined) return `unknown command "${word}"; did you mean "${suggestion}"?`;
  return prefix === ''
    ? 'unknown command; see credexec --help (to run a program: credexec -- CMD)'
    : `${prefix}unknown command; see credexec --help`;
}

/** The long option `name` is most likely a typo of, with its dashes. */
function suggestLong(name: string, specs: OptionSpecs): string | undefined {
  const suggestion = suggest(name, Object.keys(specs));
  return suggestion === undefined ? undefined : `--${suggestion}`;
}

/** The short option `-letter` is most likely a typo of: the same letter in the other case. */
function suggestShort(letter: string, specs: OptionSpecs): string | undefined {
  const aliases = Object.values(specs).map((spec) => spec.alias);
  const other = letter === letter.toLowerCase() ? letter.toUpperCase() : letter.toLowerCase();
  return aliases.includes(other) ? `-${other}` : undefined;
}

/** Plain lower-case words joined by dashes: an option name, unlikely to be a secret. */
const OPTION_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

function unknownOption(use: OptionUse, command: CommandSpec): string {
  const specs = optionsOf(command);
  const see = `see ${helpFor(command)}`;
  const notShown = `unknown option (not shown: it does not look like an option name); ${see}`;
  if (use.long) {
    const suggestion = suggestLong(use.name, specs);
    if (suggestion !== undefined)
      return `unknown option --${use.name}; did you mean ${suggestion}?`;
    return OPTION_NAME.test(use.name) && use.name.length <= 30
      ? `unknown option --${use.name}; ${see}`
      : notShown;
  }
  if (use.word.length > 2) {
    // `-verison` for `--version`: a long option given one dash.
    const suggestion = suggestLong(use.word.slice(1), specs);
    if (suggestion !== undefined) return `unknown option ${use.word}; did you mean ${suggestion}?`;
    // Several letters, one unknown: more likely a value starting with "-" than flags.
    if (!/^-[A-Za-z]{2,4}$/.test(use.word)) return notShown;
  }
  if (!/^[A-Za-z]$/.test(use.name)) return notShown;
  const suggestion = suggestShort(use.name, specs);
  return suggestion === undefined
    ? `unknown option -${use.name}; ${see}`
    : `unknown option -${use.name}; did you mean ${suggestion}?`;
}

/** A value that can be repeated: short and plain, like the choices it should have been. */
const QUOTABLE_CHOICE = /^[A-Za-z][A-Za-z0-9]{0,11}$/;

function invalidChoice(what: string, value: string, choices: readonly string[]): string {
  if (value === '') return `${what} needs a value (choose ${alternatives(choices)})`;
  const shown = QUOTABLE_CHOICE.test(value) ? ` "${value}"` : '';
  return `invalid ${what}${shown} (choose ${alternatives(choices)})`;
}

/** Missing or extra positionals, measured against the command's positional specs. */
function positionalProblem(command: CommandSpec, given: number): string | undefined {
  const required = command.positionals.filter((spec) => spec.required === true);
  const missing: PositionalSpec | undefined = required[given];
  const usage = `(credexec ${command.synopsis})`;
  if (missing !== undefined) return `${command.name}: missing ${missing.what} ${usage}`;
  const variadic = command.positionals.some((spec) => spec.variadic === true);
  if (!variadic && given > command.positionals.length)
    return `${command.name}: too many arguments ${usage}`;
  return undefined;
}

/** `help [COMMAND]`: the command to show help for, or what is wrong. */
function helpTarget(line: ScannedLine): {
  readonly command?: CommandSpec;
  readonly problem?: string;
} {
  const [target, ...extra] = line.positionals;
  if (extra.length > 0) return { problem: 'help: too many arguments (credexec help [COMMAND])' };
  if (target === undefined) return {};
  const command = commandSpec(target);
  return command === undefined ? { problem: unknownCommand(target, 'help: ') } : { command };
}

function choiceProblem(line: ScannedLine, command: CommandSpec): string | undefined {
  const specs = optionsOf(command);
  for (const use of line.options) {
    const [key, spec] = findOption(specs, use.name)!;
    if (spec.choices === undefined || use.value === undefined) continue;
    // yargs fills in the default for a choice given no value.
    if (use.value === '' && spec.default !== undefined) continue;
    if (!spec.choices.includes(use.value))
      return invalidChoice(`--${key}`, use.value, spec.choices);
  }
  for (const [index, spec] of command.positionals.entries()) {
    const value = line.positionals[index];
    if (spec.choices !== undefined && value !== undefined && !spec.choices.includes(value))
      return invalidChoice(`${command.name} ${spec.what}`, value, spec.choices);
  }
  return undefined;
}

function conflictProblem(line: ScannedLine, command: CommandSpec): string | undefined {
  const specs = optionsOf(command);
  const given = new Set(line.options.map((use) => findOption(specs, use.name)![0]));
  for (const [key, spec] of Object.entries(specs)) {
    if (given.has(key) && spec.conflicts !== undefined && given.has(spec.conflicts)) {
      const prefix = command.name === '' ? '' : `${command.name}: `;
      return `${prefix}--${spec.conflicts} and --${key} cannot be used together; give one of them`;
    }
  }
  return undefined;
}

/** The one-line description of what is wrong with `args`, or undefined if nothing is found. */
export function findUsageProblem(args: readonly string[]): string | undefined {
  const line = scan(args);
  const command = line.command ?? TOP_LEVEL;
  const specs = optionsOf(command);
  const unknown = line.options.filter((use) => findOption(specs, use.name) === undefined);

  if (line.commandWord !== undefined && line.command === undefined) {
    // An option the top level does not know took the next word as its value, perhaps the
    // command itself (`credexec -n get x`): then the option is the mistake.
    const before = unknown.find((use) => use.beforeCommand);
    return before === undefined
      ? unknownCommand(line.commandWord)
      : unknownOption(before, TOP_LEVEL);
  }
  if (unknown[0] !== undefined) return unknownOption(unknown[0], command);
  if (command.name === 'help') return helpTarget(line).problem;
  return (
    choiceProblem(line, command) ??
    conflictProblem(line, command) ??
    (line.command === undefined
      ? undefined
      : positionalProblem(line.command, line.positionals.length))
  );
}

/** What is wrong with `args`, which yargs refused: in one line, whatever it is. */
export function usageProblem(args: readonly string[]): string {
  return findUsageProblem(args) ?? `invalid arguments; see ${helpFor(scan(args).command)}`;
}

/**
 * `credexec help [COMMAND]` as the arguments yargs should see instead (`COMMAND --help`), or a
 * usage problem; undefined when the command is not `help`.
 */
export function helpArguments(
  args: readonly string[],
): { readonly args: readonly string[] } | { readonly problem: string } | undefined {
  const line = scan(args);
  if (line.command?.name !== 'help') return undefined;
  const target = helpTarget(line);
  if (target.problem !== undefined) return { problem: target.problem };
  const rest = args.filter((_, index) => index !== line.commandIndex);
  return { args: [...rest, '--help'] };
}
