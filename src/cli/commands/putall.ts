import type { CommandModule } from 'yargs';
import { MultipleFailuresError, UsageError, type CredentialFailure } from '../../errors.js';
import { credentialNameProblem } from '../../secrets/credential-name.js';
import { putSecret } from '../../secrets/put-secret.js';
import type { CommandContext } from '../command-context.js';
import { commandSpec, yargsCommand } from '../command-specs.js';
import type { GlobalArguments } from '../global-options.js';
import { writeStdout } from '../output.js';
import { readValueArgument } from '../io.js';
import { putSettingsFrom, withPutOptions, type PutOptionArguments } from './put-options.js';

interface PutAllArguments extends PutOptionArguments {
  readonly credentials: string;
}

function parseCredentials(text: string): [string, string][] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new UsageError(
      'putall expects a JSON object of name → value (the input is not valid JSON)',
    );
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new UsageError('putall expects a JSON object of name → value');
  }
  const entries = Object.entries(data);
  for (const [name, value] of entries) {
    const problem = credentialNameProblem(name);
    if (problem !== undefined) throw new UsageError(`putall: ${problem}`);
    if (typeof value !== 'string')
      throw new UsageError(`putall: the value of "${name}" must be a string`);
  }
  return entries as [string, string][];
}

export function putAllCommand(
  context: CommandContext,
): CommandModule<GlobalArguments, PutAllArguments> {
  return {
    command: yargsCommand(commandSpec('putall')!),
    describe:
      'store several credentials from a JSON object {"name": "value"} (literal, - or @FILE)',
    builder: (yargs) =>
      withPutOptions(
        yargs.positional('credentials', {
          type: 'string',
          demandOption: true,
          describe: 'JSON, - (stdin) or @FILE',
        }),
      ).example('$0 putall @credentials.json -a', 'a new version of each name in the file'),
    handler: async (argv) => {
      const settings = putSettingsFrom('putall', argv);
      const input = await readValueArgument(argv.credentials, context.io);
      const credentials = parseCredentials(input.toString('utf8'));
      input.fill(0);
      const backend = await context.openBackend(argv);
      const failures: CredentialFailure[] = [];
      const lines: string[] = [];
      // One after another, so that a failure is reported against the right name and output order is stable.
      for (const [name, value] of credentials) {
        try {
          const stored = await putSecret(backend, { ...settings, name, value });
          lines.push(`${stored.name} has been stored as version ${stored.version}\n`);
        } catch (error: unknown) {
          failures.push({ credential: name, error });
        }
      }
      // Printed once everything is stored: a reader that goes away early stops no put.
      await writeStdout(context.io, lines.join(''));
      if (failures.length > 0) throw new MultipleFailuresError('putall', failures);
    },
  };
}
