/** The `code` of a Node system error (`ENOENT`, `EACCES`, …), if it has one. */
export function errnoCode(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error && typeof error.code === 'string'
    ? error.code
    : undefined;
}

/** A short reason for messages: the errno code, or the error's message. */
export function describeErrno(error: unknown): string {
  return errnoCode(error) ?? (error instanceof Error ? error.message : String(error));
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
