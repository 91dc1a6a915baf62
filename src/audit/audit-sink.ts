import { closeSync, constants, fstatSync, openSync, writeSync } from 'node:fs';
import { AuditLogError } from '../errors.js';
import { errnoCode } from '../util/system.js';
import { ownerProblem, writableProblem } from '../util/private-files.js';

/** `--audit-log -`: records go to standard error (standard output belongs to the command). */
export const STDERR_TARGET = '-';

/** Where audit records go: one `append` per record, each a single line. */
export interface AuditSink {
  /** The path as given, or `-`; for messages. */
  readonly name: string;
  /** Append one line; throws (an errno-bearing error, or a short write) when it cannot. */
  append(line: string): void;
  close(): void;
}

/** A write that put fewer bytes than asked into a regular file (full disk, file size limit). */
export class ShortWriteError extends Error {
  constructor(written: number, total: number) {
    super(`short write (${written} of ${total} bytes)`);
  }
}

const { O_WRONLY, O_APPEND, O_CREAT, O_EXCL } = constants;
// Not on Windows, where neither a FIFO nor a symbolic link can be opened by accident this way.
const O_NOFOLLOW = constants.O_NOFOLLOW ?? 0;
// A FIFO in PATH's place must not block the launch until a reader comes: it is refused instead.
const O_NONBLOCK = constants.O_NONBLOCK ?? 0;
const APPEND = O_WRONLY | O_APPEND | O_NOFOLLOW | O_NONBLOCK;

function openFailure(path: string, error: unknown): AuditLogError {
  const code = errnoCode(error);
  const why =
    code === 'ELOOP'
      ? 'it is a symbolic link; name the file itself'
      : code === 'ENXIO'
        ? 'it is a FIFO with no reader; use a regular file'
        : (code ?? String(error));
  return new AuditLogError(`cannot open audit log ${path}: ${why}`, { cause: error });
}

/** Created 0600 when absent (exclusively, so a concurrent run cannot race it), else appended to. */
function openAppending(path: string): number {
  for (let attempt = 0; ; attempt++) {
    try {
      return openSync(path, APPEND | O_CREAT | O_EXCL, 0o600);
    } catch (error: unknown) {
      if (errnoCode(error) !== 'EEXIST') throw openFailure(path, error);
    }
    try {
      return openSync(path, APPEND);
    } catch (error: unknown) {
      // Removed between the two opens (log rotation): create it again, once.
      if (errnoCode(error) !== 'ENOENT' || attempt > 0) throw openFailure(path, error);
    }
  }
}

/**
 * The audit log at `path`: a regular file of yours that nobody else may write to (the rules of
 * the local backend's files), opened for appending. Each record is one write(2) with O_APPEND,
 * which a local filesystem applies at the end of the file in one piece, so concurrent runs
 * appending to the same log never interleave their lines.
 */
function openFileSink(path: string): AuditSink {
  const fd = openAppending(path);
  try {
    const stat = fstatSync(fd);
    const problem = !stat.isFile()
      ? `audit log ${path} is not a regular file; refusing to append to it`
      : (ownerProblem('audit log', path, stat) ?? writableProblem('audit log', path, stat));
    if (problem !== undefined) throw new AuditLogError(problem);
  } catch (error: unknown) {
    closeSync(fd);
    throw error instanceof AuditLogError ? error : openFailure(path, error);
  }
  let open = true;
  return {
    name: path,
    append(line) {
      const bytes = Buffer.from(line, 'utf8');
      const written = writeSync(fd, bytes);
      if (written !== bytes.length) throw new ShortWriteError(written, bytes.length);
    },
    close() {
      if (open) closeSync(fd);
      open = false;
    },
  };
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
/** How long a full, non-blocking standard error may hold up one record. */
const STDERR_PATIENCE_MS = 1000;

/**
 * Write all of `bytes` to `fd`. Standard error may be a pipe someone made non-blocking, or one
 * whose reader is slow: wait for room rather than drop half a record. A record longer than
 * PIPE_BUF (4096 bytes on Linux) is not atomic on a pipe, whatever is done here.
 */
export function writeFully(
  fd: number,
  bytes: Uint8Array,
  write: (fd: number, bytes: Uint8Array, offset: number, length: number) => number = writeSync,
): void {
  let offset = 0;
  let waited = 0;
  while (offset < bytes.length) {
    try {
      offset += write(fd, bytes, offset, bytes.length - offset);
    } catch (error: unknown) {
      if (errnoCode(error) !== 'EAGAIN' || waited >= STDERR_PATIENCE_MS) throw error;
      Atomics.wait(sleeper, 0, 0, 1);
      waited++;
    }
  }
}

/**
 * Standard error: credexec's own file descriptor 2, written directly. Not `process.stderr`: once
 * the command runs, creating that stream would make the pipe the command shares non-blocking for
 * the command too. Tests hand in a stream instead.
 */
function stderrSink(stream: NodeJS.WritableStream | undefined): AuditSink {
  if (stream === undefined) {
    try {
      fstatSync(2);
    } catch (error: unknown) {
      throw new AuditLogError(
        `cannot use standard error as the audit log: ${errnoCode(error) ?? String(error)}`,
        { cause: error },
      );
    }
  }
  return {
    name: STDERR_TARGET,
    append(line) {
      if (stream === undefined) writeFully(2, Buffer.from(line, 'utf8'));
      else stream.write(line);
    },
    close: () => undefined,
  };
}

/** Open the audit log: `-` for standard error, else a path. Throws AuditLogError. */
export function openAuditSink(
  target: string,
  stderr: NodeJS.WritableStream | undefined = undefined,
): AuditSink {
  return target === STDERR_TARGET ? stderrSink(stderr) : openFileSink(target);
}

/** One line on standard error, directly on fd 2 (see stderrSink), or on the stream given. */
export function stderrLine(stderr: NodeJS.WritableStream | undefined): (line: string) => void {
  return (line) => {
    try {
      if (stderr === undefined) writeFully(2, Buffer.from(`${line}\n`, 'utf8'));
      else stderr.write(`${line}\n`);
    } catch {
      // Nowhere left to say it: the command runs on regardless.
    }
  };
}
