import { isContextArgument, parseContext, type EncryptionContext } from '../envelope/context.js';
import { UsageError } from '../errors.js';
import type { Backend } from '../backends/backend.js';
import type { Environment } from '../backends/settings.js';
import type { GlobalArguments } from './global-options.js';
import type { CliIo } from './io.js';

/** What every command handler gets: streams, environment, a way to open the backend. */
export interface CommandContext {
  readonly io: CliIo;
  readonly env: Environment;
  openBackend(argv: GlobalArguments): Promise<Backend>;
  /** Set the status the process exits with (the default is 0). */
  setExitCode(code: number): void;
}

/** Words after the credential name that carry the encryption context (`K=V`). */
export function words(value: unknown): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}

/**
 * The encryption context of `KEY=VALUE` words given on the command line. A malformed word is
 * never quoted: a word without "=" may be a value typed in the wrong place
 * (`credexec put name s3cr3t extra`), so the message says which word it is instead.
 */
export function contextFromWords(
  contextWords: readonly string[],
  label: string,
  help: string,
): EncryptionContext {
  const bad = contextWords.findIndex((word) => !isContextArgument(word));
  if (bad !== -1) {
    throw new UsageError(
      `${label} ${bad + 1} is not KEY=VALUE (not shown: it may be a secret); see ${help}`,
    );
  }
  return parseContext(contextWords);
}

/** The trailing `K=V…` words of get, getall, put and putall. */
export function commandContext(command: string, contextWords: readonly string[]) {
  return contextFromWords(contextWords, `${command}: context word`, `credexec ${command} --help`);
}
