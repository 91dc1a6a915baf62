import type { Argv } from 'yargs';
import type { BackendOptions } from '../backends/backend.js';
import { parseBackendName } from '../backends/settings.js';
import { GLOBAL_OPTIONS, type OptionSpecs } from './option-specs.js';

/** Register option specs with yargs (global ones apply to every subcommand). */
export function withOptions<T>(yargs: Argv<T>, specs: OptionSpecs, global = false): Argv<T> {
  let result = yargs;
  for (const [name, spec] of Object.entries(specs)) {
    result = result.option(name, {
      type: spec.type,
      describe: spec.describe,
      global,
      ...(spec.alias === undefined ? {} : { alias: spec.alias }),
      ...(spec.array ? { array: true } : {}),
      ...(spec.choices === undefined ? {} : { choices: spec.choices }),
    });
  }
  return result;
}

export function withGlobalOptions<T>(yargs: Argv<T>): Argv<T> {
  return withOptions(yargs, GLOBAL_OPTIONS, true);
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
