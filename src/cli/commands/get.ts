import type { CommandModule } from 'yargs';
import { MultipleFailuresError, type CredentialFailure } from '../../errors.js';
import {
  formatSecrets,
  type OutputFormat,
  type SecretEntries,
} from '../../format/secrets-output.js';
import { getAllSecrets, getSecret, type SecretVersion } from '../../secrets/read-secrets.js';
import { valueAsText } from '../../secrets/value-text.js';
import { hasWildcard } from '../../secrets/wildcard.js';
import { commandContext, words, type CommandContext } from '../command-context.js';
import { commandSpec, GET_OPTIONS, yargsCommand } from '../command-specs.js';
import { withOptions, type GlobalArguments } from '../global-options.js';
import { CONTEXT_POSITIONAL } from '../option-specs.js';
import { requireOpenStdout, writeStdout } from '../output.js';

interface GetArguments extends GlobalArguments {
  readonly name: string;
  readonly context?: string[] | undefined;
  readonly version?: string | undefined;
  readonly noline?: boolean | undefined;
  readonly format: OutputFormat;
}

/** Turn each value into text for `format`, or fail naming every credential that is not text. */
function textEntries(
  values: ReadonlyMap<string, SecretVersion>,
  format: OutputFormat,
  action: string,
): SecretEntries {
  const use = { what: `printed as ${format}`, hint: 'use get -n, which prints its exact bytes' };
  const entries: (readonly [string, string])[] = [];
  const failures: CredentialFailure[] = [];
  for (const secret of values.values()) {
    try {
      entries.push([secret.name, valueAsText(secret.value, secret, use)]);
    } catch (error: unknown) {
      failures.push({ credential: secret.name, error });
    }
  }
  if (failures.length === 1) throw failures[0]!.error;
  if (failures.length > 1) throw new MultipleFailuresError(action, failures);
  return entries;
}

/** Decode, format, write, and wipe the plaintext buffers once the write has completed. */
export async function writeSecrets(
  context: CommandContext,
  values: ReadonlyMap<string, SecretVersion>,
  format: OutputFormat,
  action: string,
): Promise<void> {
  try {
    const text = Buffer.from(formatSecrets(textEntries(values, format, action), format), 'utf8');
    try {
      await writeStdout(context.io, text);
    } finally {
      text.fill(0);
    }
  } finally {
    for (const { value } of values.values()) value.fill(0);
  }
}

export function getCommand(context: CommandContext): CommandModule<GlobalArguments, GetArguments> {
  return {
    command: yargsCommand(commandSpec('get')!),
    describe: 'print a credential (a * in NAME prints every match in --format)',
    builder: (yargs) =>
      withOptions(
        yargs
          .positional('name', {
            type: 'string',
            demandOption: true,
            describe: 'credential name; * is a wildcard',
          })
          .positional('context', CONTEXT_POSITIONAL),
        GET_OPTIONS,
      )
        .example('$0 get db.password', 'print the latest version and a newline')
        .example('$0 get -n tls.key > tls.key', 'save the exact bytes, whatever they are')
        .example('$0 get db.password -v 3 env=prod', 'version 3, stored with that context')
        .example("$0 get 'app.*' -f dotenv", 'every credential whose name starts with app.'),
    handler: async (argv) => {
      const encryptionContext = commandContext('get', words(argv.context));
      requireOpenStdout(context.io);
      const backend = await context.openBackend(argv);
      if (hasWildcard(argv.name)) {
        const values = await getAllSecrets(backend, {
          pattern: argv.name,
          version: argv.version,
          context: encryptionContext,
        });
        await writeSecrets(context, values, argv.format, `get ${argv.name}`);
        return;
      }
      // The value's own bytes, whatever they are: `get` is not a text format.
      const value = await getSecret(backend, {
        name: argv.name,
        version: argv.version,
        context: encryptionContext,
      });
      try {
        await writeStdout(context.io, value, argv.noline ? '' : '\n');
      } finally {
        value.fill(0);
      }
    },
  };
}
