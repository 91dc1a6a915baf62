import type { Argv, CommandModule } from 'yargs';
import { SpawnError, UsageError } from '../../errors.js';
import { dieOfSignal } from '../../launch/die-of-signal.js';
import { processLaunchIo, runLauncher, type LaunchOptions } from '../../launch/run-launcher.js';
import { DEFAULT_CONCURRENCY } from '../../resolve/resolve-entries.js';
import { contextFromWords, words, type CommandContext } from '../command-context.js';
import { ExitCode } from '../exit-codes.js';
import { withOptions, type GlobalArguments } from '../global-options.js';
import { LAUNCHER_OPTIONS, RUN_OPTIONS } from '../option-specs.js';
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

/**
 * The flags in use whose capability keeps credexec running beside the command, which `--exec`
 * refuses (src/exec/refusals.ts says why for each). None exists yet: `--watch` and `--redact`
 * add themselves here.
 */
function residentFlags(_argv: RunArguments): string[] {
  return [];
}

/** `--exec`: the exec room, or a UsageError where it cannot keep its promises. */
async function execModeFor(argv: RunArguments) {
  const { execMode } = await import('../../exec/exec-mode.js');
  return execMode(residentFlags(argv));
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
  // Loaded only when asked for: the launcher's usual path does without it.
  const exec = argv.exec === true ? await execModeFor(argv) : undefined;
  const options: LaunchOptions = {
    ...manifestOptionsFrom(argv, context),
    command,
    args,
    pristine: argv.pristine === true,
    ...(exec === undefined ? {} : { starter: exec.starter }),
  };
  try {
    const backend = await context.openBackend(argv);
    const outcome = await runLauncher(
      backend,
      options,
      processLaunchIo(context.env, exec?.stderr ?? (() => context.io.stderr)),
    );
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
        .example('$0 --exec -- node server.js', 'become node: same pid, credexec gone'),
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
