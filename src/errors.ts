/**
 * Every failure credexec reports is one of these classes. Messages name the credential, version,
 * file or table involved and never contain a secret value. Only `src/cli` maps them to exit codes.
 */
export type ErrorCode =
  | 'USAGE'
  | 'NOT_FOUND'
  | 'INTEGRITY'
  | 'KEY_SERVICE'
  | 'STORE'
  | 'VERSION_EXISTS'
  | 'VERSION_LIMIT'
  | 'SETUP_REQUIRED'
  | 'MANIFEST'
  | 'RESOLVE'
  | 'SPAWN'
  | 'NOT_TEXT'
  | 'SECRET_FILE'
  | 'OUTPUT'
  | 'AUDIT_LOG'
  | 'FALLBACK';

export class CredexecError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Bad flags, arguments or input that the user can fix by calling differently (exit 2). */
export class UsageError extends CredexecError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('USAGE', message, options);
  }
}

export function describeCredential(name: string, version?: string): string {
  return version === undefined ? `"${name}"` : `"${name}" version ${version}`;
}

export class NotFoundError extends CredexecError {
  readonly credential: string;
  readonly version: string | undefined;

  constructor(name: string, version?: string, where?: string) {
    super(
      'NOT_FOUND',
      `credential ${describeCredential(name, version)} not found${where ? ` in ${where}` : ''}`,
    );
    this.credential = name;
    this.version = version;
  }
}

export class IntegrityError extends CredexecError {
  readonly credential: string;
  readonly version: string;

  constructor(name: string, version: string, reason: string) {
    super(
      'INTEGRITY',
      `integrity check failed for credential ${describeCredential(name, version)}: ${reason}`,
    );
    this.credential = name;
    this.version = version;
  }
}

/** The key service (KMS or the local keyring) refused or failed; `reason` says why. */
export type KeyServiceFailure =
  | 'invalid-ciphertext'
  | 'access-denied'
  | 'key-disabled'
  | 'key-not-found'
  | 'throttled'
  | 'unavailable'
  | 'invalid-request'
  /** The answer was not a well-formed answer of the operation (or larger than any real one). */
  | 'malformed-response';

export class KeyServiceError extends CredexecError {
  readonly reason: KeyServiceFailure;

  constructor(reason: KeyServiceFailure, message: string, options?: { cause?: unknown }) {
    super('KEY_SERVICE', message, options);
    this.reason = reason;
  }
}

/** A key-service failure while working on one credential version. */
export class CredentialKeyError extends CredexecError {
  readonly credential: string;
  readonly version: string | undefined;
  readonly reason: KeyServiceFailure;

  constructor(action: string, name: string, version: string | undefined, cause: KeyServiceError) {
    super(
      'KEY_SERVICE',
      `cannot ${action} credential ${describeCredential(name, version)}: ${cause.message}`,
      { cause },
    );
    this.credential = name;
    this.version = version;
    this.reason = cause.reason;
  }
}

/** Why a value cannot be turned into text. */
export type NotTextReason = 'nul' | 'invalid-utf8';

/**
 * A value that is not valid UTF-8 without NUL cannot become an environment variable or a line of
 * a text format (SPEC §6). Not an integrity failure: the stored bytes are intact, they are just
 * not text. `hint` says what to use instead (`"file": true`, `get -n`).
 */
export class NotTextError extends CredexecError {
  readonly credential: string;
  readonly version: string;
  readonly reason: NotTextReason;

  constructor(name: string, version: string, reason: NotTextReason, what: string, hint: string) {
    const problem = reason === 'nul' ? 'contains a NUL byte' : 'is not valid UTF-8';
    super(
      'NOT_TEXT',
      `credential ${describeCredential(name, version)} ${problem}, so it cannot be ${what}; ${hint}`,
    );
    this.credential = name;
    this.version = version;
    this.reason = reason;
  }
}

/**
 * credexec's own output could not be written. `errno` is the system's code (`EPIPE`: the reader
 * has gone; `ENOSPC`, `EIO`, …), or `EBADF` when standard output was closed before credexec ran.
 */
export class OutputError extends CredexecError {
  readonly errno: string;

  constructor(errno: string, options?: { cause?: unknown }) {
    super(
      'OUTPUT',
      errno === 'EBADF' ? 'standard output is closed' : `cannot write to standard output: ${errno}`,
      options,
    );
    this.errno = errno;
  }
}

/**
 * Why a store could not answer. `throttled`, `unavailable` (no answer: unreachable, timed out, a
 * 5xx, a file that cannot be read) and `malformed` (an answer that cannot be used: broken, cut
 * short, a corrupt store file) say nothing about the credentials. `access-denied`: the store
 * refused this caller (IAM, or a local file or directory that is not safely yours).
 * `credentials`: AWS did not accept the caller's credentials, or there were none. `failed`:
 * anything else.
 */
export type StoreFailure =
  'throttled' | 'unavailable' | 'malformed' | 'access-denied' | 'credentials' | 'failed';

export class StoreError extends CredexecError {
  readonly reason: StoreFailure;

  constructor(message: string, options?: { cause?: unknown; reason?: StoreFailure }) {
    super('STORE', message, options && 'cause' in options ? { cause: options.cause } : undefined);
    this.reason = options?.reason ?? 'failed';
  }
}

