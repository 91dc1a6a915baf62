import type { Argv, CommandModule } from 'yargs';
import type { AuditRecorder } from '../../audit/audit-recorder.js';
import { SpawnError, UsageError } from '../../errors.js';
import { dieOfSignal } from '../../launch/die-of-signal.js';
import { delimiter, resolve } from 'node:path';
import type { Backend } from '../../backends/backend.js';
import { launchManifestPaths } from '../../launch/launch-manifest.js';
import {
  processLaunchIo,
  runLauncher,
  type LaunchIo,
  type LaunchOptions,
} from '../../launch/run-launcher.js';
import { loadManifestSettings } from '../../manifest/load-manifest.js';
import type { ManifestSettings } from '../../manifest/manifest-settings.js';
import { MANIFEST_ENV, manifestSources } from '../../manifest/manifest-sources.js';
import { DEFAULT_CONCURRENCY, type ResolveSource } from '../../resolve/resolve-entries.js';
import { parseDuration } from '../../util/duration.js';
import { contextFromWords, words, type CommandContext } from '../command-context.js';
import { ExitCode } from '../exit-codes.js';
import { withOptions, type GlobalArguments } from '../global-options.js';
import { processIo, STDIN_ARGUMENT } from '../io.js';
import { DEFAULT_FALLBACK_MAX_AGE, LAUNCHER_OPTIONS, RUN_OPTIONS } from '../option-specs.js';
import { reportError } from '../report-error.js';
import {
  redactingStarterFor,
  redactionFrom,
  type RedactionArguments,
} from '../redaction-options.js';
import { watchSettingsFrom, watchSupervisorFor, type WatchArguments } from '../watch-options.js';

export interface LauncherArguments extends GlobalArguments, RedactionArguments {
  readonly manifest?: string[] | undefined;
  readonly context?: string[] | undefined;
  readonly allowVar?: string[] | undefined;
  readonly concurrency?: string | undefined;
  readonly onChange?: string | undefined;
}

export interface RunArguments extends LauncherArguments, WatchArguments {
  readonly command?: string[] | undefined;
  readonly pristine?: boolean | undefined;
  readonly auditLog?: string | undefined;
  readonly fallback?: string | undefined;
  readonly fallbackMaxAge?: string | undefined;
  readonly exec?: boolean | undefined;
  readonly '--'?: string[] | undefined;
}

const MAX_CONCURRENCY = 1024;

/** `--concurrency`, else CREDEXEC_CONCURRENCY, else the default. */
export function concurrencyFrom(flag: string | undefined, env: string | undefined): number {
  const [text, source] =
    flag !== undefined ? [flag, '--concurrency'] : [env ?? '', 'CREDEXEC_CONCURRENCY'];
  if (text === '') return DEFAULT_CONCURRENCY;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < 1 || value > MAX_CONCURRENCY) {
    throw new UsageError(`${source} must be a whole number from 1 to ${MAX_CONCURRENCY}`);
  }
  return value;
}

export const AUDIT_LOG_ENV = 'CREDEXEC_AUDIT_LOG';

/** `--audit-log`, else CREDEXEC_AUDIT_LOG (empty: off); `undefined` when no audit log is kept. */
export function auditTargetFrom(flag: string | undefined, env: string | undefined) {
  if (flag === undefined) return env === '' ? undefined : env;
  // yargs hands a bare `-` over as its stdin marker.
  if (flag === STDIN_ARGUMENT) return '-';
  if (flag === '') throw new UsageError('--audit-log needs a PATH, or - for standard error');
  return flag;
}

/** The options `run` and `check` share. */
export function withLauncherOptions<T>(yargs: Argv<T>): Argv<T> {
  return withOptions(yargs, LAUNCHER_OPTIONS);
}

export function manifestOptionsFrom(
  argv: LauncherArguments,
  context: CommandContext,
  command: 'run' | 'check' = 'run',
) {
  return {
    manifests: words(argv.manifest),
    context: contextFromWords(words(argv.context), '--context value', `credexec ${command} --help`),
    allowVars: words(argv.allowVar),
    concurrency: concurrencyFrom(argv.concurrency, context.env.CREDEXEC_CONCURRENCY),
  };
}

/** Where the fallback file is and how old it may be (src/fallback). */
export interface FallbackSettings {
  readonly path: string;
  readonly maxAge: string;
  readonly maxAgeMs: number;
}

