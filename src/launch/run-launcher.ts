import { entryValues, wipeEntryValues, type EntryValue } from '../resolve/entry-values.js';
import {
  DEFAULT_CONCURRENCY,
  resolveEntries,
  wipeResolutions,
  type ResolveSource,
} from '../resolve/resolve-entries.js';
import type { Environment } from './child-env.js';
import { buildEnvironment, resolvedVersions, startedSecrets } from './child-values.js';
import { CommandRun } from './command-run.js';
import { loadLaunchManifest, type ManifestOptions } from './launch-manifest.js';
import { observedEntries, type LaunchObserver } from './launch-observer.js';
import { SecretFiles, secretFilesBase, sweepStaleSecretDirs } from './secret-files.js';
import {
  SignalRelay,
  stopsResolution,
  type ForwardedSignal,
  type SignalSource,
} from './signal-relay.js';
import { spawnStarter, type ChildStarter, type StartedSecret } from './child-starter.js';
import type { ChildExit, RunningChild } from './spawn-child.js';
import { waitForExit, type ResolvedVersion, type Supervisor } from './supervisor.js';
import { isForegroundProcessGroup } from './terminal.js';

export interface LaunchOptions extends ManifestOptions {
  readonly command: string;
  readonly args: readonly string[];
  /** Only the secrets and PATH reach the child. */
  readonly pristine: boolean;
  /** Key-service decrypts in flight at most. */
  readonly concurrency?: number;
  /** How the command starts: spawned with inherited stdio unless a capability says otherwise. */
  readonly starter?: ChildStarter;
  /** Told what the launch does (the audit log); given data, never a value. */
  readonly observer?: LaunchObserver | undefined;
  /** What runs beside the command (`--watch`); by default, nothing: wait for it to exit. */
  readonly supervisor?: Supervisor;
}

/** Everything the launcher takes from its process, injected so tests can replace it. */
export interface LaunchIo {
  readonly env: Environment;
  readonly pid: number;
  readonly stdinIsTty: boolean;
  readonly signals: SignalSource;
  /** In the terminal's foreground process group? `undefined` when unknown. */
  readonly isForeground: () => boolean | undefined;
  /** One line to stderr (credexec's own notices; never values). */
  readonly warn: (line: string) => void;
}

/** How the launch ended: the child's exit, or a signal that stopped credexec before the child ran. */
export type LaunchOutcome = ChildExit;

export const PID1_WARNING =
  'credexec: warning: running as PID 1, so orphaned processes (zombies) are not reaped; run the container with `docker run --init` or use tini as the entrypoint';

/**
 * This process as the launcher sees it. `stderr` is asked for only when there is something to
 * say; its failed writes (EPIPE: nobody reads it) must never become an uncaught exception that
 * would end credexec, and the child with it.
 */
export function processLaunchIo(
  env: Environment = process.env,
  stderr: () => NodeJS.WritableStream = () => process.stderr,
): LaunchIo {
  return {
    env,
    pid: process.pid,
    // Asked only when a terminal signal arrives, so node:tty loads only then. isatty, not
    // process.stdin: creating the stdin stream would make the shared TTY non-blocking.
    get stdinIsTty() {
      return process.getBuiltinModule('node:tty').isatty(0);
    },
    signals: process,
    isForeground: () => isForegroundProcessGroup(),
    warn: (line) => {
      const stream = stderr();
      if (stream.listenerCount('error') === 0) stream.on('error', () => undefined);
      stream.write(`${line}\n`);
    },
  };
}

interface Prepared {
  readonly env: Record<string, string>;
  /** Every value the child gets, composed or read, for a starter that must know them. */
  readonly secrets: readonly StartedSecret[];
  /** What each reference resolved to (no values), for a supervisor. */
  readonly versions: readonly ResolvedVersion[];
  /** Zero every decrypted and composed value. */
  readonly wipe: () => void;
}

async function prepare(
  source: ResolveSource,
  options: LaunchOptions,
  io: LaunchIo,
  files: SecretFiles,
  abort: AbortSignal,
): Promise<Prepared> {
  const entries = await loadLaunchManifest(options, io.env);
  options.starter?.refuse?.(entries);
  options.supervisor?.refuse?.(entries);
  await sweepStaleSecretDirs(secretFilesBase(io.env));
  const resolutions = await resolveEntries(source, entries, {
    concurrency: options.concurrency ?? DEFAULT_CONCURRENCY,
    signal: abort,
  });
  if (!abort.aborted) options.observer?.resolved(observedEntries(resolutions));
  let values: readonly EntryValue[] = [];
  const wipe = () => {
    wipeResolutions(resolutions);
    wipeEntryValues(values);
  };
  try {
    values = entryValues(resolutions);
    const env = await buildEnvironment(values, io.env, options.pristine, files);
    return { env, secrets: startedSecrets(values), versions: resolvedVersions(resolutions), wipe };
  } catch (error: unknown) {
    wipe();
    throw error;
  }
}

/** Resolves with the first signal that should stop credexec before the child exists. */
function interruption(relay: SignalRelay): {
  stopped: Promise<ForwardedSignal>;
  queued: ForwardedSignal[];
} {
  const queued: ForwardedSignal[] = [];
  const stopped = new Promise<ForwardedSignal>((resolve) => {
    relay.setHandler((signal) => {
      queued.push(signal);
      if (stopsResolution(signal)) resolve(signal);
    });
  });
  return { stopped, queued };
}

