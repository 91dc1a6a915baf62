import type { Argv } from 'yargs';
import { parseContext } from '../../envelope/context.js';
import { DIGEST_NAMES, parseDigestName } from '../../envelope/digests.js';
import type { PutInput } from '../../secrets/put-secret.js';
import { words } from '../command-context.js';
import type { GlobalArguments } from '../global-options.js';
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
  return yargs
    .positional('context', CONTEXT_POSITIONAL)
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
    .option('comment', { alias: 'c', type: 'string', describe: 'comment stored with the version' })
    .conflicts('version', 'autoversion');
}

/** Everything of a PutInput but the name and value, validated before anything is read or sent. */
export function putSettingsFrom(
  argv: PutOptionArguments,
  contextWords = words(argv.context),
): Omit<PutInput, 'name' | 'value'> {
  return {
    context: parseContext(contextWords),
    version: argv.version,
    autoversion: argv.autoversion ?? false,
    digest: parseDigestName(argv.digest),
    comment: argv.comment,
  };
}