/**
 * `--fallback FILE` and `--fallback-max-age AGE`, each winning over the manifests' `"$credexec"`
 * settings `fallback` and `fallbackMaxAge`; undefined when neither names a file. A relative
 * `--fallback` is relative to the working directory, a manifest's to the manifest's directory.
 */
/** The `"$credexec"` settings of the JSON manifests `run` and `check` will read. */
export function manifestSettingsOf(
  argv: LauncherArguments,
  env: CommandContext['env'],
): Promise<ManifestSettings> {
  return loadManifestSettings(manifestSources(words(argv.manifest), env[MANIFEST_ENV], delimiter));
}

export function fallbackSettingsFrom(
  argv: RunArguments,
  manifest: ManifestSettings,
): FallbackSettings | undefined {
  if (argv.fallback === '') throw new UsageError('--fallback needs a file path');
  const flagAge =
    argv.fallbackMaxAge === undefined
      ? undefined
      : parseDuration(argv.fallbackMaxAge, '--fallback-max-age');
  const path = argv.fallback === undefined ? manifest.fallback : resolve(argv.fallback);
  if (path === undefined) {
    if (flagAge === undefined) return undefined;
    throw new UsageError(
      '--fallback-max-age needs a fallback file: --fallback FILE, or "fallback" in a JSON manifest\'s "$credexec" settings',
    );
  }
  if (flagAge !== undefined) return { path, maxAge: argv.fallbackMaxAge!, maxAgeMs: flagAge };
  if (manifest.fallbackMaxAge !== undefined)
    return { path, maxAge: manifest.fallbackMaxAge.text, maxAgeMs: manifest.fallbackMaxAge.ms };
  return {
    path,
    maxAge: DEFAULT_FALLBACK_MAX_AGE,
    maxAgeMs: parseDuration(DEFAULT_FALLBACK_MAX_AGE, '--fallback-max-age'),
  };
}

/** The backend, behind the fallback when one is set (its code loads only then). */
/** The backend, or (with `--fallback`) the backend behind its outage fallback, loaded only then. */
async function withFallbackIfAsked(
  backend: Backend,
  fallback: FallbackSettings | undefined,
  io: LaunchIo,
): Promise<ResolveSource> {
  if (fallback === undefined) return backend;
  const { withFallback } = await import('../../fallback/fallback-source.js');
  return withFallback(backend, { ...fallback, warn: io.warn });
}

/** Launcher failures are credexec's own (125) unless the command itself could not be run. */
export function launchExitCode(error: unknown): number {
  if (error instanceof SpawnError && error.reason === 'not-found')
    return ExitCode.COMMAND_NOT_FOUND;
  if (error instanceof SpawnError && error.reason === 'not-executable') {
    return ExitCode.COMMAND_NOT_EXECUTABLE;
  }
  return ExitCode.LAUNCH_FAILED;
}

/** The status credexec ends with when `error` stops it before the command starts. */
function notStartedExitCode(error: unknown): number {
  return error instanceof UsageError ? ExitCode.USAGE : launchExitCode(error);
}

/**
 * The audit log, when one is asked for: opened before anything is resolved, so that a log that
 * cannot be kept stops the launch (125) before a secret is read. Loaded only then.
 */
async function openAudit(
  context: CommandContext,
  argv: RunArguments,
  options: LaunchOptions,
): Promise<AuditRecorder | undefined> {
  const target = auditTargetFrom(argv.auditLog, context.env[AUDIT_LOG_ENV]);
  if (target === undefined) return undefined;
  const { openAuditRecorder } = await import('../../audit/audit-recorder.js');
  return openAuditRecorder(
    target,
    {
      command: options.command,
      manifests: launchManifestPaths(options, context.env),
      exitStatusOf: notStartedExitCode,
    },
    context.io === processIo ? undefined : context.io.stderr,
  );
}

/** Like any CLI error (CREDEXEC_DEBUG adds stacks), but the launcher's exit code is its own. */
export function reportLaunchError(context: CommandContext, error: unknown): void {
  reportError(context.io, context.env, error);
}

/**
 * `--exec`: the exec room, or a UsageError where it cannot keep its promises — among them the
 * capabilities given (`--redact`) that need credexec to stay.
 */
async function execModeFor(resident: readonly string[]) {
  const { execMode } = await import('../../exec/exec-mode.js');
  return execMode(resident);
}

