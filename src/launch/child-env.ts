import { isReservedVariable } from '../manifest/variable-names.js';

export type Environment = Readonly<Record<string, string | undefined>>;

export interface ChildEnvInput {
  /** credexec's own environment. */
  readonly parent: Environment;
  /** Variable → value (or secret file path) for every resolved entry. */
  readonly secrets: ReadonlyMap<string, string>;
  /** Manifest variables left unset (optional and absent): removed even if the parent has them. */
  readonly unset: readonly string[];
  /** Only the secrets and PATH. */
  readonly pristine: boolean;
}

/**
 * The child's environment (SPEC §5): the parent's (or just PATH with `pristine`), without any
 * CREDEXEC_* variable, plus the secrets, which win. Pure.
 */
export function buildChildEnv(input: ChildEnvInput): Record<string, string> {
  // No prototype: a variable named __proto__ must be an ordinary key.
  const env: Record<string, string> = Object.create(null) as Record<string, string>;
  const inherited = input.pristine ? { PATH: input.parent.PATH } : input.parent;
  // A manifest variable always comes from the store; a stale exported value must not leak through.
  const unset = new Set(input.unset);
  for (const [name, value] of Object.entries(inherited)) {
    if (value !== undefined && !isReservedVariable(name) && !unset.has(name)) env[name] = value;
  }
  for (const [name, value] of input.secrets) env[name] = value;
  return env;
}
