import type { CommandModule } from 'yargs';
import type { OutputFormat } from '../../format/secrets-output.js';
import { getAllSecrets } from '../../secrets/read-secrets.js';
import { commandContext, words, type CommandContext } from '../command-context.js';
import { commandSpec, GETALL_OPTIONS, yargsCommand } from '../command-specs.js';
import { withOptions, type GlobalArguments } from '../global-options.js';
import { CONTEXT_POSITIONAL } from '../option-specs.js';
import { writeSecrets } from './get.js';
import { requireOpenStdout } from '../output.js';

interface GetAllArguments extends GlobalArguments {
  readonly context?: string[] | undefined;
  readonly version?: string | undefined;
  readonly format: OutputFormat;
}

export function getAllCommand(
  context: CommandContext,
): CommandModule<GlobalArguments, GetAllArguments> {
  return {
    command: yargsCommand(commandSpec('getall')!),
    describe: 'print the latest (or -v) version of every credential',
    builder: (yargs) =>
      withOptions(yargs.positional('context', CONTEXT_POSITIONAL), GETALL_OPTIONS)
        .example('$0 getall', 'every credential as a JSON object')
        .example('$0 getall env=prod -f yaml', 'those stored with that context, as YAML')
        .example('$0 getall -f dotenv > app.env && chmod 600 app.env', 'as KEY=VALUE lines'),
    handler: async (argv) => {
      const encryptionContext = commandContext('getall', words(argv.context));
      requireOpenStdout(context.io);
      const backend = await context.openBackend(argv);
      const values = await getAllSecrets(backend, {
        version: argv.version,
        context: encryptionContext,
      });
      await writeSecrets(context, values, argv.format, 'getall');
    },
  };
}
