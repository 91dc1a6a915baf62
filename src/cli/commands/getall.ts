import type { CommandModule } from 'yargs';
import { parseContext } from '../../envelope/context.js';
import type { OutputFormat } from '../../format/secrets-output.js';
import { getAllSecrets } from '../../secrets/read-secrets.js';
import { words, type CommandContext } from '../command-context.js';
import type { GlobalArguments } from '../global-options.js';
import { formatOption, writeSecrets } from './get.js';
import { CONTEXT_POSITIONAL } from '../option-specs.js';
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
    command: 'getall [context..]',
    describe: 'print the latest (or -v) version of every credential',
    builder: (yargs) =>
      yargs
        .positional('context', CONTEXT_POSITIONAL)
        .option('version', {
          alias: 'v',
          type: 'string',
          describe: 'version to read of each (default: latest)',
        })
        .option('format', formatOption()),
    handler: async (argv) => {
      const encryptionContext = parseContext(words(argv.context));
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
