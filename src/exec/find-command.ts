/**
 * How the spawning launcher's command lookup works, replayed for exec mode. node:child_process
 * hands the command to libuv, which (on Linux) sets the child's environment and calls the C
 * library's execvp(3) in the child, and (on macOS) runs its own copy of musl's loop around
 * posix_spawn. Exec mode must find the same file and fail with the same errno, so it runs the same
 * algorithm with `attempt` standing for execve(2). Pure: `attempt` does the system's part.
 */

/** What execve(2) would end with: `undefined` when the program runs, else an errno code. */
export type ExecAttempt = (file: string, argv: readonly string[]) => string | undefined;

/** The C library behind the spawner's lookup; they differ in small but visible ways. */
export interface LookupRules {
  /** The search path when the environment has no PATH at all. */
  readonly defaultPath: string;
  /** Errors after which the next PATH entry is tried (EACCES is also remembered). */
  readonly nextEntryOn: ReadonlySet<string>;
  /** glibc runs a file the kernel cannot execute (ENOEXEC) as a /bin/sh script. */
  readonly shellScripts: boolean;
}

/** glibc's execvp (posix/execvpe.c): what Node's official Linux builds use. */
export const GLIBC_RULES: LookupRules = {
  defaultPath: '/bin:/usr/bin',
  nextEntryOn: new Set(['EACCES', 'ENOENT', 'ESTALE', 'ENOTDIR', 'ENODEV', 'ETIMEDOUT']),
  shellScripts: true,
};

/** musl's execvp (src/process/execvp.c): Alpine's Node. */
export const MUSL_RULES: LookupRules = {
  defaultPath: '/usr/local/bin:/bin:/usr/bin',
  nextEntryOn: new Set(['EACCES', 'ENOENT', 'ENOTDIR']),
  shellScripts: false,
};

/** libuv's own loop on macOS (uv__spawn_resolve_and_spawn, from musl), with _PATH_DEFPATH. */
export const DARWIN_RULES: LookupRules = {
  defaultPath: '/usr/bin:/bin',
  nextEntryOn: new Set(['EACCES', 'ENOENT', 'ENOTDIR']),
  shellScripts: false,
};

export const SHELL = '/bin/sh';
const NAME_MAX = 255;

/**
 * execvp(command, argv) with the search path `path` (the child environment's PATH, `undefined`
 * when it has none): a name with a `/` is used as it is; otherwise each PATH entry in order, an
 * empty entry meaning the current directory; a missing file, a non-directory on the way or a
 * denied one goes on to the next entry, any other error stops the search; EACCES is reported if
 * nothing better was found. Returns the errno code the lookup fails with, or `undefined` as soon
 * as `attempt` says a file runs.
 */
export function execvp(
  command: string,
  argv: readonly string[],
  path: string | undefined,
  rules: LookupRules,
  attempt: ExecAttempt,
): string | undefined {
  const run = (file: string): string | undefined => {
    const code = attempt(file, argv);
    if (code !== 'ENOEXEC' || !rules.shellScripts) return code;
    // glibc's maybe_script_execute: /bin/sh FILE ARGS…, and its errno if that fails too.
    return attempt(SHELL, [SHELL, file, ...argv.slice(1)]);
  };
  if (command.includes('/')) return run(command);
  if (Buffer.byteLength(command, 'utf8') > NAME_MAX) return 'ENAMETOOLONG';
  let deniedOnce = false;
  let last = 'ENOENT';
  for (const entry of (path ?? rules.defaultPath).split(':')) {
    const code = run(entry === '' ? command : `${entry}/${command}`);
    if (code === undefined || !rules.nextEntryOn.has(code)) return code;
    if (code === 'EACCES') deniedOnce = true;
    last = code;
  }
  return deniedOnce ? 'EACCES' : last;
}
