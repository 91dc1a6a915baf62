import { accessSync, closeSync, constants, openSync, readSync, statSync } from 'node:fs';
import { endianness } from 'node:os';
import { errnoCode } from '../util/system.js';
import { exceedsArgLimits, type ArgLimits } from './arg-limits.js';

/**
 * What execve(2) would say, found out without calling it — on Node 22 and 24 a failed
 * process.execve aborts the process (a native stack dump, status 134) instead of throwing, so
 * exec mode asks first, in the order the kernel checks: the file (missing, not a regular file,
 * not executable), then the size of the arguments and environment, then the format (a `#!`
 * script's interpreter, an ELF program's loader). What cannot be known in advance — a corrupt
 * ELF file, a full process table, a file being written — is left to execve itself.
 */
export interface Prediction {
  readonly env: Readonly<Record<string, string>>;
  /** Linux's limits; `undefined` where they are not modelled (execve decides). */
  readonly limits: ArgLimits | undefined;
  /**
   * Say ENOEXEC for a file that is neither a `#!` script nor an ELF program. Only where a failed
   * execve cannot be caught: where it can, execve decides (a format registered with binfmt_misc
   * runs as it would when spawned).
   */
  readonly formats: boolean;
}

/** BINPRM_BUF_SIZE: what the kernel reads of a file to recognize its format. */
const HEAD_BYTES = 256;
const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);
const PT_INTERP = 3;
const PATH_MAX = 4096;

function codeOf(error: unknown): string {
  return errnoCode(error) ?? 'EIO';
}

/** Can this file be opened for execution: a regular file with execute permission for us? */
function executableProblem(file: string): string | undefined {
  try {
    if (!statSync(file).isFile()) return 'EACCES';
    accessSync(file, constants.X_OK);
    return undefined;
  } catch (error: unknown) {
    return codeOf(error);
  }
}

/** Read up to `length` bytes at `position`; fewer at the end of the file. */
function readAt(fd: number, length: number, position: number): Buffer {
  const buffer = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const count = readSync(fd, buffer, done, length - done, position + done);
    if (count === 0) break;
    done += count;
  }
  return buffer.subarray(0, done);
}

/**
 * The interpreter named on a `#!` line as Linux reads it (fs/binfmt_script.c): after `#!` and
 * blanks, up to a blank, a NUL or the end of the line; ENOEXEC when there is none, or when the
 * name does not end within the first 256 bytes.
 */
export function shebangInterpreter(head: Buffer): { interpreter: string } | { code: 'ENOEXEC' } {
  const newline = head.indexOf(0x0a);
  const line = head.subarray(2, newline === -1 ? head.length : newline);
  let start = 0;
  while (start < line.length && (line[start] === 0x20 || line[start] === 0x09)) start++;
  let end = start;
  while (end < line.length && line[end] !== 0x20 && line[end] !== 0x09 && line[end] !== 0) end++;
  if (end === start) return { code: 'ENOEXEC' };
  if (newline === -1 && end === line.length && head.length >= HEAD_BYTES)
    return { code: 'ENOEXEC' };
  return { interpreter: line.subarray(start, end).toString('latin1') };
}

const ET_EXEC = 2;
const ET_DYN = 3;

/**
 * Is e_type (at 16, read in this machine's byte order as the kernel reads it; missing bytes are
 * zeros to the kernel too) an executable or a shared object?
 */
function isElfProgram(head: Buffer): boolean {
  if (head.length < 18) return false;
  const type = endianness() === 'LE' ? head.readUInt16LE(16) : head.readUInt16BE(16);
  return type === ET_EXEC || type === ET_DYN;
}

/** The program loader an ELF file asks for (PT_INTERP), if any; `undefined` when unreadable. */
export function elfInterpreter(fd: number, head: Buffer): string | undefined {
  if (head.length < 52) return undefined;
  const is64 = head[4] === 2;
  const little = head[5] === 1;
  const u16 = (buffer: Buffer, at: number) =>
    little ? buffer.readUInt16LE(at) : buffer.readUInt16BE(at);
  const u32 = (buffer: Buffer, at: number) =>
    little ? buffer.readUInt32LE(at) : buffer.readUInt32BE(at);
  const word = (buffer: Buffer, at: number) =>
    is64
      ? Number(little ? buffer.readBigUInt64LE(at) : buffer.readBigUInt64BE(at))
      : u32(buffer, at);
  if (is64 && head.length < 64) return undefined;
  const phoff = word(head, is64 ? 32 : 28);
  const phentsize = u16(head, is64 ? 54 : 42);
  const phnum = u16(head, is64 ? 56 : 44);
  if (phentsize < (is64 ? 56 : 32) || phnum === 0 || phentsize * phnum > 65536) return undefined;
  const table = readAt(fd, phentsize * phnum, phoff);
  for (let index = 0; (index + 1) * phentsize <= table.length; index++) {
    const at = index * phentsize;
    if (u32(table, at) !== PT_INTERP) continue;
    const offset = word(table, at + (is64 ? 8 : 4));
    const size = word(table, at + (is64 ? 32 : 16));
    if (size < 2 || size > PATH_MAX) return undefined;
    const name = readAt(fd, size, offset);
    const nul = name.indexOf(0);
    return name.subarray(0, nul === -1 ? name.length : nul).toString('latin1');
  }
  return undefined;
}

/** The program loader `file` (an ELF program) asks for, if it can be read and asks for one. */
export function programLoader(file: string): string | undefined {
  try {
    const fd = openSync(file, 'r');
    try {
      const head = readAt(fd, HEAD_BYTES, 0);
      return head.subarray(0, 4).equals(ELF_MAGIC) ? elfInterpreter(fd, head) : undefined;
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

/** What the file's format says: the interpreter or loader it needs, or ENOEXEC. */
function formatProblem(file: string, formats: boolean): string | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    // Execute-only: the kernel can read it, we cannot; execve decides.
    return undefined;
  }
  try {
    const head = readAt(fd, HEAD_BYTES, 0);
    if (head[0] === 0x23 && head[1] === 0x21) {
      const shebang = shebangInterpreter(head);
      return 'code' in shebang
        ? shebang.code
        : (executableProblem(shebang.interpreter) ?? undefined);
    }
    if (head.subarray(0, 4).equals(ELF_MAGIC)) {
      // Every ELF loader (and any binfmt_misc rule for ELF) wants a program or a shared object:
      // anything else, a truncated header included, is not executable. Whether the machine is
      // this one is left to execve: binfmt_misc (qemu) may run other machines' programs.
      if (formats && !isElfProgram(head)) return 'ENOEXEC';
      const loader = elfInterpreter(fd, head);
      return loader === undefined ? undefined : executableProblem(loader);
    }
    return formats ? 'ENOEXEC' : undefined;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** The errno execve(file, argv, env) would fail with, or `undefined` when it would run it. */
export function predictExecve(
  file: string,
  argv: readonly string[],
  prediction: Prediction,
): string | undefined {
  const problem = executableProblem(file);
  if (problem !== undefined) return problem;
  if (
    prediction.limits !== undefined &&
    exceedsArgLimits(file, argv, prediction.env, prediction.limits)
  ) {
    return 'E2BIG';
  }
  return formatProblem(file, prediction.formats);
}
