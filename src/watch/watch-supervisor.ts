import { messageOf } from '../errors.js';
import type { ChangePolicy } from '../manifest/change-policy.js';
import type { ManifestEntry } from '../manifest/manifest-entry.js';
import type { Refresh, SupervisedCommand, Supervisor } from '../launch/supervisor.js';
import { DEFAULT_CONCURRENCY, type ResolveSource } from '../resolve/resolve-entries.js';
import type { CredentialStore } from '../stores/credential-store.js';
import { decide, type Change, type CommandState, type Held } from './changes.js';
import { resolveRefresh } from './refresh.js';
import { stopCommand } from './stop-command.js';
import {
  APPLIED_BY_RESTART,
  applyFailureLine,
  changeLine,
  missingLine,
  NOT_APPLIED,
  NOTHING_TO_WATCH,
  pollFailureLine,
  reloadingWhat,
  resolveFailureLine,
  restartingWhat,
} from './watch-lines.js';
import { planProblem, watchPlan, type WatchPlan } from './watch-plan.js';

/** `--watch` and its knobs, as the CLI settled them from flags and the manifest. */
export interface WatchSettings {
  /** Time between two polls (each wait is up to 10 % shorter, at random). */
  readonly intervalMs: number;
  /** For entries without an `"onChange"` of their own. */
  readonly defaultPolicy: ChangePolicy;
  /** Where the default comes from, for messages: `--on-change`, or the manifest's setting. */
  readonly defaultPolicySource: string;
  readonly killSignal: NodeJS.Signals;
  readonly killTimeoutMs: number;
  /** A restart or reload waits a random time up to this first; 0: none. */
  readonly splayMs: number;
}

/** The backend a watcher polls and resolves through: the store itself, never a fallback copy. */
export interface WatchBackend extends ResolveSource {
  readonly store: ResolveSource['store'] & Pick<CredentialStore, 'latestVersions'>;
}

export interface WatchOptions extends WatchSettings {
  readonly backend: WatchBackend;
  /** One line to stderr. */
  readonly warn: (line: string) => void;
  /** Key-service decrypts in flight at most when changes are resolved. */
  readonly concurrency?: number;
  /** In [0, 1); injected by tests. */
  readonly random?: () => number;
}

const ENDED = Symbol('ended');

/**
 * `--watch` (docs/launcher.md "Rotation"): poll the latest version of every watched credential
 * and, when some changed, resolve the entries concerned again (all or nothing) and restart the
 * command, or rewrite its secret files and signal it, or only say so — per entry. A change that
 * cannot be resolved leaves the command alone and is tried again at the next poll. The command
 * exiting, or a signal asking credexec to stop, ends the watch.
 */
export function watchSupervisor(options: WatchOptions): Supervisor {
  let manifest: { entries: readonly ManifestEntry[]; plan: WatchPlan } | undefined;
  return {
    refuse(entries) {
      const plan = watchPlan(entries, options.defaultPolicy);
      const problem = planProblem(plan, options.defaultPolicySource);
      if (problem !== undefined) throw problem;
      manifest = { entries, plan };
    },
    async supervise(command) {
      const entries = manifest?.entries ?? [...new Set(command.versions.map(({ entry }) => entry))];
      const plan = manifest?.plan ?? watchPlan(entries, options.defaultPolicy);
      await new Watcher(options, entries, plan, command).run();
    },
  };
}

/** What the command has, from the versions it was started (or last reloaded) with. */
function stateOf(command: SupervisedCommand): CommandState {
  const held: Held = new Map();
  const unset = new Set<ManifestEntry>();
  for (const { entry, reference, version } of command.versions) {
    if (version === undefined) unset.add(entry);
    if (reference.version !== undefined) continue;
    let versions = held.get(entry);
    if (versions === undefined) held.set(entry, (versions = new Map()));
    versions.set(reference.credential, version);
  }
  const inEnvironment = new Set(
    command.versions.map(({ entry }) => entry).filter((entry) => !unset.has(entry)),
  );
  return { held, reported: new Map(), inEnvironment };
}

class Watcher {
  readonly #options: WatchOptions;
  readonly #entries: readonly ManifestEntry[];
  readonly #plan: WatchPlan;
  readonly #command: SupervisedCommand;
  readonly #ended: Promise<typeof ENDED>;
  readonly #random: () => number;
  #state: CommandState;
  #isOver = false;
  /**
   * What the run is waiting for (a pause, a poll), settled at once when the command ends. Kept
   * here and removed when done, rather than raced against `#ended` each time: every race would
   * leave a reaction on that long-lived promise, a few hundred bytes per poll for as long as the
   * command runs.
   */
  readonly #waiting = new Set<(value: typeof ENDED) => void>();

