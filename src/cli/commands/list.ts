import type { CommandModule } from 'yargs';
import { listNames, listSecrets } from '../../secrets/manage-secrets.js';
import type { CommandContext } from '../command-context.js';
import type { GlobalArguments } from '../global-options.js';
import { requireOpenStdout, writeStdout } from '../output.js';

export function listCommand(
  context: CommandContext,
): CommandModule<GlobalArguments, GlobalArguments> {
  return {
    command: 'list',
    describe: 'list every credential version and comment (never values)',
    handler: async (argv) => {
      requireOpenStdout(context.io);
      const summaries = await listSecrets(await context.openBackend(argv));
      const width = Math.max(0, ...summaries.map(({ name }) => name.length));
      const lines = summaries.map(
        ({ name, version, comment }) =>
          `${name.padEnd(width)} -- version ${version} -- comment ${comment ?? ''}\n`,
      );
      await writeStdout(context.io, lines.join(''));
    },
  };
}

export function keysCommand(
  context: CommandContext,
): CommandModule<GlobalArguments, GlobalArguments> {
  return {
    command: 'keys',
    describe: 'list credential names',
    handler: async (argv) => {
      requireOpenStdout(context.io);
      const names = await listNames(await context.openBackend(argv));
      await writeStdout(context.io, names.map((name) => `${name}\n`).join(''));
    },
  };
}
