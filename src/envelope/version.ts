import { describeCredential, UsageError, VersionLimitError } from '../errors.js';

/** credstash pads numeric versions to this many digits so that they sort as strings. */
export const VERSION_WIDTH = 19;

const NUMERIC = /^\d+$/;

export function isNumericVersion(version: string): boolean {
  return NUMERIC.test(version);
}

/** `1` → `0000000000000000001`; non-numeric versions are kept verbatim, as credstash does. */
export function padVersion(version: string): string {
  if (version === '') throw new UsageError('a version cannot be empty');
  if (!isNumericVersion(version)) return version;
  const digits = version.replace(/^0+(?=\d)/, '');
  if (digits.length > VERSION_WIDTH) {
    throw new UsageError(`version ${version} has more than ${VERSION_WIDTH} digits`);
  }
  return digits.padStart(VERSION_WIDTH, '0');
}

/** The version after `latest` (or the first one), for `put -a` on credential `name`. */
export function nextVersion(latest: string | undefined, name: string): string {
  if (latest === undefined) return padVersion('1');
  if (!isNumericVersion(latest)) {
    throw new UsageError(
      `cannot autoincrement credential ${describeCredential(name)}: the latest version "${latest}" is not a number (use -v to choose one)`,
    );
  }
  const next = (BigInt(latest) + 1n).toString();
  if (next.length > VERSION_WIDTH) throw new VersionLimitError(name, latest, VERSION_WIDTH);
  return padVersion(next);
}
