import { join } from 'node:path';
import type { Environment } from '../backends/settings.js';
import { errnoCode } from '../util/system.js';
import { readFileAsync } from '../util/fs-async.js';

/**
 * The keys set in one profile of the AWS shared config file (`AWS_CONFIG_FILE`, default
 * `~/.aws/config`), read the way the SDK finds them: `[default]` or `[profile NAME]`, keys at the
 * start of a line (indented lines are sub-settings of the key above). Only key names are
 * returned; values (which may be secrets) are never kept. A missing file has no keys; an
 * unreadable one is reported so that the caller can leave everything to the SDK.
 */
export async function profileKeys(
  env: Environment,
  profile: string | undefined,
): Promise<{ keys: Set<string> } | { unreadable: string }> {
  const home = env.HOME ?? (await import('node:os')).homedir();
  const path = env.AWS_CONFIG_FILE ?? join(home, '.aws', 'config');
  let text: string;
  try {
    text = await readFileAsync(path, 'utf8');
  } catch (error: unknown) {
    const code = errnoCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') return { keys: new Set() };
    return { unreadable: path };
  }
  return { keys: keysOfProfile(text, profile ?? 'default') };
}

/** Pure: the key names of `profile` in a shared config file's text. */
export function keysOfProfile(text: string, profile: string): Set<string> {
  const wanted = new Set(
    profile === 'default' ? ['default', 'profile default'] : [`profile ${profile}`],
  );
  const keys = new Set<string>();
  let inProfile = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/\s[#;].*$/, '');
    if (/^\s*([#;]|$)/.test(line)) continue;
    const section = /^\s*\[\s*([^\]]*?)\s*\]/.exec(line);
    if (section !== null) {
      inProfile = wanted.has(section[1]!.replace(/\s+/g, ' '));
      continue;
    }
    if (!inProfile || /^\s/.test(line)) continue;
    const key = /^([^=]+?)\s*=/.exec(line);
    if (key !== null) keys.add(key[1]!.trim().toLowerCase());
  }
  return keys;
}
