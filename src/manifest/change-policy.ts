import { constants } from 'node:os';

/**
 * What `credexec --watch` does when a watched entry's credential gets a new latest version
 * (docs/launcher.md "Rotation"): restart the command with the new environment, rewrite the
 * entry's secret file and send the command a signal (`"file": true` entries only: a running
 * process's environment cannot change), or only say so on stderr. Pure.
 */
export type ChangePolicy =
  | { readonly kind: 'restart' }
  | { readonly kind: 'signal'; readonly signal: NodeJS.Signals }
  | { readonly kind: 'none' };

export const RESTART: ChangePolicy = { kind: 'restart' };

export const CHANGE_POLICY_HINT = 'restart, none or signal:NAME (e.g. signal:SIGHUP)';

/** Signals a program cannot catch, so they can never ask it to reload. */
const UNCATCHABLE: ReadonlySet<string> = new Set(['SIGKILL', 'SIGSTOP']);

/**
 * A signal as `SIGHUP` or `HUP` (any case), as Node names it; undefined when it is not a signal
 * of this system.
 */
export function signalNamed(text: string): NodeJS.Signals | undefined {
  const upper = text.toUpperCase();
  const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
  return Object.hasOwn(constants.signals, name) ? (name as NodeJS.Signals) : undefined;
}

/**
 * `restart`, `none` or `signal:NAME`; the policy, or what is wrong with `text` (to follow the
 * name of the setting: `"onChange" must be …`).
 */
export function parseChangePolicy(text: string): ChangePolicy | { readonly problem: string } {
  if (text === 'restart') return RESTART;
  if (text === 'none') return { kind: 'none' };
  if (text.startsWith('signal:')) {
    const name = text.slice('signal:'.length);
    const signal = signalNamed(name);
    if (signal === undefined) return { problem: `must name a signal, not "${name}"` };
    if (UNCATCHABLE.has(signal)) {
      return {
        problem: `cannot use ${signal}: it cannot be caught, so it cannot ask the command to reload`,
      };
    }
    return { kind: 'signal', signal };
  }
  return { problem: `must be ${CHANGE_POLICY_HINT}, not "${text}"` };
}

export function describePolicy(policy: ChangePolicy): string {
  return policy.kind === 'signal' ? `signal:${policy.signal}` : policy.kind;
}

/** Why an entry cannot have `policy`, or undefined. */
export function policyProblem(policy: ChangePolicy, file: boolean): string | undefined {
  if (policy.kind !== 'signal' || file) return undefined;
  return `"onChange": "${describePolicy(policy)}" needs "file": true: an environment variable cannot change inside a running process, so a new value reaches it only by a restart`;
}
