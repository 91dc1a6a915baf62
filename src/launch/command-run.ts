import type { ChildStarter } from './child-starter.js';
import type { Environment } from './child-env.js';
import { buildEnvironment, resolvedVersions, startedSecrets } from './child-values.js';
import { observedEntries, type LaunchObserver } from './launch-observer.js';
import { SecretFiles } from './secret-files.js';
import { asksToStop, isTerminalSignal, type ForwardedSignal } from './signal-relay.js';
import type { ChildExit, RunningChild } from './spawn-child.js';
import type { Refresh, ResolvedVersion, StoppableChild, SupervisedCommand } from './supervisor.js';
import { terminalAlreadyDelivers } from './terminal.js';

/** One command and the private directory of its secret files. */
export interface Generation {
  readonly child: RunningChild;
  readonly files: SecretFiles;
}

/** What a command run needs to start the command again and to forward signals to it. */
export interface CommandRunContext {
  readonly command: string;
  readonly args: readonly string[];
  readonly pristine: boolean;
  readonly starter: ChildStarter;
  readonly observer: LaunchObserver | undefined;
  /** credexec's own environment, the parent of the command's. */
  readonly env: Environment;
  /** Where directories of secret files go, and the pid that names them. */
  readonly filesBase: string;
  readonly pid: number;
  readonly stdinIsTty: () => boolean;
  readonly isForeground: () => boolean | undefined;
}

/**
 * The part of a command that whoever stops it sees. Its process is gone at its 'exit' event,
 * which may come before `exited` settles (a redacting starter writes out its output first).
 */
function stoppable({ child }: Generation): StoppableChild {
  const { process } = child;
  const gone =
    process.exitCode !== null || process.signalCode !== null
      ? Promise.resolve()
      : new Promise<void>((resolve) => process.once('exit', () => resolve()));
  return {
    pid: process.pid,
    kill: (signal) => {
      process.kill(signal);
    },
    exited: Promise.race([gone, child.exited.then(() => undefined)]),
  };
}

/**
 * The command from the moment it first runs until credexec ends (SupervisedCommand): which
 * command runs now, where each signal goes, and how a restart replaces one command by the next
 * without ever running two, losing a signal or leaving a file behind.
 */
export class CommandRun implements SupervisedCommand {
  readonly ended: Promise<ChildExit>;
  readonly #context: CommandRunContext;
  #versions: readonly ResolvedVersion[];
  /** The command that runs; during a restart, the old one until it is gone; then none. */
  #current: Generation | undefined;
  /** The command being stopped by a restart: its exit is the restart's, not credexec's. */
  #replacing: Generation | undefined;
  /** Signals that arrived while no command ran (between two commands of a restart). */
  readonly #queued: ForwardedSignal[] = [];
  /** Every directory of secret files made, so that none outlives credexec. */
  readonly #files = new Set<SecretFiles>();
  #stopRequested = false;
  #settled = false;
  #resolve!: (exit: ChildExit) => void;
  #reject!: (error: unknown) => void;

  constructor(first: Generation, versions: readonly ResolvedVersion[], context: CommandRunContext) {
    this.#context = context;
    this.#versions = versions;
    this.ended = new Promise<ChildExit>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // Awaited by the launcher; never an unhandled rejection meanwhile.
    this.ended.catch(() => undefined);
    this.#current = first;
    this.#files.add(first.files);
    this.#follow(first);
  }

  get versions(): readonly ResolvedVersion[] {
    return this.#versions;
  }

  get stopping(): boolean {
    return this.#stopRequested || this.#settled;
  }

  /**
   * A signal credexec received: to the command that runs, once; while none runs, kept for the
   * next. A signal that asks to stop (INT, TERM, QUIT) ends the rotation: no command is started
   * after it, and the running command's secret files go at once.
   */
  forward(signal: ForwardedSignal): void {
    if (asksToStop(signal)) this.#stopRequested = true;
    const current = this.#current;
    if (current === undefined) {
      this.#queued.push(signal);
      return;
    }
    // The terminal already sent Ctrl-C / Ctrl-\ to the command (it shares our process group).
    const delivered =
      isTerminalSignal(signal) &&
      terminalAlreadyDelivers(this.#context.stdinIsTty(), this.#context.isForeground());
    if (!delivered) current.child.process.kill(signal);
    if (asksToStop(signal)) current.files.remove();
  }

  async restart(refresh: Refresh, stop: (child: StoppableChild) => Promise<void>) {
    if (this.stopping) return false;
    const context = this.#context;
    const files = new SecretFiles(context.filesBase, context.pid);
    this.#files.add(files);
    let env: Record<string, string>;
    try {
      env = await buildEnvironment(refresh.values, context.env, context.pristine, files);
    } catch (error: unknown) {
      files.remove();
      throw error;
    }
    if (this.stopping) {
      files.remove();
      return false;
    }
    const old = this.#current!;
    this.#replacing = old;
    await stop(stoppable(old)).catch(() => undefined);
    const exit = await old.child.exited;
    old.files.remove();
    this.#current = undefined;
    if (this.#stopRequested) {
      // Asked to stop meanwhile: what was forwarded went to the old command, whose end is ours.
      files.remove();
      this.#settle(exit);
      return false;
    }
    context.observer?.replaced?.(exit);
    context.observer?.resolved(observedEntries(refresh.resolutions));
    let child: RunningChild;
    try {
      child = await context.starter.start({
        command: context.command,
        args: context.args,
        env,
        secrets: startedSecrets(refresh.values),
        // Only a starter that replaces credexec calls it, and none does with --watch.
        release: () => Promise.resolve(),
      });
    } catch (error: unknown) {
      files.remove();
      this.#settled = true;
      this.#reject(error);
      return false;
    }
    const generation = { child, files };
    this.#current = generation;
    this.#replacing = undefined;
    this.#versions = resolvedVersions(refresh.resolutions);
    this.#follow(generation);
    context.observer?.started(child.process.pid);
    // No command ran when these arrived, so no terminal delivered them to this one: they go now.
    for (const signal of this.#queued.splice(0)) {
      child.process.kill(signal);
      if (asksToStop(signal)) files.remove();
    }
    return true;
  }

  async reload(refresh: Refresh, signals: readonly NodeJS.Signals[]) {
    const current = this.#current;
    if (this.stopping || current === undefined) return false;
    for (const { entry, value } of refresh.values) {
      if (!entry.file) continue;
      if (value === undefined) current.files.discard(entry.variable);
      else await current.files.rewrite(entry.variable, value);
    }
    current.child.learn?.(startedSecrets(refresh.values));
    const reloaded = new Set(refresh.values.map(({ entry }) => entry));
    this.#versions = [
      ...this.#versions.filter(({ entry }) => !reloaded.has(entry)),
      ...resolvedVersions(refresh.resolutions),
    ];
    if (this.stopping || current !== this.#current) return false;
    for (const signal of new Set(signals)) current.child.process.kill(signal);
    return true;
  }

  /** Remove every directory of secret files left (credexec is ending). */
  close(): void {
    for (const files of this.#files) files.remove();
  }

  /** Its exit ends credexec, unless a restart is replacing it. */
  #follow(generation: Generation): void {
    generation.child.exited.then(
      (exit) => {
        if (generation !== this.#replacing) this.#settle(exit);
      },
      (error: unknown) => {
        this.#settled = true;
        this.#reject(error);
      },
    );
  }

  #settle(exit: ChildExit): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#resolve(exit);
  }
}
