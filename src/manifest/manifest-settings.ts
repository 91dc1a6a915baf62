import { dirname, resolve } from 'node:path';
import { DURATION_HINT, durationMs } from '../util/duration.js';
import {
  CHANGE_POLICY_HINT,
  parseChangePolicy,
  signalNamed,
  type ChangePolicy,
} from './change-policy.js';
import { readJson, type JsonNode } from './json-reader.js';
import type { ProblemList } from './manifest-problems.js';

/**
 * Launcher settings in a JSON manifest: the reserved member `"$credexec": { … }`, which can never
 * be a variable (`$` is not allowed in variable names), so settings and variables never collide.
 * The dotenv form has no settings. A flag on the command line wins over the manifest.
 *
 *     { "$credexec": { "fallback": "/var/lib/app/credexec.fallback", "fallbackMaxAge": "24h" },
 *       "DB_PASSWORD": "app.db.password" }
 */
export const SETTINGS_KEY = '$credexec';

export interface ManifestSettings {
  /** `"fallback"`: the fallback file (src/fallback), resolved against the manifest's directory. */
  readonly fallback?: string;
  /** `"fallbackMaxAge"`: as written (`24h`) and in milliseconds. */
  readonly fallbackMaxAge?: Duration;
  /** `"redact": true`: as `--redact` (a flag or CREDEXEC_REDACT cannot turn it off). */
  readonly redact?: boolean;
  /** `"exec": true`: as `--exec`. */
  readonly exec?: boolean;
  /** `"watch": true` or `"watch": "30s"`: as `--watch[=INTERVAL]`; `false`: off unless the flag. */
  readonly watch?: boolean | Duration;
  /** `"onChange"`: as `--on-change`, for entries without their own. */
  readonly onChange?: ChangePolicy;
  /** `"killSignal"`, `"killTimeout"`, `"splay"`: as the flags of the same names. */
  readonly killSignal?: NodeJS.Signals;
  readonly killTimeout?: Duration;
  readonly splay?: Duration;
}

/** A duration as written (`24h`) and in milliseconds. */
export interface Duration {
  readonly text: string;
  readonly ms: number;
}

type Read<T> = { readonly value: T } | { readonly problem: string };

function readDuration(node: JsonNode, key: string): Read<Duration> {
  const ms = node.kind === 'string' ? durationMs(node.value) : undefined;
  return ms === undefined || node.kind !== 'string'
    ? { problem: `"${key}" must be ${DURATION_HINT}` }
    : { value: { text: node.value, ms } };
}

/** Each setting's reader: its value, or what is wrong with it. */
const READERS: {
  readonly [K in keyof ManifestSettings]-?: (
    node: JsonNode,
    file: string,
  ) => Read<NonNullable<ManifestSettings[K]>>;
} = {
  fallback: (node, file) =>
    node.kind === 'string' && node.value !== ''
      ? { value: resolve(dirname(file), node.value) }
      : { problem: '"fallback" must be a non-empty path (relative to this manifest\'s directory)' },
  fallbackMaxAge: (node) => readDuration(node, 'fallbackMaxAge'),
  redact: (node) =>
    node.kind === 'boolean' ? { value: node.value } : { problem: '"redact" must be true or false' },
  exec: (node) =>
    node.kind === 'boolean' ? { value: node.value } : { problem: '"exec" must be true or false' },
  watch: (node) =>
    node.kind === 'boolean'
      ? { value: node.value }
      : node.kind === 'string'
        ? readDuration(node, 'watch')
        : { problem: `"watch" must be true, false or an interval: ${DURATION_HINT}` },
  onChange: (node) => {
    const read =
      node.kind === 'string'
        ? parseChangePolicy(node.value)
        : { problem: `must be ${CHANGE_POLICY_HINT}` };
    return 'problem' in read ? { problem: `"onChange" ${read.problem}` } : { value: read };
  },
  killSignal: (node) => {
    const signal = node.kind === 'string' ? signalNamed(node.value) : undefined;
    return signal === undefined
      ? { problem: '"killSignal" must be a signal name (e.g. SIGTERM)' }
      : { value: signal };
  },
  killTimeout: (node) => readDuration(node, 'killTimeout'),
  splay: (node) => readDuration(node, 'splay'),
};

const isSetting = (key: string): key is keyof ManifestSettings => Object.hasOwn(READERS, key);

/**
 * The settings of every JSON manifest among `files`, in order. Problems (a block that is not an
 * object, an unknown key, a bad value, a setting given twice in one file or in two) are added to
 * `problems` with their file and line; the setting is then left out. JSON syntax errors are left
 * to the manifest parser, which reports them.
 */
export function manifestSettings(
  files: readonly { readonly name: string; readonly text: string }[],
  problems: ProblemList,
): ManifestSettings {
  const settings: ManifestSettings = {};
  const setAt = new Map<string, string>();
  for (const { name, text } of files) {
    if (!name.toLowerCase().endsWith('.json')) continue;
    let root: JsonNode;
    try {
      root = readJson(text.replace(/^\uFEFF/, ''));
    } catch {
      continue;
    }
    if (root.kind !== 'object') continue;
    for (const block of root.members) {
      if (block.key !== SETTINGS_KEY) continue;
      if (block.value.kind !== 'object') {
        problems.add(name, block.line, `"${SETTINGS_KEY}" must be an object of launcher settings`);
        continue;
      }
      for (const { key, line, value } of block.value.members) {
        if (!isSetting(key)) {
          problems.add(
            name,
            line,
            `${SETTINGS_KEY}: unknown setting "${key}" (allowed: ${Object.keys(READERS).join(', ')})`,
          );
          continue;
        }
        const first = setAt.get(key);
        if (first !== undefined) {
          problems.add(name, line, `${SETTINGS_KEY}: "${key}" is already set at ${first}`);
          continue;
        }
        setAt.set(key, `${name}:${line}`);
        const read = READERS[key](value, name);
        if ('problem' in read) problems.add(name, value.line, `${SETTINGS_KEY}: ${read.problem}`);
        else (settings as Record<string, unknown>)[key] = read.value;
      }
    }
  }
  return settings;
}
