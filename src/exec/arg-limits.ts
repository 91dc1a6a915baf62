import { readFileSync } from 'node:fs';
import { MAX_STRING_BYTES } from '../launch/exec-limits.js';

/**
 * Linux's limits on what execve(2) may carry, modelled exactly (fs/exec.c, Linux ≥ 5.18), so that
 * exec mode can say E2BIG before calling execve — on Node 22 and 24 a failed process.execve
 * aborts the process instead of throwing. The spawning launcher gets the same answer from the
 * kernel, and both report it with the same words (src/launch/exec-limits.ts).
 */
export interface ArgLimits {
  /** RLIMIT_STACK's soft limit in bytes (Infinity: unlimited); execve takes a quarter of it. */
  readonly stackBytes: number;
  /** sizeof(void *): each argument and variable also costs a pointer on the new stack. */
  readonly pointerBytes: number;
}

/** _STK_LIM: the strings never take more than three quarters of it, whatever the rlimit. */
const STACK_CAP = 8 * 1024 * 1024;
/** ARG_MAX: 32 pages are always allowed, however small the stack limit. */
const ARG_MIN = 32 * 4096;

const bytes = (text: string) => Buffer.byteLength(text, 'utf8') + 1;

/**
 * Would execve(file, argv, env) fail with E2BIG? The kernel reserves min(¾ of 8 MiB, ¼ of the
 * stack limit), at least 128 KiB, for the pointers to every argument and variable and then the
 * strings: the file name, each `NAME=value` and each argument with its NUL, each string at most
 * MAX_ARG_STRLEN. Pure.
 */
export function exceedsArgLimits(
  file: string,
  argv: readonly string[],
  env: Readonly<Record<string, string>>,
  limits: ArgLimits,
): boolean {
  const names = Object.keys(env);
  const limit = Math.max(Math.min((STACK_CAP / 4) * 3, Math.floor(limits.stackBytes / 4)), ARG_MIN);
  const pointers = (Math.max(argv.length, 1) + names.length) * limits.pointerBytes;
  if (limit <= pointers) return true;
  let total = bytes(file);
  for (const text of [...names.map((name) => `${name}=${env[name]}`), ...argv]) {
    const size = bytes(text);
    if (size > MAX_STRING_BYTES) return true;
    total += size;
  }
  return total > limit - pointers;
}

/** The soft RLIMIT_STACK from a `/proc/<pid>/limits` text; undefined when it is not there. */
export function stackLimitOf(limitsText: string): number | undefined {
  const match = /^Max stack size\s+(\S+)/m.exec(limitsText);
  if (match === null) return undefined;
  if (match[1] === 'unlimited') return Number.POSITIVE_INFINITY;
  const value = Number(match[1]);
  return Number.isSafeInteger(value) ? value : undefined;
}

const POINTER_64 = new Set(['arm64', 'x64', 'ppc64', 's390x', 'riscv64', 'loong64', 'mips64el']);

/**
 * This process's limits, on Linux; undefined elsewhere (macOS counts differently, and exec mode
 * then leaves E2BIG to execve itself).
 */
export function processArgLimits(): ArgLimits | undefined {
  if (process.platform !== 'linux') return undefined;
  let stackBytes: number | undefined;
  try {
    stackBytes = stackLimitOf(readFileSync('/proc/self/limits', 'utf8'));
  } catch {
    stackBytes = undefined;
  }
  return {
    // Without /proc: the usual 8 MiB.
    stackBytes: stackBytes ?? 8 * 1024 * 1024,
    pointerBytes: POINTER_64.has(process.arch) ? 8 : 4,
  };
}
