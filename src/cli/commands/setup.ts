import type { CommandModule } from 'yargs';
import { parseContext } from '../../envelope/context.js';
import { UsageError } from '../../errors.js';
import { words, type CommandContext } from '../command-context.js';
import type { GlobalArguments } from '../global-options.js';
import { writeStdout } from '../output.js';

interface SetupArguments extends GlobalArguments {
  readonly tags?: string[] | undefined;
  readonly read?: number | undefined;
  readonly write?: number | undefined;
}

function capacity(value: number | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 1)
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
      yargs
        .option('tags', { type: 'string', array: true, describe: 'table tags as KEY=VALUE (aws)' })
        .option('read', {
          type: 'number',
          describe: 'provisioned read capacity (aws; default on-demand)',
        })
        .option('write', {
          type: 'number',
          describe: 'provisioned write capacity (aws; default on-demand)',
        }),
    handler: async (argv) => {
      const read = capacity(argv.read, '--read');
      const write = capacity(argv.write, '--write');
      if ((read === undefined) !== (write === undefined))
        throw new UsageError('--read and --write go together');
      const backend = await context.openBackend(argv);
      const result = await backend.setup({
        tags: parseContext(words(argv.tags)),
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