/** The launcher behind `run`, the default command and the CLI's yargs-free fast path. */
export async function runLauncherCommand(
  context: CommandContext,
  argv: RunArguments,
): Promise<void> {
  const afterDashes = words(argv['--']);
  const [command, ...args] = afterDashes.length > 0 ? afterDashes : words(argv.command);
  if (command === undefined) {
    throw new UsageError(
      'nothing to run: use `credexec [run] [-m MANIFEST] -- CMD [ARGS…]` or a subcommand (see credexec --help)',
    );
  }
  const settings = await manifestSettingsOf(argv, context.env);
  const redaction = redactionFrom(argv, context.env, settings.redact);
  const watch = watchSettingsFrom(argv, settings, context.env);
  // The capabilities in use that keep credexec running beside the command, which --exec refuses.
  const resident = [
    ...(watch === undefined ? [] : ['--watch']),
    ...(redaction === undefined ? [] : ['--redact']),
  ];
  // Loaded only when asked for: the launcher's usual path does without it.
  const exec =
    argv.exec === true || settings.exec === true ? await execModeFor(resident) : undefined;
  const options: LaunchOptions = {
    ...manifestOptionsFrom(argv, context),
    command,
    args,
    pristine: argv.pristine === true,
    ...(exec !== undefined
      ? { starter: exec.starter }
      : redaction !== undefined
        ? { starter: await redactingStarterFor(redaction, context, watch !== undefined) }
        : {}),
  };
  const fallback = fallbackSettingsFrom(argv, settings);
  const io = processLaunchIo(context.env, exec?.stderr ?? (() => context.io.stderr));
  let audit: AuditRecorder | undefined;
  try {
    audit = await openAudit(context, argv, options);
    const backend = await context.openBackend(argv);
    audit?.useBackend(backend);
    const source = await withFallbackIfAsked(backend, fallback, io);
    // The watch polls and resolves through the store itself: a fallback copy is for starting.
    const supervisor =
      watch === undefined
        ? undefined
        : await watchSupervisorFor(watch, backend, io, options.concurrency ?? DEFAULT_CONCURRENCY);
    const outcome = await runLauncher(
      source,
      { ...options, observer: audit, ...(supervisor === undefined ? {} : { supervisor }) },
      io,
    );
    context.setExitCode(outcome.signal === undefined ? outcome.code : dieOfSignal(outcome.signal));
  } catch (error: unknown) {
    // What failed before the launcher ran (the backend could not be opened); the launcher
    // recorded its own failures already.
    audit?.failed({ error });
    if (error instanceof UsageError) throw error;
    reportLaunchError(context, error);
    context.setExitCode(launchExitCode(error));
  }
}

function builder<T>(yargs: Argv<T>): Argv<T> {
  return withOptions(withLauncherOptions(yargs), RUN_OPTIONS);
}

/** `credexec run [options] -- CMD ARGS…`. */
export function runCommand(context: CommandContext): CommandModule<GlobalArguments, RunArguments> {
  return {
    command: 'run [command..]',
    describe: "run a command with the manifest's secrets in its environment (all or nothing)",
    builder: (yargs) =>
      builder(yargs)
        .positional('command', { type: 'string', array: true, describe: 'CMD ARGS…' })
        .example('$0 -m app.env -- node server.js', "run node with app.env's secrets")
        .example('$0 run -m base.env -m prod.env -- ./start', 'two manifests; the later wins')
        .example('$0 --pristine -- ./job', 'the secrets and PATH, nothing else')
        .example(
          '$0 --fallback /var/lib/app/secrets.fallback -- ./server',
          'start from the items last read when the store is down',
        )
        .example('$0 --exec -- node server.js', 'become node: same pid, credexec gone')
        .example(
          '$0 --watch=30s -- node server.js',
          'restart node when a secret gets a new version (polled every 30 s)',
        ),
    handler: (argv) => runLauncherCommand(context, argv),
  };
}

/**
 * `credexec [options] -- CMD ARGS…`: the default command takes its command only after `--`, so
 * a mistyped subcommand is an error rather than a program to run.
 */
export function defaultRunCommand(
  context: CommandContext,
): CommandModule<GlobalArguments, RunArguments> {
  return {
    command: '$0',
    describe: false,
    builder,
    handler: (argv) => runLauncherCommand(context, argv),
  };
}
