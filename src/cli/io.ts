import { promises as fs } from 'node:fs';
import { homedir } from 'node:os';
import { UsageError } from '../errors.js';
import { guardStream, processStdoutIsClosed } from './output.js';

/** The process's streams, injectable so commands can be driven from tests. */
export interface CliIo {
  readonly stdin: NodeJS.ReadableStream & {
    isTTY?: boolean;
    setRawMode?: (mode: boolean) => unknown;
  };
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  /** Was standard output closed when credexec started? Absent: never. */
  readonly stdoutIsClosed?: () => boolean;
}

/**
 * The real streams, created on first use: merely touching `process.stdin` builds a stream (and
 * for a terminal, a tty handle), which the launcher never needs and should not pay for. stdout
 * and stderr come guarded, so that a write error never surfaces as an uncaught exception.
 */
export const processIo: CliIo = {
  get stdin() {
    return process.stdin;
  },
  get stdout() {
    return guardStream(process.stdout);
  },
  get stderr() {
    return guardStream(process.stderr);
  },
  stdoutIsClosed: processStdoutIsClosed,
};

export async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream)
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}

function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? homedir() + path.slice(1) : path;
}

/** yargs turns a bare `-` into an empty string, so the CLI swaps it for this marker first. */
export const STDIN_ARGUMENT = '\u0000stdin';

export function markStdinArguments(args: readonly string[]): string[] {
  const end = args.indexOf('--');
  return args.map((arg, index) =>
    arg === '-' && (end === -1 || index < end) ? STDIN_ARGUMENT : arg,
  );
}

/** `-` reads stdin, `@FILE` reads a file (both byte for byte), anything else is the value itself. */
export async function readValueArgument(argument: string, io: CliIo): Promise<Buffer> {
  if (argument === '-' || argument === STDIN_ARGUMENT) return readAll(io.stdin);
  if (argument.startsWith('@')) {
    const path = expandHome(argument.slice(1));
    try {
      return await fs.readFile(path);
    } catch (error: unknown) {
      const code = error instanceof Error && 'code' in error ? String(error.code) : String(error);
      throw new UsageError(`cannot read value file ${path}: ${code}`, { cause: error });
    }
  }
  return Buffer.from(argument, 'utf8');
}

/** Read a line from the terminal without echoing it. */
export async function promptHidden(label: string, io: CliIo): Promise<Buffer> {
  const { stdin } = io;
  if (!stdin.isTTY || !stdin.setRawMode) {
    throw new UsageError('-P/--prompt needs a terminal; pipe the value in with "-" instead');
  }
  // No echo before the prompt shows, so nothing typed early is ever displayed.
  stdin.setRawMode(true);
  io.stderr.write(`${label}: `);
  stdin.resume();
  const bytes: number[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer | string) => {
        for (const byte of typeof chunk === 'string' ? Buffer.from(chunk) : chunk) {
          if (byte === 0x0d || byte === 0x0a || byte === 0x04) {
            stdin.off('data', onData);
            resolve();
            return;
          }
          if (byte === 0x03) {
            stdin.off('data', onData);
            reject(new UsageError('cancelled'));
            return;
          }
          if (byte === 0x7f || byte === 0x08) bytes.pop();
          else bytes.push(byte);
        }
      };
      stdin.on('data', onData);
    });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
    io.stderr.write('\n');
  }
  const value = Buffer.from(bytes);
  bytes.fill(0);
  return value;
}
