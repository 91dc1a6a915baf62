/** Every exit status credexec itself chooses (SPEC §4, §5). A child's own status passes through. */
export const ExitCode = {
  OK: 0,
  /** Runtime failure: not found, integrity, key service, store. */
  FAILURE: 1,
  USAGE: 2,
  /** The launcher could not resolve its secrets (or refused the manifest); nothing was spawned. */
  LAUNCH_FAILED: 125,
  COMMAND_NOT_EXECUTABLE: 126,
  COMMAND_NOT_FOUND: 127,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];
