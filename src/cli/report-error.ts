import type { Environment } from '../backends/settings.js';
import { CredexecError, messageOf } from '../errors.js';
import type { CliIo } from './io.js';

/** The errors behind `error`: its cause chain, then each listed failure's (resolve, getall). */
function debugChain(error: unknown, seen = new Set<unknown>()): Error[] {
  const chain: Error[] = [];
  for (let cause = error; cause instanceof Error && !seen.has(cause); cause = cause.cause) {
    seen.add(cause);
    chain.push(cause);
  }
  for (const link of [...chain]) {
    const failures = (link as { failures?: unknown }).failures;
    if (!Array.isArray(failures)) continue;
    for (const failure of failures as { error?: unknown }[]) {
      chain.push(...debugChain(failure.error, seen));
    }
  }
  return chain;
}

/**
 * Report a failure on stderr: one `credexec: …` message and, with CREDEXEC_DEBUG set, the stacks
 * of the error, its causes and, for errors listing several failures, each failure's. Stacks and
 * causes carry names and codes, never values (no message in this code base does).
 */
export function reportError(io: CliIo, env: Environment, error: unknown): void {
  const known = error instanceof CredexecError;
  io.stderr.write(`credexec: ${known ? error.message : `unexpected error: ${messageOf(error)}`}\n`);
  if (env.CREDEXEC_DEBUG) {
    for (const link of debugChain(error)) io.stderr.write(`${link.stack ?? link.message}\n`);
  } else if (!known) {
    io.stderr.write('credexec: set CREDEXEC_DEBUG=1 for details\n');
  }
}
