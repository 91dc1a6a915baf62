import yargs, { type Argv, type CommandModule } from 'yargs';
import { UsageError } from '../errors.js';
import type { CommandContext } from './command-context.js';
import { HELP_OPTION, VERSION_OPTION } from './command-specs.js';
import { checkCommand } from './commands/check.js';
import { completionCommand } from './commands/completion.js';
import { deleteCommand } from './commands/delete.js';
import { getCommand } from './commands/get.js';
import { getAllCommand } from './commands/getall.js';
import { keysCommand, listCommand } from './commands/list.js';
import { putCommand } from './commands/put.js';
import { putAllCommand } from './commands/putall.js';
import { defaultRunCommand, runCommand } from './commands/run.js';
import { setupCommand } from './commands/setup.js';
import { withGlobalOptions, type GlobalArguments } from './global-options.js';
import { markStdinArguments } from './io.js';
import { requireOpenStdout, writeStdout } from './output.js';
import { helpArguments, usageProblem } from './usage-problems.js';

/**
 * `-V/--version` belongs to the top level: subcommands drop it, and get, put, putall, getall and
 * delete have a `-v/--version` of their own.
 */
function subcommand<U>(
  module: CommandModule<GlobalArguments, U>,
): CommandModule<GlobalArguments, U> {
  const { builder } = module;
  return {
    ...module,
    builder: (parser: Argv<GlobalArguments>) => {
      const own = parser.version(false);
      if (typeof builder === 'function') return builder(own);
      return builder === undefined ? own : own.options(builder);
    },
  } as CommandModule<GlobalArguments, U>;
}

/** Listed in the help; `credexec help [COMMAND]` itself is rewritten before yargs sees it. */
const helpCommand: CommandModule<GlobalArguments, GlobalArguments> = {
  command: 'help [command]',
  describe: "show a command's options and examples",
  handler: () => undefined,
};

/** The full CLI: every command, help and validation. Loaded on demand (yargs is heavy). */
function buildParser(args: readonly string[], context: CommandContext, version: string) {
  return withGlobalOptions(yargs([...args]))
    .scriptName('credexec')
    .usage('$0 [run] [-m MANIFEST]… -- CMD [ARGS…]\n$0 <command> [options]')
    .example('$0 --backend local setup', 'create a local master key and credential store')
    .example('$0 put db.password -P', 'store a credential typed at a prompt')
    .example('$0 get db.password', 'print it')
    .example('$0 -m app.env -- node server.js', "run a program with the manifest's secrets")
    .example('$0 help put', 'the options and examples of one command')
    .epilogue(
      'Exit codes: 0 success, 1 failure, 2 usage error; the launcher exits 125 when secrets ' +
        'cannot be resolved (nothing is started), 126/127 when the command cannot be run, and ' +
        'otherwise with the command’s own status.',
    )
    .parserConfiguration({
      'populate--': true,
      'parse-numbers': false,
      'parse-positional-numbers': false,
      'dot-notation': false,
      'boolean-negation': false,
    })
    .command(subcommand(setupCommand(context)))
    .command(subcommand(putCommand(context)))
    .command(subcommand(putAllCommand(context)))
    .command(subcommand(getCommand(context)))
    .command(subcommand(getAllCommand(context)))
    .command(subcommand(listCommand(context)))
    .command(subcommand(keysCommand(context)))
    .command(subcommand(deleteCommand(context)))
    .command(subcommand(runCommand(context)))
    .command(subcommand(checkCommand(context)))
    .command(subcommand(completionCommand(context, version)))
    .command(subcommand(helpCommand))
    .command(defaultRunCommand(context))
    .strict()
    .version('version', VERSION_OPTION.version.describe, version)
    .alias('version', VERSION_OPTION.version.alias)
    .help('help', HELP_OPTION.help.describe)
    .alias('help', HELP_OPTION.help.alias)
    .wrap(Math.min(100, process.stdout.columns || 100))
    .exitProcess(false)
    .fail((_message: string | undefined, error: Error | undefined) => {
      // A command's own failure passes through; yargs' (YError) and its validation messages,
      // several lines long and quoting any word, are replaced by one line of ours.
      if (error !== undefined && error.name !== 'YError') throw error;
      throw new UsageError(usageProblem(args));
    });
}

/** Parse and run `args` (`version`: credexec's own); resolves to true when help was shown (and nothing else done). */
export async function runYargsCli(
  args: readonly string[],
  context: CommandContext,
  version: string,
): Promise<boolean> {
  const marked = markStdinArguments(args);
  const help = helpArguments(marked);
  if (help !== undefined && 'problem' in help) throw new UsageError(help.problem);
  const line = help?.args ?? marked;
  let output: string | undefined;
  await buildParser(line, context, version).parseAsync(line, {}, (error, _argv, text) => {
    // yargs hands help and version text here instead of printing it.
    if (text && !error) output = text;
  });
  if (output === undefined) return false;
  requireOpenStdout(context.io);
  await writeStdout(context.io, `${output}\n`);
  return true;
}
