import { dirname, resolve } from 'node:path';
import { DURATION_HINT, durationMs } from '../util/duration.js';
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
  readonly fallbackMaxAge?: { readonly text: string; readonly ms: number };
  /** `"redact": true`: as `--redact` (a flag or CREDEXEC_REDACT cannot turn it off). */
  readonly redact?: boolean;
  /** `"exec": true`: as `--exec`. */
  readonly exec?: boolean;
}

type Read<T> = { readonly value: T } | { readonly problem: string };

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
  fallbackMaxAge: (node) => {
    const ms = node.kind === 'string' ? durationMs(node.value) : undefined;
    return ms === undefined || node.kind !== 'string'
      ? { problem: `"fallbackMaxAge" must be ${DURATION_HINT}` }
      : { value: { text: node.value, ms } };
  },
  redact: (node) =>
    node.kind === 'boolean' ? { value: node.value } : { problem: '"redact" must be true or false' },
  exec: (node) =>
    node.kind === 'boolean' ? { value: node.value } : { problem: '"exec" must be true or false' },
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