/** The command is running (with the signals that arrived meanwhile), or a signal stopped us first. */
type Started =
  | {
      readonly child: RunningChild;
      readonly queued: readonly ForwardedSignal[];
      readonly versions: readonly ResolvedVersion[];
    }
  | { readonly stopped: ForwardedSignal };

/** What `release` rejects with when a signal asked credexec to stop before the command replaced it. */
class Interrupted extends Error {
  readonly signal: ForwardedSignal;

  constructor(signal: ForwardedSignal) {
    super(`stopped by ${signal} before the command started`);
    this.signal = signal;
  }
}

/**
 * StartRequest.release, for a starter that replaces this process. One turn of the event loop
 * first, so that a signal already caught reaches `queued`; then the relay stops listening, so
 * that any later signal acts natively (kills credexec before the exec, the command after it) and
 * none is caught and then lost when the process is replaced; then what credexec holds goes.
 */
function releaser(
  source: ResolveSource,
  relay: SignalRelay,
  queued: readonly ForwardedSignal[],
  wipe: () => void,
  released: () => void,
): () => Promise<void> {
  return async () => {
    await new Promise((resolve) => setImmediate(resolve));
    relay.close();
    source.close?.();
    wipe();
    const stop = queued.find(stopsResolution);
    if (stop !== undefined) throw new Interrupted(stop);
    released();
  };
}

/**
 * Resolve, build the child's environment and start the command. The environment, the strings made
 * of the values and the decrypted buffers are held only by this call, which returns as soon as
 * the child exists: nothing keeps them reachable while the child runs, and the buffers are zeroed
 * whether or not the command could be started.
 */
async function start(
  source: ResolveSource,
  options: LaunchOptions,
  io: LaunchIo,
  files: SecretFiles,
  relay: SignalRelay,
): Promise<Started> {
  const controller = new AbortController();
  const { stopped, queued } = interruption(relay);
  const preparing = prepare(source, options, io, files, controller.signal);
  const first = await Promise.race([preparing, stopped]);
  if (typeof first === 'string') {
    controller.abort();
    // Whatever was still in flight is wiped when it lands; the process is about to end.
    preparing.then(
      ({ wipe }) => wipe(),
      () => undefined,
    );
    return { stopped: first };
  }
  try {
    const child = await (options.starter ?? spawnStarter).start({
      command: options.command,
      args: options.args,
      env: first.env,
      secrets: first.secrets,
      release: releaser(source, relay, queued, first.wipe, () =>
        // Exec mode: the command keeps credexec's pid, and no `ended` can ever follow.
        options.observer?.started(io.pid),
      ),
    });
    return { child, queued, versions: first.versions };
  } catch (error: unknown) {
    if (error instanceof Interrupted) return { stopped: error.signal };
    throw error;
  } finally {
    first.wipe();
  }
}

/**
 * `credexec run`: resolve every manifest entry (all or nothing), then run the command with the
 * secrets in its environment only, forwarding signals, and report how it ended. Throws
 * ManifestError / LaunchResolveError (nothing was started) or SpawnError; never exits the
 * process — the CLI turns the outcome into an exit status or dies of the child's signal.
 */
export async function runLauncher(
  source: ResolveSource,
  options: LaunchOptions,
  io: LaunchIo = processLaunchIo(),
): Promise<LaunchOutcome> {
  const relay = new SignalRelay(io.signals, () => undefined);
  const filesBase = secretFilesBase(io.env);
  const files = new SecretFiles(filesBase, io.pid);
  const { observer } = options;
  let command: CommandRun | undefined;
  try {
    if (io.pid === 1) io.warn(PID1_WARNING);
    const started = await start(source, options, io, files, relay).catch((error: unknown) => {
      observer?.failed({ error });
      throw error;
    });
    if ('stopped' in started) {
      observer?.failed({ signal: started.stopped });
      return { signal: started.stopped };
    }
    const { child, queued, versions } = started;
    // Nothing more to fetch: let go of network connections before the long wait on the child,
    // once the command is on its way (closing sockets costs a little; they are close-on-exec).
    // A supervisor that reads the store again opens them again.
    source.close?.();
    command = new CommandRun({ child, files }, versions, {
      command: options.command,
      args: options.args,
      pristine: options.pristine,
      starter: options.starter ?? spawnStarter,
      observer,
      env: io.env,
      filesBase,
      pid: io.pid,
      stdinIsTty: () => io.stdinIsTty,
      isForeground: io.isForeground,
    });
    const run = command;
    relay.setHandler((signal) => run.forward(signal));
    // Signals that arrived while the command was being started are delivered now, once each.
    for (const signal of queued) run.forward(signal);
    observer?.started(child.process.pid);
    const supervising = (options.supervisor ?? waitForExit).supervise(run);
    try {
      const exit = await run.ended;
      observer?.ended(exit);
      return exit;
    } catch (error: unknown) {
      // A restarted command could not be started: the run ends as a launch that failed.
      observer?.failed({ error });
      throw error;
    } finally {
      await supervising;
    }
  } finally {
    source.close?.();
    files.remove();
    command?.close();
    relay.close();
  }
}
