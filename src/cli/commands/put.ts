import type { CommandModule } from 'yargs';
import { parseContext } from '../../envelope/context.js';
import { DIGEST_NAMES, parseDigestName } from '../../envelope/digests.js';
import { UsageError } from '../../errors.js';
import { putSecret } from '../../secrets/put-secret.js';
import { words, type CommandContext } from '../command-context.js';
import type { GlobalArguments } from '../global-options.js';
import { promptHidden, readValueArgument } from '../io.js';

interface PutArguments extends GlobalArguments {
  readonly name: string;
  readonly value?: string | undefined;
  readonly context?: string[] | undefined;
  readonly version?: string | undefined;
  readonly autoversion?: boolean | undefined;
  readonly digest: string;
  readonly comment?: string | undefined;
  readonly prompt?: boolean | undefined;
}

export function putCommand(context: CommandContext): CommandModule<GlobalArguments, PutArguments> {
  return {
    command: 'put <name> [value] [context..]',
    describe: 'store a new version of a credential (value: literal, - for stdin, @FILE, or -P)',
    builder: (yargs) =>
      yargs
        .positional('name', { type: 'string', demandOption: true, describe: 'credential name' })
        .positional('value', { type: 'string', describe: 'the value, - (stdin) or @FILE' })
        .positional('context', {
          type: 'string',
          array: true,
          describe: 'encryption context KEY=VALUE…',
        })
        .option('version', { alias: 'v', type: 'string', describe: 'version to store (default 1)' })
        .option('autoversion', {
          alias: 'a',
          type: 'boolean',
          describe: 'store as the latest version + 1',
        })
        .option('digest', {
          alias: 'd',
          type: 'string',
          default: 'SHA256',
          describe: `HMAC digest (${DIGEST_NAMES.join(', ')})`,
        })
        .option('comment', {
          alias: 'c',
          type: 'string',
          describe: 'comment stored with the version',
        })
        .option('prompt', {
          alias: 'P',
          type: 'boolean',
          describe: 'prompt for the value without echo',
        })
        .conflicts('version', 'autoversion'),
    handler: async (argv) => {
      // With -P there is no value argument, so every word after the name is context.
      const contextWords = argv.prompt
        ? [...words(argv.value), ...words(argv.context)]
        : words(argv.context);
      if (!argv.prompt && argv.value === undefined) {
        throw new UsageError(
          'put needs a value: give it literally, as - (stdin), as @FILE, or use -P',
        );
      }
      const encryptionContext = parseContext(contextWords);
      const digest = parseDigestName(argv.digest);
      const backend = await context.openBackend(argv);
      const value = argv.prompt
        ? await promptHidden(`value for ${argv.name}`, context.io)
        : await readValueArgument(argv.value!, context.io);
      try {
        const stored = await putSecret(backend, {
          name: argv.name,
          value,
          context: encryptionContext,
          version: argv.version,
          autoversion: argv.autoversion ?? false,
          digest,
          comment: argv.comment,
        });
        context.io.stdout.write(`${stored.name} has been stored as version ${stored.version}\n`);
      } finally {
        value.fill(0);
      }
    },
  };
}
