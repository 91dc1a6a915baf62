import type { CommandModule } from 'yargs';
import { UsageError } from '../../errors.js';
import { contextFromWords, words, type CommandContext } from '../command-context.js';
import { SETUP_OPTIONS } from '../command-specs.js';
import { withOptions, type GlobalArguments } from '../global-options.js';
import { writeStdout } from '../output.js';

interface SetupArguments extends GlobalArguments {
  readonly tags?: string[] | undefined;
  readonly read?: string | undefined;
  readonly write?: string | undefined;
}

function capacity(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isInteger(value) || value < 1)
    throw new UsageError(`${flag} must be a positive whole number`);
  return value;
}

export function setupCommand(
  context: CommandContext,
): CommandModule<GlobalArguments, SetupArguments> {
  return {
    command: 'setup',
    describe:
      'create the credential store (and, for the local backend, the master key); idempotent',
    builder: (yargs) =>
      withOptions(yargs, SETUP_OPTIONS)
        .example('$0 --backend local setup', 'create the local master key and store')
        .example('$0 setup -r eu-west-1 --tags team=web', 'create the DynamoDB table, tagged'),
    handler: async (argv) => {
      const read = capacity(argv.read, '--read');
      const write = capacity(argv.write, '--write');
      if ((read === undefined) !== (write === undefined))
        throw new UsageError('--read and --write go together');
      const backend = await context.openBackend(argv);
      const result = await backend.setup({
        tags: contextFromWords(words(argv.tags), '--tags value', 'credexec setup --help'),
        ...(read === undefined ? {} : { readCapacity: read }),
        ...(write === undefined ? {} : { writeCapacity: write }),
      });
      const lines =
        result.created.length === 0
          ? [`${result.description} is already set up; nothing to do`]
          : result.created.map((what) => `created ${what}`);
      await writeStdout(context.io, `${lines.join('\n')}\n`);
    },
  };
}
