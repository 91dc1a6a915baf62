import type { CommandModule } from 'yargs';
import { parseContext } from '../../envelope/context.js';
import { MultipleFailuresError, type CredentialFailure } from '../../errors.js';
import {
  formatSecrets,
  OUTPUT_FORMATS,
  type OutputFormat,
  type SecretEntries,
} from '../../format/secrets-output.js';
import { getAllSecrets, getSecret, type SecretVersion } from '../../secrets/read-secrets.js';
import { valueAsText } from '../../secrets/value-text.js';
import { hasWildcard } from '../../secrets/wildcard.js';
import { words, type CommandContext } from '../command-context.js';
import type { GlobalArguments } from '../global-options.js';
import { CONTEXT_POSITIONAL } from '../option-specs.js';
import { requireOpenStdout, writeStdout } from '../output.js';

interface GetArguments extends GlobalArguments {
  readonly name: string;
  readonly context?: string[] | undefined;
  readonly version?: string | undefined;
  readonly noline?: boolean | undefined;
  readonly format: OutputFormat;
}

export function formatOption() {
  return {
    alias: 'f',
    choices: OUTPUT_FORMATS,
    default: 'json' as OutputFormat,
    describe: 'output format for several credentials',
  } as const;
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
    command: 'get <name> [context..]',
    describe: 'print a credential (a * in NAME prints every match in --format)',
    builder: (yargs) =>
      yargs
        .positional('name', {
          type: 'string',
          demandOption: true,
          describe: 'credential name; * is a wildcard',
        })
        .positional('context', CONTEXT_POSITIONAL)
        .option('version', {
          alias: 'v',
          type: 'string',
          describe: 'version to read (default: latest)',
        })
        .option('noline', { alias: 'n', type: 'boolean', describe: 'no newline after the value' })
        .option('format', formatOption()),
    handler: async (argv) => {
      const encryptionContext = parseContext(words(argv.context));
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
