import type { Readable } from 'node:stream';
import type { ChildStarter } from '../launch/child-starter.js';
import { spawnChild, type ChildExit, type RunningChild } from '../launch/spawn-child.js';
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

/**
 * `credexec --redact`: the child's stdout and stderr come through credexec, every secret value (and
 * its encodings, docs/launcher.md "Redaction") replaced by `<redacted:VAR>`, each stream in order
 * and apart. The child's exit is reported only once its output has been written out, so credexec
 * never exits (or dies of the child's signal) with output still in hand. stdin stays the child's.
 */
export function redactingStarter(options: RedactingStarterOptions): ChildStarter {
  return {
    async start(request) {
      // The redaction keeps its own copies of the patterns: the request's buffers are zeroed as
      // soon as the child has started.
      const redaction = compileRedaction(
        request.secrets.map(({ variable, value, redact }) => ({ variable, value, redact })),
        options.minLength === undefined ? {} : { minLength: options.minLength },
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
        redaction.wipe();
        return exit;
      });
      return { process: child.process, exited };
    },
  };
}
