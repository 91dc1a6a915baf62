import type { CommandModule } from 'yargs';
import type { CommandContext } from '../command-context.js';
import { commandSpec, SHELLS, yargsCommand } from '../command-specs.js';
import { completionScript, type Shell } from '../completion.js';
import type { GlobalArguments } from '../global-options.js';
import { requireOpenStdout, writeStdout } from '../output.js';

interface CompletionArguments extends GlobalArguments {
  readonly shell?: Shell | undefined;
}

/** `credexec completion [bash|zsh]`: print the completion script for the shell. */
export function completionCommand(
  context: CommandContext,
  version: string,
): CommandModule<GlobalArguments, CompletionArguments> {
  return {
    command: yargsCommand(commandSpec('completion')!),
    describe: 'print a bash or zsh completion script (see the README to install it)',
    builder: (yargs) =>
      yargs
        .positional('shell', { type: 'string', choices: SHELLS, describe: 'bash (default) or zsh' })
        .example('source <(credexec completion)', 'completion in this bash; add it to ~/.bashrc')
        .example('source <(credexec completion zsh)', 'the same for zsh, in ~/.zshrc'),
    handler: async (argv) => {
      requireOpenStdout(context.io);
      await writeStdout(context.io, completionScript(argv.shell ?? 'bash', version));
    },
  };
}
