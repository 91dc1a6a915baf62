import type { Readable } from 'node:stream';
import type { ChildStarter, StartedSecret } from '../launch/child-starter.js';
import { spawnChild, type ChildExit, type RunningChild } from '../launch/spawn-child.js';
import type { RedactSecret } from './patterns.js';
import { compileRedaction } from './redaction.js';
import { pipeRedacted, redactChildOutput, type RedactStream } from './redact-stream.js';

export interface RedactingStarterOptions {
  /** Values shorter than this many bytes are not redacted (DEFAULT_MIN_LENGTH). */
  readonly minLength?: number;
  /** Where the redacted output goes: credexec's own stdout and stderr. */
  readonly stdout: () => NodeJS.WritableStream;
  readonly stderr: () => NodeJS.WritableStream;
  /** Milliseconds of silence after which held-back bytes are written (DEFAULT_IDLE_MS). */
  readonly idleMs?: number;
  /**
   * How long, once the child has exited, to wait for its pipes to close: a process it left
   * behind may hold them open for ever. Then what was held back is written and the pipes are
   * closed (whoever still writes to them gets EPIPE).
   */
  readonly drainMs?: number;
  /**
   * `--watch`: the command may be restarted or handed new values. The starter then keeps copies of
   * the values it was given, so that after a rotation both the old and the new ones are redacted.
   */
  readonly rotating?: boolean;
}

export const DEFAULT_DRAIN_MS = 2_000;

/** Copy one of the child's pipes through its redactor; settles when all of it has been written. */
function relay(
  source: Readable,
  redact: RedactStream,
  destination: NodeJS.WritableStream,
): Promise<void> {
  return pipeRedacted(source, redact, destination);
}

/** Resolves after `ms`, without keeping the process alive for it. */
function delay(ms: number): Promise<'timeout'> {
  return new Promise((resolve) => setTimeout(() => resolve('timeout'), ms).unref());
}

/** A value a redaction must know, as the starter keeps it (its own copy, zeroed when dropped). */
interface KnownSecret {
  readonly variable: string;
  readonly value: Buffer;
  readonly redact: boolean;
}

/**
 * The values the command holds and, after a rotation (`--watch`), those it held before, per
 * variable: a rotated secret may still show in the output (a log line written before, a process
 * the old command left), so both the old and the new values are redacted. Older generations are
 * zeroed and forgotten.
 */
class KnownSecrets {
  readonly #current = new Map<string, KnownSecret[]>();
  readonly #previous = new Map<string, KnownSecret[]>();

  /** The command now holds `secrets` for their variables (`all`: and nothing for the others). */
  update(secrets: readonly StartedSecret[], all: boolean): void {
    const next = new Map<string, KnownSecret[]>();
    for (const { variable, value, redact } of secrets) {
      let list = next.get(variable);
      if (list === undefined) next.set(variable, (list = []));
      list.push({ variable, value: Buffer.from(value), redact });
    }
    const variables = all ? new Set([...this.#current.keys(), ...next.keys()]) : next.keys();
    for (const variable of variables) {
      const now = next.get(variable) ?? [];
      const was = this.#current.get(variable) ?? [];
      if (sameValues(was, now)) {
        wipe(now);
        continue;
      }
      wipe(this.#previous.get(variable) ?? []);
      this.#previous.set(variable, was);
      this.#current.set(variable, now);
    }
  }

  /** Everything to redact: what the command holds and what it held before. */
  get all(): KnownSecret[] {
    return [...this.#current.values(), ...this.#previous.values()].flat();
  }
}

function sameValues(a: readonly KnownSecret[], b: readonly KnownSecret[]): boolean {
  return a.length === b.length && a.every((secret, index) => secret.value.equals(b[index]!.value));
}

function wipe(secrets: readonly KnownSecret[]): void {
  for (const { value } of secrets) value.fill(0);
}

/**
 * `credexec --redact`: the child's stdout and stderr come through credexec, every secret value (and
 * its encodings, docs/launcher.md "Redaction") replaced by `<redacted:VAR>`, each stream in order
 * and apart. The child's exit is reported only once its output has been written out, so credexec
 * never exits (or dies of the child's signal) with output still in hand. stdin stays the child's.
 */
export function redactingStarter(options: RedactingStarterOptions): ChildStarter {
  const compile = (secrets: readonly RedactSecret[]) =>
    compileRedaction(
      secrets,
      options.minLength === undefined ? {} : { minLength: options.minLength },
    );
  // Only with --watch does a second command, or a second set of values, ever come.
  const known = options.rotating === true ? new KnownSecrets() : undefined;
  return {
    async start(request) {
      // The redaction keeps its own copies of the patterns: the request's buffers are zeroed as
      // soon as the child has started.
      known?.update(request.secrets, true);
      let redaction = compile(
        known?.all ??
          request.secrets.map(({ variable, value, redact }) => ({ variable, value, redact })),
      );
      let child: RunningChild;
      try {
        child = await spawnChild(request.command, request.args, request.env, [
          'inherit',
          'pipe',
          'pipe',
        ]);
      } catch (error: unknown) {
        redaction.wipe();
        throw error;
      }
      const streams = redactChildOutput(
        redaction,
        options.idleMs === undefined ? {} : { idleMs: options.idleMs },
      );
      const { stdout, stderr } = child.process;
      const relays = Promise.allSettled([
        relay(stdout!, streams.stdout, options.stdout()),
        relay(stderr!, streams.stderr, options.stderr()),
      ]);
      let ended = false;
      const exited = child.exited.then(async (exit: ChildExit) => {
        if (
          (await Promise.race([relays, delay(options.drainMs ?? DEFAULT_DRAIN_MS)])) === 'timeout'
        ) {
          // Someone the child left behind still holds its pipes: stop reading them, write what
          // was held back, and let the relays finish.
          stdout!.unpipe();
          stderr!.unpipe();
          streams.stdout.end();
          streams.stderr.end();
          stdout!.destroy();
          stderr!.destroy();
          await relays;
        }
        ended = true;
        redaction.wipe();
        return exit;
      });
      return {
        process: child.process,
        exited,
        learn(secrets) {
          if (known === undefined || ended) return;
          known.update(secrets, false);
          const previous = redaction;
          redaction = compile(known.all);
          streams.replace(redaction);
          previous.wipe();
        },
      };
    },
  };
}
