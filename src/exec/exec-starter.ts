import type { ChildStarter, StartRequest } from '../launch/child-starter.js';
import { spawnError } from '../launch/spawn-child.js';
import type { RunningChild } from '../launch/spawn-child.js';
import { processArgLimits } from './arg-limits.js';
import {
  DARWIN_RULES,
  GLIBC_RULES,
  MUSL_RULES,
  execvp,
  type ExecAttempt,
  type LookupRules,
} from './find-command.js';
import { callExecve, execveThrows, prepareProcess, type Execve } from './hand-over.js';
import { predictExecve, programLoader } from './predict-exec.js';
import { fileEntriesConflict } from './refusals.js';

/** The spawner's lookup rules here: its C library's (Linux), or libuv's own (macOS). */
export function lookupRules(): LookupRules {
  if (process.platform === 'darwin') return DARWIN_RULES;
  if (process.platform !== 'linux') return MUSL_RULES;
  // Node links the C library the spawner's execvp comes from: musl's loader names itself.
  return programLoader(process.execPath)?.includes('musl') === true ? MUSL_RULES : GLIBC_RULES;
}

/**
 * Should exec mode say ENOEXEC itself for a file that is neither a `#!` script nor an ELF program?
 * Only where a failed execve cannot be caught, and only on Linux, where programs are ELF (macOS
 * runs Mach-O programs, which this check does not know).
 */
export function predictsFormats(recoverable: boolean, platform = process.platform): boolean {
  return !recoverable && platform === 'linux';
}

/** An errno as an Error carrying only its code: what spawnError reads. */
function errnoError(code: string, file: string): Error {
  return Object.assign(new Error(`execve ${file}: ${code}`), { code, syscall: 'execve' });
}

export interface ExecStarterOptions {
  /** Does a failed execve throw (Node 26) rather than abort? Default: by this Node's version. */
  readonly recoverable?: boolean;
  /** What readies the process for the exec (signals, stdio); replaced in tests. */
  readonly prepare?: () => void;
}

/**
 * `--exec`: become the command. Resolution, checks and the child's environment are the
 * launcher's as for a spawned command; then, instead of spawning, credexec looks the command up
 * exactly as the spawner would (find-command.ts), asks the kernel's questions in advance
 * (predict-exec.ts), lets the launcher release everything it holds, and replaces itself with the
 * command through process.execve. `start` never settles when that works: the process is the
 * command now, with credexec's pid. It rejects with the SpawnError the spawner would have given.
 */
export function execStarter(execve: Execve, options: ExecStarterOptions = {}): ChildStarter {
  const recoverable = options.recoverable ?? execveThrows();
  const prepare = options.prepare ?? prepareProcess;
  return {
    refuse(entries) {
      const conflict = fileEntriesConflict(entries);
      if (conflict !== undefined) throw conflict;
    },
    async start(request: StartRequest): Promise<RunningChild> {
      const { command, args, env } = request;
      const argv = [command, ...args];
      const fail = (code: string) => spawnError(command, errnoError(code, command), { argv, env });
      // node:child_process refuses an empty command before libuv sees it.
      if (command === '') throw fail('ERR_INVALID_ARG_VALUE');
      const rules = lookupRules();
      const prediction = {
        env,
        limits: processArgLimits(),
        formats: predictsFormats(recoverable),
      };
      const predict: ExecAttempt = (file, fileArgv) => predictExecve(file, fileArgv, prediction);
      const failure = execvp(command, argv, env.PATH, rules, predict);
      if (failure !== undefined) throw fail(failure);

      await request.release();
      prepare();
      // The same lookup, now calling execve where the prediction says it runs. Where a failed
      // execve throws (Node 26), the lookup goes on as execvp would; on 22 and 24 it aborts.
      const code = execvp(command, argv, env.PATH, rules, (file, fileArgv) => {
        const predicted = predict(file, fileArgv);
        if (predicted !== undefined) return predicted;
        return callExecve(execve, file, fileArgv, env);
      });
      throw fail(code ?? 'EUNKNOWN');
    },
  };
}
