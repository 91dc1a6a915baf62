import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { errnoCode } from '../util/system.js';

/** process.execve (Node ≥ 22.15 / 23.11, POSIX): replaces this process; returns only if it fails. */
export type Execve = (file: string, argv: readonly string[], env: Record<string, string>) => void;

/** This Node's process.execve, or `undefined` where it has none. */
export function processExecve(): Execve | undefined {
  const execve = (process as { execve?: unknown }).execve;
  if (typeof execve !== 'function' || process.platform === 'win32') return undefined;
  return (file, argv, env) => {
    (execve as (file: string, argv: readonly string[], env: object) => void).call(
      process,
      file,
      argv,
      env,
    );
  };
}

/**
 * Does a failed process.execve throw? Node 26 throws an ordinary error (nodejs/node#62878); on
 * 22 and 24 it prints a native stack and aborts the process.
 */
export function execveThrows(version = process.versions.node): boolean {
  return Number(version.split('.')[0]) >= 26;
}

/** Node ignores these for itself; a spawned child gets them back at their default (libuv). */
const IGNORED_BY_NODE = ['SIGPIPE', 'SIGXFSZ'] as const;

/**
 * A listener added and removed again makes libuv put back the default action, and the kernel
 * keeps ignored signals ignored across execve: without this the command (and everything it
 * starts) would run with SIGPIPE ignored, as no spawned command does — `yes | head` in its shell
 * would end with "Broken pipe" errors instead of quietly.
 */
function restoreDefaultSignals(): void {
  const listener = () => undefined;
  for (const signal of IGNORED_BY_NODE) {
    process.on(signal, listener);
    process.off(signal, listener);
  }
}

const O_NONBLOCK = 0o4000;

/** Is any of stdin, stdout and stderr non-blocking? `undefined` where /proc cannot tell. */
function nonBlockingStdio(): boolean | undefined {
  if (process.platform !== 'linux') return undefined;
  let found = false;
  for (const fd of [0, 1, 2]) {
    let text: string;
    try {
      text = readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
    } catch (error: unknown) {
      // A closed descriptor has no fdinfo; without /proc nothing can be told.
      if (errnoCode(error) === 'ENOENT' && readableProc()) continue;
      return undefined;
    }
    const flags = /^flags:\s+([0-7]+)$/m.exec(text);
    if (flags === null) return undefined;
    if ((parseInt(flags[1]!, 8) & O_NONBLOCK) !== 0) found = true;
  }
  return found;
}

function readableProc(): boolean {
  try {
    readFileSync('/proc/self/stat');
    return true;
  } catch {
    return false;
  }
}

/**
 * Node makes a pipe it writes to (stdout, stderr) non-blocking, and the file description is shared
 * with whatever runs next on that descriptor. libuv puts stdin, stdout and stderr back in blocking
 * mode in every child it spawns, before its exec; Node has no fcntl, so exec mode asks libuv to do
 * exactly that: it spawns `/` (a directory: the exec fails with EACCES once libuv has set up the
 * child's stdio) with the three inherited. Without it a program that writes more than the pipe
 * holds gets EAGAIN. Only when /proc says one of them is non-blocking, or cannot say (the spawn
 * costs a millisecond or two).
 */
function restoreBlockingStdio(): void {
  if (nonBlockingStdio() === false) return;
  spawnSync('/', [], { stdio: 'inherit' });
}

/** Prepare this process to become another program, as libuv prepares a spawned child. */
export function prepareProcess(): void {
  restoreDefaultSignals();
  restoreBlockingStdio();
}

function isExecveWarning(warning: unknown, rest: unknown[]): boolean {
  const [options] = rest;
  const type =
    typeof options === 'string'
      ? options
      : typeof options === 'object' && options !== null
        ? (options as { type?: unknown }).type
        : undefined;
  const text =
    typeof warning === 'string' ? warning : warning instanceof Error ? warning.message : '';
  return type === 'ExperimentalWarning' && text.startsWith('process.execve ');
}

/**
 * Call execve without Node's ExperimentalWarning for it, which credexec did not decide to print
 * (Node 26 prints it when a failed call returns). Only that warning: any other goes through.
 * Returns the errno code of a failure it could catch; on success it never returns.
 */
export function callExecve(
  execve: Execve,
  file: string,
  argv: readonly string[],
  env: Record<string, string>,
): string {
  const emitWarning = process.emitWarning;
  process.emitWarning = function (this: unknown, warning: unknown, ...rest: unknown[]) {
    if (isExecveWarning(warning, rest)) return;
    (emitWarning as (...args: unknown[]) => void).call(process, warning, ...rest);
  } as typeof process.emitWarning;
  try {
    execve(file, argv, env);
    return 'EUNKNOWN';
  } catch (error: unknown) {
    // Only the code: Node's messages for invalid arguments quote the environment.
    return errnoCode(error) ?? 'EUNKNOWN';
  } finally {
    process.emitWarning = emitWarning;
  }
}
