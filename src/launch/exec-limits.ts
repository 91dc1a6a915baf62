/**
 * Why execve refused with E2BIG, in words a user can act on. Linux refuses a single argument or
 * NAME=value string longer than MAX_ARG_STRLEN (32 pages: 128 KiB with its NUL), and arguments
 * plus environment beyond a quarter of the stack limit (ARG_MAX: 2 MiB with the usual 8 MiB
 * stack). Both give the same errno, so the sizes tell which it was. Names and sizes only, never
 * values. Pure.
 */
export const MAX_STRING_BYTES = 32 * 4096;

const LARGEST_SHOWN = 3;

interface Sized {
  readonly name: string;
  /** UTF-8 bytes of `NAME=value`; execve adds a NUL to each string. */
  readonly bytes: number;
}

const stringBytes = (text: string) => Buffer.byteLength(text, 'utf8');
const fits = (bytes: number) => bytes + 1 <= MAX_STRING_BYTES;

function variableSizes(env: Readonly<Record<string, string>>): Sized[] {
  return Object.keys(env)
    .map((name) => ({ name, bytes: stringBytes(`${name}=${env[name]}`) }))
    .sort((a, b) => b.bytes - a.bytes || (a.name < b.name ? -1 : 1));
}

function largest(variables: readonly Sized[]): string {
  const shown = variables
    .slice(0, LARGEST_SHOWN)
    .map(({ name, bytes }) => `${name} ${bytes} bytes`);
  return `largest variables: ${shown.join(', ')}; use "file": true for large secrets`;
}

/** The explanation for an E2BIG from starting `argv` (command first) with `env`. */
export function tooLargeReason(
  argv: readonly string[],
  env: Readonly<Record<string, string>>,
): string {
  const variables = variableSizes(env);
  const tooLong = variables.filter(({ bytes }) => !fits(bytes));
  if (tooLong.length > 0) {
    const which = tooLong.map(({ name, bytes }) => `${name} is ${bytes} bytes`).join(', ');
    return `the environment is too large (E2BIG): ${which} as NAME=value, over the ${MAX_STRING_BYTES} one variable may take; ${largest(variables)}`;
  }
  const longArgument = argv.findIndex((arg) => !fits(stringBytes(arg)));
  if (longArgument !== -1) {
    const which = longArgument === 0 ? 'the command name' : `argument ${longArgument}`;
    return `the arguments are too large (E2BIG): ${which} is ${stringBytes(argv[longArgument]!)} bytes, over the ${MAX_STRING_BYTES} one argument may take`;
  }
  const envBytes = variables.reduce((sum, { bytes }) => sum + bytes + 1, 0);
  const argBytes = argv.reduce((sum, arg) => sum + stringBytes(arg) + 1, 0);
  return `the arguments and environment are too large together (E2BIG): ${envBytes} bytes of environment and ${argBytes} bytes of arguments, over the system limit (usually 2 MiB in all); ${largest(variables)}`;
}