export class VersionExistsError extends CredexecError {
  readonly credential: string;
  readonly version: string;

  constructor(name: string, version: string) {
    super(
      'VERSION_EXISTS',
      `credential ${describeCredential(name, version)} already exists; versions are immutable (use -a to add the next version or -v to pick another)`,
    );
    this.credential = name;
    this.version = version;
  }
}

/**
 * `put -a` cannot go on: the latest version is already the largest number that fits the 19
 * digits credstash pads versions to. A state of the store, not a mistake in the command line.
 */
export class VersionLimitError extends CredexecError {
  readonly credential: string;
  readonly version: string;

  constructor(name: string, latest: string, width: number) {
    super(
      'VERSION_LIMIT',
      `cannot add a version to credential ${describeCredential(name)}: its latest version ${latest} is the largest credstash can store (${width} digits)`,
    );
    this.credential = name;
    this.version = latest;
  }
}

export class SetupRequiredError extends CredexecError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SETUP_REQUIRED', message, options);
  }
}

/**
 * A store failure (StoreError, SetupRequiredError) while working on one credential: the store's
 * message names the table or file and the cause, this one also the credential. Keeps the cause's
 * code (`STORE`, `SETUP_REQUIRED`).
 */
export class CredentialStoreError extends CredexecError {
  readonly credential: string;
  readonly version: string | undefined;

  constructor(
    action: string,
    name: string,
    version: string | undefined,
    cause: StoreError | SetupRequiredError,
  ) {
    super(
      cause.code,
      `cannot ${action} credential ${describeCredential(name, version)}: ${cause.message}`,
      { cause },
    );
    this.credential = name;
    this.version = version;
  }
}

/**
 * The store could not be read (an outage) and its fallback copy (`--fallback`) could not stand
 * in: missing, too old, corrupt, not safely yours, or without this entry. `problem` names the
 * file and says which; the store's failure is the cause and leads the message.
 */
export class FallbackError extends CredexecError {
  readonly problem: string;

  constructor(storeError: Error, problem: string) {
    super('FALLBACK', `${storeError.message}; ${problem}`, { cause: storeError });
    this.problem = problem;
  }
}

/** A `"file": true` entry's private file could not be created or written (full, read-only…). */
export class SecretFileError extends CredexecError {
  readonly variable: string;

  constructor(variable: string, directory: string, reason: string, options?: { cause?: unknown }) {
    super(
      'SECRET_FILE',
      `cannot write the secret file of ${variable} in ${directory}: ${reason}`,
      options,
    );
    this.variable = variable;
  }
}

/** The audit log asked for (`--audit-log`) cannot be opened or is unsafe to append to. */
export class AuditLogError extends CredexecError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('AUDIT_LOG', message, options);
  }
}

/** Narrow an unknown thrown value to a message without ever printing a value-bearing object. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

export interface CredentialFailure {
  readonly credential: string;
  readonly error: unknown;
}

/** Several credentials failed in one operation (getall, wildcard get); each is listed. */
export class MultipleFailuresError extends CredexecError {
  readonly failures: readonly CredentialFailure[];

  constructor(action: string, failures: readonly CredentialFailure[]) {
    const lines = failures.map(({ credential, error }) => `  ${credential}: ${messageOf(error)}`);
    super('RESOLVE', `${action} failed for ${failures.length} credential(s):\n${lines.join('\n')}`);
    this.failures = failures;
  }
}

/** One problem in a launcher manifest, located by file and 1-based line. */
export interface ManifestProblem {
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

/** A manifest could not be used; every problem found in every file is listed, one per line. */
export class ManifestError extends CredexecError {
  readonly problems: readonly ManifestProblem[];

  constructor(problems: readonly ManifestProblem[], options?: { cause?: unknown }) {
    const lines = problems.map(({ file, line, message }) =>
      line > 0 ? `${file}:${line}: ${message}` : `${file}: ${message}`,
    );
    super('MANIFEST', lines.join('\n'), options);
    this.problems = problems;
  }
}

/** One manifest entry the launcher could not resolve; `reason` never contains a value. */
export interface EntryFailure {
  readonly variable: string;
  /** `name` or `name@version` as referenced by the manifest. */
  readonly credential: string;
  readonly error: unknown;
}

/** The launcher's all-or-nothing resolution failed: nothing was started (SPEC §5). */
export class LaunchResolveError extends CredexecError {
  readonly failures: readonly EntryFailure[];

  constructor(failures: readonly EntryFailure[]) {
    const lines = failures.map(
      ({ variable, credential, error }) => `  ${variable}: ${credential} — ${messageOf(error)}`,
    );
    super(
      'RESOLVE',
      `${failures.length} secret(s) could not be resolved; nothing was started:\n${lines.join('\n')}`,
    );
    this.failures = failures;
  }
}

/**
 * Why the command could not be started: maps to exit 127, 126 or 125 in the CLI. `too-large`:
 * the arguments and environment exceed what the kernel takes (E2BIG); the command is fine.
 */
export type SpawnFailure = 'not-found' | 'not-executable' | 'too-large' | 'failed';

export class SpawnError extends CredexecError {
  readonly reason: SpawnFailure;

  constructor(reason: SpawnFailure, message: string, options?: { cause?: unknown }) {
    super('SPAWN', message, options);
    this.reason = reason;
  }
}
