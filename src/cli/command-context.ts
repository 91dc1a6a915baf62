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
