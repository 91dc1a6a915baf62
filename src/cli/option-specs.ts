import { BACKEND_NAMES } from '../backends/backend.js';
import { DEFAULT_CONCURRENCY } from '../resolve/resolve-entries.js';

/** `--fallback-max-age` (or the manifest's `fallbackMaxAge`) when neither is given. */
export const DEFAULT_FALLBACK_MAX_AGE = '24h';

/**
 * Option definitions in one place, read both by yargs (every command, help text) and by the
 * launcher's fast path (`credexec -- CMD`), which parses them without loading yargs at all.
 */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly alias?: string;
  /** Repeatable: `-m a -m b`. */
  readonly array?: boolean;
  readonly choices?: readonly string[];
  readonly describe: string;
  /** yargs only (the launcher's fast path has no option with a default). */
  readonly default?: string;
  /** An option that cannot be given together with this one. */
  readonly conflicts?: string;
  /** Offered by shell completion, for an option without `choices` that still has known values. */
  readonly values?: readonly string[];
  /**
   * A string option whose value is optional and comes only after `=`: `--watch` or
   * `--watch=30s` (the launcher's fast path reads a bare one as `''`, like yargs).
   */
  readonly optionalValue?: boolean;
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

/** Accepted before or after any subcommand. */
export const GLOBAL_OPTIONS = {
  backend: {
    type: 'string',
    choices: BACKEND_NAMES,
    describe: 'where credentials live [env: CREDEXEC_BACKEND] (default: aws)',
  },
  region: { type: 'string', alias: 'r', describe: 'AWS region of the table (and of KMS)' },
  'kms-region': { type: 'string', describe: 'AWS region of KMS, when it differs' },
  profile: { type: 'string', alias: 'p', describe: 'AWS shared-config profile' },
  arn: { type: 'string', describe: 'IAM role ARN to assume' },
  table: {
    type: 'string',
    alias: 't',
    describe:
      'DynamoDB table / local store name [env: CREDSTASH_DEFAULT_TABLE] (default: credential-store)',
  },
  key: {
    type: 'string',
    alias: 'k',
    describe: 'KMS key id, alias or ARN for put (default: alias/credstash)',
  },
  'local-dir': {
    type: 'string',
    describe:
      'local backend directory [env: CREDEXEC_LOCAL_DIR] (default: $XDG_DATA_HOME/credexec)',
  },
} as const satisfies OptionSpecs;

/** What `run` and `check` share. */
export const LAUNCHER_OPTIONS = {
  manifest: {
    type: 'string',
    alias: 'm',
    array: true,
    describe:
      'manifest file, repeatable [env: CREDEXEC_MANIFEST, ":"-separated] (default: ./credexec.env)',
  },
  context: {
    type: 'string',
    array: true,
    describe: 'encryption context KEY=VALUE for entries without their own, repeatable',
  },
  'allow-var': {
    type: 'string',
    array: true,
    describe: 'allow a variable that changes how code loads (PATH, LD_PRELOAD, NODE_OPTIONS, …)',
  },
  concurrency: {
    type: 'string',
    describe: `decrypts in flight at most [env: CREDEXEC_CONCURRENCY] (default: ${DEFAULT_CONCURRENCY})`,
  },
  redact: {
    type: 'boolean',
    describe:
      "replace secret values in the command's output with <redacted:VAR> [env: CREDEXEC_REDACT=1]",
  },
  'redact-min-length': {
    type: 'string',
    describe: 'with --redact: values shorter than this many bytes are left alone (default: 4)',
  },
  'on-change': {
    type: 'string',
    values: ['restart', 'none'],
    describe:
      'with --watch: what a new version does to entries without an "onChange" of their own: restart (default), none, or signal:NAME ("file": true entries: rewrite the file, send NAME)',
  },
} as const satisfies OptionSpecs;

export const RUN_OPTIONS = {
  pristine: {
    type: 'boolean',
    describe: 'pass only the secrets and PATH to the command',
  },
  'audit-log': {
    type: 'string',
    describe:
      'append a JSON record of the run (no values, no arguments) to PATH, or - for stderr [env: CREDEXEC_AUDIT_LOG]',
  },
  fallback: {
    type: 'string',
    describe:
      'file of the encrypted items last read from the store, to start from when it is down or throttling',
  },
  'fallback-max-age': {
    type: 'string',
    describe: `how old the fallback may be, e.g. 24h or 7d (default: ${DEFAULT_FALLBACK_MAX_AGE})`,
  },
  watch: {
    type: 'string',
    optionalValue: true,
    describe:
      'keep the command on the latest secrets: poll their versions every INTERVAL (--watch=30s; default 60s, at least 5s) and apply changes (--on-change)',
  },
  'kill-signal': {
    type: 'string',
    describe: 'with --watch: the signal that stops the command for a restart (default: SIGTERM)',
  },
  'kill-timeout': {
    type: 'string',
    describe:
      'with --watch: how long a restart waits for the command to stop before SIGKILL (default: 10s)',
  },
  splay: {
    type: 'string',
    describe:
      'with --watch: wait a random time up to this before applying a change, so that a fleet does not restart at once (default: 0)',
  },
  exec: {
    type: 'boolean',
    describe:
      'become the command (execve: same pid, credexec gone) instead of running it as a child; Node >= 22.15, no "file": true entries',
  },
} as const satisfies OptionSpecs;

/** `check`'s own. */
export const CHECK_OPTIONS = {
  'watch-plan': {
    type: 'boolean',
    describe:
      'list which entries --watch would watch and what a change does to each, without reading the store',
  },
} as const satisfies OptionSpecs;

/** The trailing `K=V…` words of put, putall, get and getall. */
export const CONTEXT_POSITIONAL = {
  type: 'string',
  array: true,
  describe: 'encryption context KEY=VALUE…',
} as const;
