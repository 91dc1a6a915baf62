import type { Argv } from 'yargs';
import type { BackendOptions } from '../backends/backend.js';
import { parseBackendName } from '../backends/settings.js';
import { GLOBAL_OPTIONS, type OptionSpec, type OptionSpecs } from './option-specs.js';

type CamelCase<S extends string> = S extends `${infer Head}-${infer Tail}`
  ? `${Head}${Capitalize<CamelCase<Tail>>}`
  : S;

type OptionValue<S extends OptionSpec> = S extends { readonly type: 'boolean' }
  ? boolean
  : S extends { readonly array: true }
    ? string[]
    : S extends { readonly choices: readonly (infer Choice)[] }
      ? Choice
      : string;

/** What yargs hands a handler for `specs`: camelCase keys, absent unless given or defaulted. */
export type OptionValues<Specs extends OptionSpecs> = {
  readonly [K in keyof Specs & string as CamelCase<K>]: Specs[K] extends {
    readonly default: string;
  }
    ? OptionValue<Specs[K]>
    : OptionValue<Specs[K]> | undefined;
};

/** Register option specs with yargs (global ones apply to every subcommand). */
export function withOptions<T, Specs extends OptionSpecs>(
  yargs: Argv<T>,
  specs: Specs,
  global = false,
): Argv<T & OptionValues<Specs>> {
  let result: Argv<T> = yargs;
  for (const [name, spec] of Object.entries(specs)) {
    result = result.option(name, {
      type: spec.type,
      describe: spec.describe,
      global,
      ...(spec.alias === undefined ? {} : { alias: spec.alias }),
      ...(spec.array ? { array: true } : {}),
      ...(spec.choices === undefined ? {} : { choices: spec.choices }),
      ...(spec.default === undefined ? {} : { default: spec.default }),
    });
    if (spec.conflicts !== undefined) result = result.conflicts(name, spec.conflicts);
  }
  return result as Argv<T & OptionValues<Specs>>;
}

export function withGlobalOptions<T>(yargs: Argv<T>) {
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
