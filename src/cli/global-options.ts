import type { Argv } from 'yargs';
import { BACKEND_NAMES, type BackendOptions } from '../backends/backend.js';
import { parseBackendName } from '../backends/settings.js';

/** Options accepted before or after any subcommand. */
export function withGlobalOptions<T>(yargs: Argv<T>) {
  return yargs
    .option('backend', {
      type: 'string',
      choices: BACKEND_NAMES,
      describe: 'where credentials live [env: CREDEXEC_BACKEND] (default: aws)',
      global: true,
    })
    .option('region', {
      alias: 'r',
      type: 'string',
      describe: 'AWS region of the table (and of KMS)',
      global: true,
    })
    .option('kms-region', {
      type: 'string',
      describe: 'AWS region of KMS, when it differs',
      global: true,
    })
    .option('profile', {
      alias: 'p',
      type: 'string',
      describe: 'AWS shared-config profile',
      global: true,
    })
    .option('arn', { type: 'string', describe: 'IAM role ARN to assume', global: true })
    .option('table', {
      alias: 't',
      type: 'string',
      describe:
        'DynamoDB table / local store name [env: CREDSTASH_DEFAULT_TABLE] (default: credential-store)',
      global: true,
    })
    .option('key', {
      alias: 'k',
      type: 'string',
      describe: 'KMS key id, alias or ARN for put (default: alias/credstash)',
      global: true,
    })
    .option('local-dir', {
      type: 'string',
      describe:
        'local backend directory [env: CREDEXEC_LOCAL_DIR] (default: $XDG_DATA_HOME/credexec)',
      global: true,
    });
}

export interface GlobalArguments {
  readonly backend?: string | undefined;
  readonly region?: string | undefined;
  readonly kmsRegion?: string | undefined;
  readonly profile?: string | undefined;
  readonly arn?: string | undefined;
  readonly table?: string | undefined;
  readonly key?: string | undefined;
  readonly localDir?: string | undefined;
}

export function backendOptionsFrom(argv: GlobalArguments): BackendOptions {
  return {
    backend: argv.backend === undefined ? undefined : parseBackendName(argv.backend),
    region: argv.region,
    kmsRegion: argv.kmsRegion,
    profile: argv.profile,
    roleArn: argv.arn,
    table: argv.table,
    keyId: argv.key,
    localDir: argv.localDir,
  };
}
