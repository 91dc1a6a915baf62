import type { CommandModule } from 'yargs';
import { UsageError } from '../../errors.js';
import { putSecret, validateName } from '../../secrets/put-secret.js';
import { words, type CommandContext } from '../command-context.js';
import { commandSpec, PROMPT_OPTION, yargsCommand } from '../command-specs.js';
import { withOptions, type GlobalArguments } from '../global-options.js';
import { writeStdout } from '../output.js';
import { promptHidden, readValueArgument } from '../io.js';
import { putSettingsFrom, withPutOptions, type PutOptionArguments } from './put-options.js';

interface PutArguments extends PutOptionArguments {
  readonly name: string;
  readonly value?: string | undefined;
  readonly prompt?: boolean | undefined;
}

export function putCommand(context: CommandContext): CommandModule<GlobalArguments, PutArguments> {
  return {
    command: yargsCommand(commandSpec('put')!),
    describe: 'store a new version of a credential (value: literal, - for stdin, @FILE, or -P)',
    builder: (yargs) =>
      withOptions(
        withPutOptions(
          yargs
            .positional('name', { type: 'string', demandOption: true, describe: 'credential name' })
            .positional('value', { type: 'string', describe: 'the value, - (stdin) or @FILE' }),
        ),
        PROMPT_OPTION,
      )
        .example('$0 put db.password -P', 'type the value at a prompt, without echo')
        .example('$0 put tls.key @server.key', "store a file's exact bytes")
        .example('$0 put api.token - env=prod < token.txt', 'from stdin, with encryption context')
        .example('$0 put db.password @new-password.txt -a', 'store it as the next version'),
    handler: async (argv) => {
      // Before a value is read or prompted for.
      validateName(argv.name);
      // With -P there is no value argument, so every word after the name is context.
      const settings = putSettingsFrom(
        'put',
        argv,
        argv.prompt ? [...words(argv.value), ...words(argv.context)] : words(argv.context),
      );
      if (!argv.prompt && argv.value === undefined) {
        throw new UsageError(
          `put: missing value (credexec ${commandSpec('put')!.synopsis}, or -P to prompt)`,
        );
      }
      const backend = await context.openBackend(argv);
      const value = argv.prompt
        ? await promptHidden(`value for ${argv.name}`, context.io)
        : await readValueArgument(argv.value!, context.io);
      try {
        const stored = await putSecret(backend, { ...settings, name: argv.name, value });
        await writeStdout(
          context.io,
          `${stored.name} has been stored as version ${stored.version}\n`,
        );
      } finally {
        value.fill(0);
      }
    },
  };
}
