import { readFileSync } from 'node:fs';
import { openBackend } from '../backends/open-backend.js';
import type { Environment } from '../backends/settings.js';
import { OutputError, UsageError } from '../errors.js';
import { dieOfSignal, signalExitCode } from '../launch/die-of-signal.js';
import type { CommandContext } from './command-context.js';
import { runLauncherCommand } from './commands/run.js';
import { ExitCode } from './exit-codes.js';
import { backendOptionsFrom } from './global-options.js';
import { processIo, type CliIo } from './io.js';
import { parseLaunchArguments } from './launch-arguments.js';
import { requireOpenStdout, writeStdout } from './output.js';
import { reportError } from './report-error.js';

/** Defined by scripts/bundle-cli.js in the bundled CLI; not defined under tsc or tsx. */
declare const CREDEXEC_VERSION: string | undefined;

/** The package version: built into the bundle, else read from package.json when asked for. */
export function packageVersion(): string {
  if (typeof CREDEXEC_VERSION === 'string') return CREDEXEC_VERSION;
  const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
  return (JSON.parse(text) as { version: string }).version;
}

/**
 * The reader of stdout has gone: end as `cat` does, killed by SIGPIPE, so that a shell sees 141
 * (or `set -o pipefail` ignores it as it would for cat). With injected streams there is no
 * process to kill: the status alone.
 */
function brokenPipe(io: CliIo): number {
  return io === processIo ? dieOfSignal('SIGPIPE') : signalExitCode('SIGPIPE');
}

/** Map a failure to the status SPEC §4 gives it; only the CLI decides exit codes. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof UsageError) return ExitCode.USAGE;
  return ExitCode.FAILURE;
}

export interface MainOptions {
  readonly io?: CliIo;
  readonly env?: Environment;
}

/** Run the CLI on `args` (without node and script) and return the exit status. */
export async function main(args: readonly string[], options: MainOptions = {}): Promise<number> {
  const io = options.io ?? processIo;
  const env = options.env ?? process.env;
  let exitCode: number = ExitCode.OK;
  const context: CommandContext = {
    io,
    env,
    openBackend: (argv) => openBackend(backendOptionsFrom(argv), env),
    setExitCode: (code) => {
      exitCode = code;
    },
  };
  try {
    if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
      requireOpenStdout(io);
      await writeStdout(io, `${packageVersion()}\n`);
      return ExitCode.OK;
    }
    // The launcher runs on every service start: its common form skips loading yargs.
    const launch = parseLaunchArguments(args);
    if (launch !== undefined) {
      await runLauncherCommand(context, launch);
      return exitCode;
    }
    const { runYargsCli } = await import('./yargs-cli.js');
    return (await runYargsCli(args, context, packageVersion())) ? ExitCode.OK : exitCode;
  } catch (error: unknown) {
    if (error instanceof OutputError && error.errno === 'EPIPE') return brokenPipe(io);
    reportError(io, env, error);
    return exitCodeFor(error);
  }
}
