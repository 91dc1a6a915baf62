import type { Backend } from '../backends/backend.js';
import { UsageError } from '../errors.js';
import type { LaunchIo } from '../launch/run-launcher.js';
import type { Supervisor } from '../launch/supervisor.js';
import {
  parseChangePolicy,
  RESTART,
  signalNamed,
  type ChangePolicy,
} from '../manifest/change-policy.js';
import { SETTINGS_KEY, type ManifestSettings } from '../manifest/manifest-settings.js';
import { describeDuration, parseDuration } from '../util/duration.js';
import type { WatchSettings } from '../watch/watch-supervisor.js';
import type { CommandContext } from './command-context.js';

/** `--watch[=INTERVAL]` and its knobs, as parsed for run (and `--on-change` for check). */
export interface WatchArguments {
  /** `''`: given without an interval. */
  readonly watch?: string | undefined;
  readonly onChange?: string | undefined;
  readonly killSignal?: string | undefined;
  readonly killTimeout?: string | undefined;
  readonly splay?: string | undefined;
}

export const DEFAULT_WATCH_INTERVAL = '60s';
export const MIN_WATCH_INTERVAL_MS = 5_000;
export const DEFAULT_KILL_TIMEOUT = '10s';
export const DEFAULT_KILL_SIGNAL: NodeJS.Signals = 'SIGTERM';

/**
 * For tests only (docs/launcher.md says so): a shorter minimum interval, in milliseconds, so that
 * a test does not wait 5 s for each poll. Read only when set.
 */
export const MIN_INTERVAL_ENV = 'CREDEXEC_WATCH_MIN_INTERVAL_MS';

function minimumInterval(env: CommandContext['env']): number {
  const text = env[MIN_INTERVAL_ENV];
  if (text === undefined || text === '') return MIN_WATCH_INTERVAL_MS;
  if (!/^\d{1,9}$/.test(text) || Number(text) < 1)
    throw new UsageError(`${MIN_INTERVAL_ENV} must be a whole number of milliseconds above 0`);
  return Number(text);
}

function intervalFrom(
  argv: WatchArguments,
  manifest: ManifestSettings,
  env: CommandContext['env'],
): number | undefined {
  let ms: number;
  let what: string;
  if (argv.watch !== undefined) {
    const text = argv.watch === '' ? DEFAULT_WATCH_INTERVAL : argv.watch;
    ms = parseDuration(text, '--watch');
    what = `--watch=${text}`;
  } else if (manifest.watch === undefined || manifest.watch === false) {
    return undefined;
  } else if (manifest.watch === true) {
    ms = parseDuration(DEFAULT_WATCH_INTERVAL, '--watch');
    what = `"watch": true`;
  } else {
    ({ ms } = manifest.watch);
    what = `"watch": "${manifest.watch.text}"`;
  }
  const minimum = minimumInterval(env);
  if (ms < minimum) {
    throw new UsageError(
      `${what}: the interval must be at least ${describeDuration(minimum)}, so that polling stays cheap`,
    );
  }
  return ms;
}

/** `--on-change`, else the manifest's `"onChange"`, else restart; and where it came from. */
export function defaultPolicyFrom(
  flag: string | undefined,
  manifest: ManifestSettings,
): { policy: ChangePolicy; source: string } {
  if (flag !== undefined) {
    const policy = parseChangePolicy(flag);
    if ('problem' in policy) throw new UsageError(`--on-change ${policy.problem}`);
    return { policy, source: '--on-change' };
  }
  if (manifest.onChange !== undefined)
    return { policy: manifest.onChange, source: `"${SETTINGS_KEY}" "onChange"` };
  return { policy: RESTART, source: 'the default' };
}

const KNOBS = ['onChange', 'killSignal', 'killTimeout', 'splay'] as const;
const FLAG_OF: Record<(typeof KNOBS)[number], string> = {
  onChange: '--on-change',
  killSignal: '--kill-signal',
  killTimeout: '--kill-timeout',
  splay: '--splay',
};

/**
 * On with `--watch[=INTERVAL]` or a manifest's `"$credexec": {"watch": …}`; each knob from its
 * flag, else the manifest, else its default. Undefined when off (a knob given then is a
 * UsageError).
 */
export function watchSettingsFrom(
  argv: WatchArguments,
  manifest: ManifestSettings,
  env: CommandContext['env'],
): WatchSettings | undefined {
  const intervalMs = intervalFrom(argv, manifest, env);
  if (intervalMs === undefined) {
    const given = KNOBS.find((knob) => argv[knob] !== undefined);
    if (given === undefined) return undefined;
    throw new UsageError(
      `${FLAG_OF[given]} goes with --watch (or "watch" in a JSON manifest's "${SETTINGS_KEY}" settings)`,
    );
  }
  const { policy, source } = defaultPolicyFrom(argv.onChange, manifest);
  let killSignal = manifest.killSignal ?? DEFAULT_KILL_SIGNAL;
  if (argv.killSignal !== undefined) {
    const signal = signalNamed(argv.killSignal);
    if (signal === undefined)
      throw new UsageError(
        `--kill-signal must be a signal name (e.g. SIGTERM), not "${argv.killSignal}"`,
      );
    killSignal = signal;
  }
  const killTimeoutMs =
    argv.killTimeout !== undefined
      ? parseDuration(argv.killTimeout, '--kill-timeout')
      : (manifest.killTimeout?.ms ?? parseDuration(DEFAULT_KILL_TIMEOUT, '--kill-timeout'));
  const splayMs =
    argv.splay !== undefined ? parseDuration(argv.splay, '--splay') : (manifest.splay?.ms ?? 0);
  return {
    intervalMs,
    defaultPolicy: policy,
    defaultPolicySource: source,
    killSignal,
    killTimeoutMs,
    splayMs,
  };
}

/** The launcher's supervisor for `--watch`; the watch code loads only then. */
export async function watchSupervisorFor(
  settings: WatchSettings,
  backend: Backend,
  io: LaunchIo,
  concurrency: number,
): Promise<Supervisor> {
  const { watchSupervisor } = await import('../watch/watch-supervisor.js');
  return watchSupervisor({ ...settings, backend, warn: io.warn, concurrency });
}
