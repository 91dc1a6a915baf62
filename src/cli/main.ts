import { createRequire } from 'node:module';
import yargs from 'yargs';
import { openBackend } from '../backends/open-backend.js';
import type { Environment } from '../backends/settings.js';
import { CredexecError, UsageError, messageOf } from '../errors.js';
import type { CommandContext } from './command-context.js';
import { checkCommand } from './commands/check.js';
import { deleteCommand } from './commands/delete.js';
import { getCommand } from './commands/get.js';
import { getAllCommand } from './commands/getall.js';
import { keysCommand, listCommand } from './commands/list.js';
import { putCommand } from './commands/put.js';
import { putAllCommand } from './commands/putall.js';
import { defaultRunCommand, runCommand } from './commands/run.js';
import { setupCommand } from './commands/setup.js';
import { ExitCode } from './exit-codes.js';
import { backendOptionsFrom, withGlobalOptions } from './global-options.js';
import { markStdinArguments, processIo, type CliIo } from './io.js';

export const VERSION: string = (
  createRequire(import.meta.url)('../../package.json') as { version: string }
).version;

/** Map a failure to the status SPEC §4 gives it; only the CLI decides exit codes. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof UsageError) return ExitCode.USAGE;
  return ExitCode.FAILURE;
}

function reportError(io: CliIo, env: Environment, error: unknown): void {
  const known = error instanceof CredexecError;
  io.stderr.write(`credexec: ${known ? error.message : `unexpected error: ${messageOf(error)}`}\n`);
  // Stacks and causes carry names and codes, never values (no message in this code base does).
  if (env.CREDEXEC_DEBUG) {
    let cause: unknown = error;
    while (cause instanceof Error) {
      io.stderr.write(`${cause.stack ?? cause.message}\n`);
      cause = cause.cause;
    }
  } else if (!known) {
    io.stderr.write('credexec: set CREDEXEC_DEBUG=1 for details\n');
  }
}

function buildParser(args: readonly string[], context: CommandContext) {
  const parser = withGlobalOptions(yargs([...args]))
    .scriptName('credexec')
    .usage('$0 [run] [-m MANIFEST]… -- CMD [ARGS…]\n$0 <command> [options]')
    .parserConfiguration({
      'populate--': true,
      'parse-numbers': false,
      'parse-positional-numbers': false,
      'dot-notation': false,
      'boolean-negation': false,
    })
    .command(setupCommand(context))
    .command(putCommand(context))
    .command(putAllCommand(context))
    .command(getCommand(context))
    .command(getAllCommand(context))
    .command(listCommand(context))
    .command(keysCommand(context))
    .command(deleteCommand(context))
    // launcher: run/check are wired here
    .command(runCommand(context))
    .command(checkCommand(context))
    .command(defaultRunCommand(context))
    .demandCommand(1, 'give a command, or -- CMD to run a program with its secrets')
    .strict()
    .version(false)
    .help('help')
    .alias('help', 'h')
    .wrap(Math.min(100, process.stdout.columns || 100))
    .exitProcess(false)
    .fail((message: string | undefined, error: Error | undefined) => {
      if (error) throw error;
      throw new UsageError(message ?? 'invalid arguments');
    });
  return parser;
}

export interface MainOptions {
  readonly io?: CliIo;
  readonly env?: Environment;
}

/** Run the CLI on `args` (without node and script) and return the exit status. */
export async function main(args: readonly string[], options: MainOptions = {}): Promise<number> {
  const io = options.io ?? processIo;
  const env = options.env ?? process.env;
  if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
    io.stdout.write(`${VERSION}\n`);
    return ExitCode.OK;
  }
  let exitCode: number = ExitCode.OK;
  const context: CommandContext = {
    io,
    env,
    openBackend: (argv) => openBackend(backendOptionsFrom(argv), env),
    setExitCode: (code) => {
      exitCode = code;
    },
  };
  let helpShown = false;
  try {
    const marked = markStdinArguments(args);
    await buildParser(marked, context).parseAsync(marked, {}, (error, _argv, output) => {
      // yargs hands help and validation text here instead of printing it.
      if (output && !error) {
        helpShown = true;
        io.stdout.write(`${output}\n`);
      }
      if (output && error) io.stderr.write(`${output}\n\n`);
    });
  } catch (error: unknown) {
    reportError(io, env, error);
    return exitCodeFor(error);
  }
  return helpShown ? ExitCode.OK : exitCode;
}
