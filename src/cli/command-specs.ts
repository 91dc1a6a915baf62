import { DIGEST_NAMES } from '../envelope/digests.js';
import { OUTPUT_FORMATS } from '../format/secrets-output.js';
import {
  CHECK_OPTIONS,
  GLOBAL_OPTIONS,
  LAUNCHER_OPTIONS,
  RUN_OPTIONS,
  type OptionSpecs,
} from './option-specs.js';

/**
 * Every command's words and options as data: yargs builds its parser and help from it, usage
 * errors name what is missing or mistyped from it, and the shell completion script is written
 * from it. Loaded with the yargs CLI only (the launcher's fast path reads option-specs.ts).
 */
export interface PositionalSpec {
  /** The yargs key. */
  readonly name: string;
  /** What a usage error calls it: "missing credential name". */
  readonly what: string;
  readonly required?: boolean;
  /** Takes every remaining word. */
  readonly variadic?: boolean;
  readonly choices?: readonly string[];
  /** What shell completion offers here: credential names (local backend only) or programs. */
  readonly complete?: 'credential' | 'command' | 'program';
}

export interface CommandSpec {
  readonly name: string;
  /** How usage errors show the command line, as the README writes it. */
  readonly synopsis: string;
  readonly positionals: readonly PositionalSpec[];
  /** The command's own options; the global ones and --help come on top. */
  readonly options: OptionSpecs;
}

export const HELP_OPTION = {
  help: { type: 'boolean', alias: 'h', describe: 'show help' },
} as const satisfies OptionSpecs;

/** Top level only: `credexec --version`. */
export const VERSION_OPTION = {
  version: { type: 'boolean', alias: 'V', describe: "print credexec's version" },
} as const satisfies OptionSpecs;

export const OUTPUT_FORMAT_OPTION = {
  format: {
    type: 'string',
    alias: 'f',
    choices: OUTPUT_FORMATS,
    default: 'json',
    describe: 'output format for several credentials',
  },
} as const satisfies OptionSpecs;

const CONTEXT_WORDS: PositionalSpec = { name: 'context', what: 'context', variadic: true };
const CREDENTIAL_NAME: PositionalSpec = {
  name: 'name',
  what: 'credential name',
  required: true,
  complete: 'credential',
};

export const SETUP_OPTIONS = {
  tags: { type: 'string', array: true, describe: 'table tags as KEY=VALUE (aws)' },
  read: { type: 'string', describe: 'provisioned read capacity (aws; default on-demand)' },
  write: { type: 'string', describe: 'provisioned write capacity (aws; default on-demand)' },
} as const satisfies OptionSpecs;

/** What `put` and `putall` share. */
export const PUT_OPTIONS = {
  version: { type: 'string', alias: 'v', describe: 'version to store (default 1)' },
  autoversion: {
    type: 'boolean',
    alias: 'a',
    conflicts: 'version',
    describe: 'store as the latest version + 1',
  },
  digest: {
    type: 'string',
    alias: 'd',
    default: 'SHA256',
    values: DIGEST_NAMES,
    describe: `HMAC digest (${DIGEST_NAMES.join(', ')})`,
  },
  comment: { type: 'string', alias: 'c', describe: 'comment stored with the version' },
} as const satisfies OptionSpecs;

export const PROMPT_OPTION = {
  prompt: { type: 'boolean', alias: 'P', describe: 'prompt for the value without echo' },
} as const satisfies OptionSpecs;

export const GET_OPTIONS = {
  version: { type: 'string', alias: 'v', describe: 'version to read (default: latest)' },
  noline: { type: 'boolean', alias: 'n', describe: 'no newline after the value' },
  ...OUTPUT_FORMAT_OPTION,
} as const satisfies OptionSpecs;

export const GETALL_OPTIONS = {
  version: { type: 'string', alias: 'v', describe: 'version to read of each (default: latest)' },
  ...OUTPUT_FORMAT_OPTION,
} as const satisfies OptionSpecs;

export const DELETE_OPTIONS = {
  version: { type: 'string', alias: 'v', describe: 'delete only this version' },
} as const satisfies OptionSpecs;

export const SHELLS = ['bash', 'zsh'] as const;

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'setup',
    synopsis: 'setup [--tags K=V…] [--read N --write N]',
    positionals: [],
    options: SETUP_OPTIONS,
  },
  {
    name: 'put',
    synopsis: 'put NAME VALUE|-|@FILE [K=V…]',
    positionals: [CREDENTIAL_NAME, { name: 'value', what: 'value' }, CONTEXT_WORDS],
    options: { ...PUT_OPTIONS, ...PROMPT_OPTION },
  },
  {
    name: 'putall',
    synopsis: 'putall JSON|-|@FILE [K=V…]',
    positionals: [{ name: 'credentials', what: 'credentials', required: true }, CONTEXT_WORDS],
    options: PUT_OPTIONS,
  },
  {
    name: 'get',
    synopsis: 'get NAME [K=V…]',
    positionals: [CREDENTIAL_NAME, CONTEXT_WORDS],
    options: GET_OPTIONS,
  },
  {
    name: 'getall',
    synopsis: 'getall [K=V…] [-f FORMAT]',
    positionals: [CONTEXT_WORDS],
    options: GETALL_OPTIONS,
  },
  { name: 'list', synopsis: 'list', positionals: [], options: {} },
  { name: 'keys', synopsis: 'keys', positionals: [], options: {} },
  {
    name: 'delete',
    synopsis: 'delete NAME [-v VER]',
    positionals: [CREDENTIAL_NAME],
    options: DELETE_OPTIONS,
  },
  {
    name: 'run',
    synopsis: 'run [-m MANIFEST]… -- CMD [ARGS…]',
    positionals: [{ name: 'command', what: 'command', variadic: true, complete: 'program' }],
    options: { ...LAUNCHER_OPTIONS, ...RUN_OPTIONS },
  },
  {
    name: 'check',
    synopsis: 'check [-m MANIFEST]… [--watch-plan]',
    positionals: [],
    options: { ...LAUNCHER_OPTIONS, ...CHECK_OPTIONS },
  },
  {
    name: 'completion',
    synopsis: 'completion [bash|zsh]',
    positionals: [{ name: 'shell', what: 'shell', choices: SHELLS }],
    options: {},
  },
  {
    name: 'help',
    synopsis: 'help [COMMAND]',
    positionals: [{ name: 'command', what: 'command', complete: 'command' }],
    options: {},
  },
];

/** `credexec [options] -- CMD`: what the top level takes besides the subcommands. */
export const TOP_LEVEL: CommandSpec = {
  name: '',
  synopsis: '[run] [-m MANIFEST]… -- CMD [ARGS…]',
  positionals: [],
  options: { ...LAUNCHER_OPTIONS, ...RUN_OPTIONS, ...VERSION_OPTION },
};

export function commandSpec(name: string): CommandSpec | undefined {
  return COMMANDS.find((command) => command.name === name);
}

/** Every option `command` accepts: its own, the global ones and --help. */
export function optionsOf(command: CommandSpec): OptionSpecs {
  return { ...GLOBAL_OPTIONS, ...command.options, ...HELP_OPTION };
}

/** The yargs command string: `get <name> [context..]`. */
export function yargsCommand(command: CommandSpec): string {
  const words = command.positionals.map(({ name, required, variadic }) => {
    const word = variadic ? `${name}..` : name;
    return required ? `<${word}>` : `[${word}]`;
  });
  return [command.name, ...words].join(' ');
}
