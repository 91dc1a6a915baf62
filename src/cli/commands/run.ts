import type { Argv, CommandModule } from 'yargs';
import { SpawnError, UsageError } from '../../errors.js';
import { dieOfSignal } from '../../launch/die-of-signal.js';
import { delimiter, resolve } from 'node:path';
import {
  processLaunchIo,
  runLauncher,
  type LaunchIo,
  type LaunchOptions,
} from '../../launch/run-launcher.js';
import { loadManifestSettings } from '../../manifest/load-manifest.js';
import { MANIFEST_ENV, manifestSources } from '../../manifest/manifest-sources.js';
import { DEFAULT_CONCURRENCY, type ResolveSource } from '../../resolve/resolve-entries.js';
import { parseDuration } from '../../util/duration.js';
import { contextFromWords, words, type CommandContext } from '../command-context.js';
import { ExitCode } from '../exit-codes.js';
import { withOptions, type GlobalArguments } from '../global-options.js';
import { DEFAULT_FALLBACK_MAX_AGE, LAUNCHER_OPTIONS, RUN_OPTIONS } from '../option-specs.js';
import { reportError } from '../report-error.js';

export interface LauncherArguments extends GlobalArguments {
  readonly manifest?: string[] | undefined;
  readonly context?: string[] | undefined;
  readonly allowVar?: string[] | undefined;
  readonly concurrency?: string | undefined;
}

export interface RunArguments extends LauncherArguments {
  readonly command?: string[] | undefined;
  readonly pristine?: boolean | undefined;
  readonly fallback?: string | undefined;
  readonly fallbackMaxAge?: string | undefined;
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
export async function fallbackSettingsFrom(
  argv: RunArguments,
  env: CommandContext['env'],
): Promise<FallbackSettings | undefined> {
  if (argv.fallback === '') throw new UsageError('--fallback needs a file path');
  const flagAge =
    argv.fallbackMaxAge === undefined
      ? undefined
      : parseDuration(argv.fallbackMaxAge, '--fallback-max-age');
  const manifest = await loadManifestSettings(
    manifestSources(words(argv.manifest), env[MANIFEST_ENV], delimiter),
  );
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
async function resolveSource(
  context: CommandContext,
  argv: RunArguments,
  fallback: FallbackSettings | undefined,
  io: LaunchIo,
): Promise<ResolveSource> {
  const backend = await context.openBackend(argv);
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

/** Like any CLI error (CREDEXEC_DEBUG adds stacks), but the launcher's exit code is its own. */
export function reportLaunchError(context: CommandContext, error: unknown): void {
  reportError(context.io, context.env, error);
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
  const options: LaunchOptions = {
    ...manifestOptionsFrom(argv, context),
    command,
    args,
    pristine: argv.pristine === true,
  };
  const fallback = await fallbackSettingsFrom(argv, context.env);
  const io = processLaunchIo(context.env, () => context.io.stderr);
  try {
    const source = await resolveSource(context, argv, fallback, io);
    const outcome = await runLauncher(source, options, io);
    context.setExitCode(outcome.signal === undefined ? outcome.code : dieOfSignal(outcome.signal));
  } catch (error: unknown) {
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
