import { ManifestError } from '../errors.js';

export const DEFAULT_MANIFEST = './credexec.env';
export const MANIFEST_ENV = 'CREDEXEC_MANIFEST';

export interface ManifestSources {
  readonly paths: readonly string[];
  /** True when nothing named a manifest and the default is used. */
  readonly isDefault: boolean;
}

/**
 * Which manifests to read: `-m` flags win over `CREDEXEC_MANIFEST` (a list separated by the
 * platform's path delimiter, `:` on POSIX, like PATH), which wins over `./credexec.env`. Pure.
 */
export function manifestSources(
  flags: readonly string[],
  envValue: string | undefined,
  delimiter: string,
): ManifestSources {
  if (flags.length > 0) return { paths: flags, isDefault: false };
  const fromEnv = (envValue ?? '').split(delimiter).filter((path) => path !== '');
  if (fromEnv.length > 0) return { paths: fromEnv, isDefault: false };
  return { paths: [DEFAULT_MANIFEST], isDefault: true };
}

/** The default manifest is missing: refuse rather than silently run with no secrets at all. */
export function noManifestError(): ManifestError {
  return new ManifestError([
    {
      file: DEFAULT_MANIFEST,
      line: 0,
      message: `no manifest: ${DEFAULT_MANIFEST} does not exist (name one with -m FILE or ${MANIFEST_ENV}; an empty file runs the command with no secrets)`,
    },
  ]);
}
