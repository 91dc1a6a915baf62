import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Redaction } from './redaction.js';
import { Redactor, type Output } from './redactor.js';

/**
 * How long a stream may be idle before the bytes held back as a possible start of a secret are
 * written out as they are. Long enough that a secret written in two pieces by one `printf` (two
 * pipe reads a few microseconds apart) is still caught, short enough that a prompt appears
 * without a noticeable delay.
 */
export const DEFAULT_IDLE_MS = 50;

/** Output pieces shorter than this are joined with their neighbours before being pushed. */
const SMALL_PIECE = 4096;

export interface RedactStreamOptions {
  /**
   * Milliseconds without input after which held-back bytes are flushed; `Infinity`: only at the
   * end of the stream. Default DEFAULT_IDLE_MS.
   */
  readonly idleMs?: number;
  /** Of both sides, in bytes (Node's default otherwise). */
  readonly highWaterMark?: number;
}

/**
 * One redacted output stream (a child's stdout or stderr): bytes in, redacted bytes out, in order.
 * Backpressure is Node's: while the reading side is full, no further chunk is taken, so what it
 * buffers is bounded by the two high-water marks plus the held-back bytes (less than the longest
 * pattern). Held-back bytes are written out after `idleMs` without input, and at the end.
 */
export class RedactStream extends Transform {
  readonly #redactor: Redactor;
  readonly #idleMs: number;
  #timer: NodeJS.Timeout | undefined;
  #ended = false;

  constructor(redaction: Redaction, options: RedactStreamOptions = {}) {
    super(options.highWaterMark === undefined ? {} : { highWaterMark: options.highWaterMark });
    const idleMs = options.idleMs ?? DEFAULT_IDLE_MS;
    if (!(idleMs >= 0)) throw new RangeError(`idle time must be ≥ 0 ms, not ${idleMs}`);
    this.#redactor = new Redactor(redaction);
    this.#idleMs = idleMs;
  }

  /** Bytes held back right now as a possible start of a secret. */
  get heldBack(): number {
    return this.#redactor.heldBack;
  }

  /**
   * Redact with `redaction` from now on (after a rotation: old and new values). Held-back bytes
   * are scanned again with it, so a secret split around the switch is still caught.
   */
  replace(redaction: Redaction): void {
    if (this.#ended) return;
    this.#emit(this.#redactor.replace(redaction));
    this.#schedule();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#emit(this.#redactor.write(chunk));
    this.#schedule();
    callback();
  }

  override _flush(callback: TransformCallback): void {
    this.#ended = true;
    this.#cancel();
    this.#emit(this.#redactor.flush());
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#ended = true;
    this.#cancel();
    this.#redactor.discard();
    callback(error);
  }

  /**
   * Large pieces (views of the input) go out as they are, so the data is not copied; runs of
   * small ones (markers and the bytes between close matches) are joined, so a burst of matches
   * does not become a burst of tiny chunks.
   */
  #emit(output: Output): void {
    let run: Buffer[] = [];
    let runBytes = 0;
    const flushRun = () => {
      if (run.length === 1) this.push(run[0]);
      else if (run.length > 1) this.push(join(run, runBytes));
      run = [];
      runBytes = 0;
    };
    for (const piece of output) {
      if (piece.length >= SMALL_PIECE) {
        flushRun();
        this.push(piece);
      } else if (piece.length > 0) {
        run.push(piece);
        runBytes += piece.length;
        if (runBytes >= SMALL_PIECE) flushRun();
      }
    }
    flushRun();
  }

  #schedule(): void {
    if (this.#redactor.heldBack === 0 || !Number.isFinite(this.#idleMs)) {
      this.#cancel();
      return;
    }
    if (this.#timer !== undefined) {
      this.#timer.refresh();
      return;
    }
    // Unreferenced: the source's own handle keeps the process alive while output may come.
    this.#timer = setTimeout(this.#idle, this.#idleMs);
    this.#timer.unref();
  }

  #cancel(): void {
    if (this.#timer === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Idle: the held-back bytes go out as they are. This is where a secret written in two parts
   * more than `idleMs` apart escapes: its first part is written before its second arrives.
   */
  readonly #idle = (): void => {
    this.#timer = undefined;
    if (this.#ended) return;
    this.#emit(this.#redactor.flush());
  };
}

/** Like Buffer.concat, which V8 keeps deoptimizing when called this often with lists of all sizes. */
function join(pieces: readonly Buffer[], bytes: number): Buffer {
  const joined = Buffer.allocUnsafe(bytes);
  let offset = 0;
  for (const piece of pieces) {
    joined.set(piece, offset);
    offset += piece.length;
  }
  return joined;
}

/** The two redacted streams of one child, kept apart, sharing one compiled secret set. */
export interface ChildOutputRedaction {
  readonly stdout: RedactStream;
  readonly stderr: RedactStream;
  /** Switch both streams to another secret set (after a rotation: old and new values). */
  replace(redaction: Redaction): void;
}

export function redactChildOutput(
  redaction: Redaction,
  options: RedactStreamOptions = {},
): ChildOutputRedaction {
  const stdout = new RedactStream(redaction, options);
  const stderr = new RedactStream(redaction, options);
  return {
    stdout,
    stderr,
    replace(next: Redaction) {
      stdout.replace(next);
      stderr.replace(next);
    },
  };
}

/**
 * Copy `source` (a child's stdout) through `redact` into `destination` (credexec's own stdout)
 * without ending the destination, and resolve once everything has been handed to it and its
 * writes have completed, so the caller may exit. Rejects on an error of any of the three; the
 * others are then destroyed (as `pipeline` does), so a child writing into a closed pipe gets
 * EPIPE or SIGPIPE as it would without redaction.
 */
export async function pipeRedacted(
  source: Readable,
  redact: RedactStream,
  destination: NodeJS.WritableStream,
): Promise<void> {
  await pipeline(source, redact, destination, { end: false });
  await new Promise<void>((resolve, reject) => {
    destination.write(Buffer.alloc(0), (error) => (error ? reject(error) : resolve()));
  });
}