  constructor(
    options: WatchOptions,
    entries: readonly ManifestEntry[],
    plan: WatchPlan,
    command: SupervisedCommand,
  ) {
    this.#options = options;
    this.#entries = entries;
    this.#plan = plan;
    this.#command = command;
    this.#random = options.random ?? Math.random;
    const over = (): typeof ENDED => {
      this.#isOver = true;
      for (const wake of this.#waiting) wake(ENDED);
      return ENDED;
    };
    this.#ended = command.ended.then(over, over);
    this.#state = stateOf(command);
  }

  async run(): Promise<void> {
    if (this.#plan.credentials.length === 0) {
      this.#options.warn(NOTHING_TO_WATCH);
      await this.#ended;
      return;
    }
    try {
      // The first wait is anywhere in the second half of the interval, so that a fleet started
      // at once does not poll at once; later ones are up to 10 % shorter.
      let wait = this.#options.intervalMs * (0.5 + this.#random() / 2);
      while (!this.#command.stopping) {
        if ((await this.#pause(wait)) === ENDED || this.#command.stopping) break;
        // Once the command has ended credexec ends with it, whatever this poll still awaits.
        if ((await this.#unlessOver(this.#tick())) === ENDED) break;
        wait = this.#options.intervalMs * (1 - this.#random() / 10);
      }
    } finally {
      this.#options.backend.close?.();
    }
    await this.#ended;
  }

  /** Wait `ms`, or less when the command ends first. */
  async #pause(ms: number): Promise<typeof ENDED | undefined> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await this.#unlessOver(
        new Promise<undefined>((resolve) => {
          timer = setTimeout(() => resolve(undefined), ms);
        }),
      );
    } finally {
      clearTimeout(timer);
    }
  }

  /** `work`'s outcome, or ENDED as soon as the command has ended (whatever `work` still awaits). */
  #unlessOver<T>(work: Promise<T>): Promise<T | typeof ENDED> {
    if (this.#isOver) return Promise.resolve(ENDED);
    let wake: ((value: typeof ENDED) => void) | undefined;
    return new Promise<T | typeof ENDED>((resolve) => {
      wake = resolve;
      this.#waiting.add(resolve);
      work.then(resolve, () => resolve(ENDED));
    }).finally(() => {
      this.#waiting.delete(wake!);
    });
  }

  /** One poll, and what it calls for. Never rejects. */
  async #tick(): Promise<void> {
    const { backend, warn } = this.#options;
    let latest: Map<string, string | undefined>;
    try {
      latest = await backend.store.latestVersions(this.#plan.credentials);
    } catch (error: unknown) {
      warn(pollFailureLine(messageOf(error)));
      return;
    }
    if (this.#command.stopping) return;
    const decision = decide(this.#plan, this.#state, latest);
    for (const missing of decision.missing) warn(missingLine(missing));
    for (const change of decision.reported) {
      warn(changeLine(change, NOT_APPLIED));
      this.#markReported(change);
    }
    const { action } = decision;
    if (action === undefined) return;
    const splayMs =
      this.#options.splayMs > 0 ? Math.floor(this.#random() * this.#options.splayMs) : 0;
    if (splayMs > 0 && ((await this.#pause(splayMs)) === ENDED || this.#command.stopping)) return;
    const entries =
      action.kind === 'restart'
        ? this.#entries
        : [...new Set(decision.acting.map(({ watched }) => watched.entry))];
    try {
      await this.#apply(
        entries,
        latest,
        (refresh) => {
          if (action.kind === 'restart') {
            const what = restartingWhat(this.#options.killSignal, splayMs);
            for (const change of decision.acting) warn(changeLine(change, what));
            // A restart reads every entry at its latest version, the `none` ones too.
            for (const change of decision.drifted) warn(changeLine(change, APPLIED_BY_RESTART));
            return this.#restart(refresh);
          }
          for (const change of decision.acting)
            warn(changeLine(change, reloadingWhat(action.signals)));
          return this.#command.reload(refresh, action.signals);
        },
        action.kind === 'restart',
      );
    } catch (error: unknown) {
      warn(applyFailureLine(messageOf(error)));
    }
  }

  /**
   * Resolve `entries` at the versions just read; on success hand them to `act` and, when it
   * applied them, keep track of what the command now has. Either way the values are zeroed and
   * the backend lets go of what it holds (the local master key, the connections).
   */
  async #apply(
    entries: readonly ManifestEntry[],
    latest: ReadonlyMap<string, string | undefined>,
    act: (refresh: Refresh) => Promise<boolean>,
    restart: boolean,
  ): Promise<void> {
    const { backend, warn } = this.#options;
    try {
      const outcome = await resolveRefresh(
        backend,
        entries,
        latest,
        this.#options.concurrency ?? DEFAULT_CONCURRENCY,
      );
      if ('failures' in outcome) {
        for (const { variable, credential, error } of outcome.failures)
          warn(resolveFailureLine(variable, credential, messageOf(error)));
        return;
      }
      try {
        if (this.#command.stopping) return;
        if (await act(outcome.refresh)) {
          // A restart applied every change; a reload left the `none` ones as they were reported.
          const { reported } = this.#state;
          this.#state = { ...stateOf(this.#command), reported: restart ? new Map() : reported };
        }
      } finally {
        outcome.wipe();
      }
    } finally {
      backend.close?.();
    }
  }

  #restart(refresh: Refresh): Promise<boolean> {
    const { killSignal, killTimeoutMs, warn } = this.#options;
    return this.#command.restart(refresh, (child) =>
      stopCommand(child, killSignal, killTimeoutMs, warn),
    );
  }

  #markReported({ watched, credential, to }: Change): void {
    const { reported } = this.#state;
    let versions = reported.get(watched.entry);
    if (versions === undefined) reported.set(watched.entry, (versions = new Map()));
    versions.set(credential, to);
  }
}
