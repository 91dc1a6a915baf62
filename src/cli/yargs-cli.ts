import yargs from 'yargs';
import { UsageError } from '../errors.js';
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
import { withGlobalOptions } from './global-options.js';
import { markStdinArguments } from './io.js';
import { requireOpenStdout, writeStdout } from './output.js';

/** The full CLI: every command, help and validation. Loaded on demand (yargs is heavy). */
function buildParser(args: readonly string[], context: CommandContext) {
  const parser = withGlobalOptions(yargs([...args]))
    .scriptName('credexec')
    .usage('$0 [run] [-m MANIFEST]… -- CMD [ARGS…]\n$0 <command> [options]')
    .epilogue(
      'credexec --version prints the version. Exit codes: 0 success, 1 failure, 2 usage error; ' +
        'the launcher exits 125 when secrets cannot be resolved (nothing is started), 126/127 when ' +
        'the command cannot be run, and otherwise with the command’s own status.',
    )
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

/** Parse and run `args`; resolves to true when help was shown (and nothing else done). */
export async function runYargsCli(
  args: readonly string[],
  context: CommandContext,
): Promise<boolean> {
  let help: string | undefined;
  const marked = markStdinArguments(args);
  await buildParser(marked, context).parseAsync(marked, {}, (error, _argv, output) => {
    // yargs hands help and validation text here instead of printing it.
    if (output && !error) help = output;
    if (output && error) context.io.stderr.write(`${output}\n\n`);
  });
  if (help === undefined) return false;
  requireOpenStdout(context.io);
  await writeStdout(context.io, `${help}\n`);
  return true;
}
