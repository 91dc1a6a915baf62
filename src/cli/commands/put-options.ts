import type { Argv } from 'yargs';
import { parseDigestName } from '../../envelope/digests.js';
import type { PutInput } from '../../secrets/put-secret.js';
import { commandContext, words } from '../command-context.js';
import { PUT_OPTIONS } from '../command-specs.js';
import { withOptions, type GlobalArguments } from '../global-options.js';
import { CONTEXT_POSITIONAL } from '../option-specs.js';

/** What `put` and `putall` share: context words and the version, digest and comment flags. */
export interface PutOptionArguments extends GlobalArguments {
  readonly context?: string[] | undefined;
  readonly version?: string | undefined;
  readonly autoversion?: boolean | undefined;
  readonly digest: string;
  readonly comment?: string | undefined;
}

export function withPutOptions<T>(yargs: Argv<T>) {
  return withOptions(yargs.positional('context', CONTEXT_POSITIONAL), PUT_OPTIONS);
}

/** Everything of a PutInput but the name and value, validated before anything is read or sent. */
export function putSettingsFrom(
  command: 'put' | 'putall',
  argv: PutOptionArguments,
  contextWords = words(argv.context),
): Omit<PutInput, 'name' | 'value'> {
  return {
    context: commandContext(command, contextWords),
    version: argv.version,
    autoversion: argv.autoversion ?? false,
    digest: parseDigestName(argv.digest),
    comment: argv.comment,
  };
}
