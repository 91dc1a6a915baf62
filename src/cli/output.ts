import { readFileSync, readlinkSync } from 'node:fs';
import { OutputError } from '../errors.js';
import type { CliIo } from './io.js';

/** What commands print: text, or a value's bytes. */
export type OutputChunk = string | Uint8Array;

function ignore(): void {}

const guarded = new WeakSet<NodeJS.WritableStream>();

/**
 * Keep a failed write on `stream` from becoming an uncaught 'error' event, which Node prints as a
 * stack trace: writes through writeOutput learn of the failure from their callback instead, and
 * a message to stderr that cannot be delivered has nowhere better to go.
 */
export function guardStream<T extends NodeJS.WritableStream>(stream: T): T {
  if (!guarded.has(stream)) {
    guarded.add(stream);
    stream.on('error', ignore);
  }
  return stream;
}

function errnoOf(error: unknown): string {
  const code = error instanceof Error && 'code' in error ? error.code : undefined;
  return typeof code === 'string' ? code : 'EIO';
}

function writeChunk(stream: NodeJS.WritableStream, chunk: OutputChunk): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(chunk, (error?: Error | null) => (error ? reject(error) : resolve()));
  });
}

/**
 * Write `chunks` in order and resolve once the last has been handed to the system (its write
 * callback), or reject with an OutputError naming the errno. Only then may a caller wipe the
 * buffers: stdout to a pipe queues what the pipe cannot take yet and writes it later, from the
 * very same memory.
 */
export async function writeOutput(
  stream: NodeJS.WritableStream,
  ...chunks: readonly OutputChunk[]
): Promise<void> {
  guardStream(stream);
  for (const chunk of chunks) {
    if (chunk.length === 0) continue;
    try {
      await writeChunk(stream, chunk);
    } catch (error: unknown) {
      throw new OutputError(errnoOf(error), { cause: error });
    }
  }
}

/** Every command writes its standard output through here, so write errors end them all alike. */
export function writeStdout(io: CliIo, ...chunks: readonly OutputChunk[]): Promise<void> {
  return writeOutput(io.stdout, ...chunks);
}

/**
 * Fail when standard output was closed before credexec started (`>&-`). Called by the commands
 * whose output is their result (get, getall, list, keys, --version, --help): for them a silent
 * exit 0 would look like success. Commands whose output only reports what they did (put, setup,
 * delete, check) do not ask, since a caller discarding their output may well have closed it.
 */
export function requireOpenStdout(io: CliIo): void {
  if (io.stdoutIsClosed?.() === true) throw new OutputError('EBADF');
}

/**
 * Node reopens a closed stdin, stdout or stderr on /dev/null, read-write, before any JavaScript
 * runs, so `>&-` looks like a /dev/null opened O_RDWR; a shell's `> /dev/null` is write-only.
 * Pure: takes the fd's /proc link target and its fdinfo text.
 */
export function looksReopenedByNode(link: string, fdinfo: string): boolean {
  const flags = /^flags:\s*([0-7]+)$/m.exec(fdinfo)?.[1];
  return link === '/dev/null' && flags !== undefined && (Number.parseInt(flags, 8) & 0o3) === 0o2;
}

/** Whether fd 1 looks closed before start-up (Linux; elsewhere, and on any doubt, false). */
export function processStdoutIsClosed(): boolean {
  try {
    return looksReopenedByNode(
      readlinkSync('/proc/self/fd/1'),
      readFileSync('/proc/self/fdinfo/1', 'utf8'),
    );
  } catch {
    return false;
  }
}
