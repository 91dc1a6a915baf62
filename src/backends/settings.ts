import { homedir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import {
  BACKEND_NAMES,
  DEFAULT_KEY_ID,
  DEFAULT_TABLE,
  type BackendName,
  type BackendOptions,
  type BackendSettings,
} from './backend.js';

export type Environment = Readonly<Record<string, string | undefined>>;

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

export function parseBackendName(name: string): BackendName {
  if ((BACKEND_NAMES as readonly string[]).includes(name)) return name as BackendName;
  throw new UsageError(`unknown backend "${name}" (choose ${BACKEND_NAMES.join(' or ')})`);
}

export function defaultLocalDir(env: Environment): string {
  const dataHome =
    nonEmpty(env.XDG_DATA_HOME) ?? join(nonEmpty(env.HOME) ?? homedir(), '.local', 'share');
  return join(dataHome, 'credexec');
}

/** Apply SPEC §1 precedence: explicit option, then environment, then default. Pure. */
export function resolveSettings(options: BackendOptions, env: Environment): BackendSettings {
  const backendName = options.backend ?? nonEmpty(env.CREDEXEC_BACKEND);
  return {
    backend: backendName === undefined ? 'aws' : parseBackendName(backendName),
    table: options.table ?? nonEmpty(env.CREDSTASH_DEFAULT_TABLE) ?? DEFAULT_TABLE,
    keyId: options.keyId ?? DEFAULT_KEY_ID,
    region: options.region,
    kmsRegion: options.kmsRegion,
    profile: options.profile,
    roleArn: options.roleArn,
    localDir: options.localDir ?? nonEmpty(env.CREDEXEC_LOCAL_DIR) ?? defaultLocalDir(env),
  };
}
