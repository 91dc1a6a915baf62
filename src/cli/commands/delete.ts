import type { CommandModule } from 'yargs';
import { deleteSecrets } from '../../secrets/manage-secrets.js';
import type { CommandContext } from '../command-context.js';
import { commandSpec, DELETE_OPTIONS, yargsCommand } from '../command-specs.js';
import { withOptions, type GlobalArguments } from '../global-options.js';
import { writeStdout } from '../output.js';

interface DeleteArguments extends GlobalArguments {
  readonly name: string;
  readonly version?: string | undefined;
}

export function deleteCommand(
  context: CommandContext,
): CommandModule<GlobalArguments, DeleteArguments> {
  return {
    command: yargsCommand(commandSpec('delete')!),
    describe: 'delete every version of a credential (or just -v VERSION)',
    builder: (yargs) =>
      withOptions(
        yargs.positional('name', {
          type: 'string',
          demandOption: true,
          describe: 'credential name',
        }),
        DELETE_OPTIONS,
      ),
    handler: async (argv) => {
      const deleted = await deleteSecrets(await context.openBackend(argv), {
        name: argv.name,
        version: argv.version,
      });
      await writeStdout(
        context.io,
        deleted.map(({ name, version }) => `Deleting ${name} -- version ${version}\n`).join(''),
      );
    },
  };
}
