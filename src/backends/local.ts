import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { StoreError, UsageError } from '../errors.js';
import { LOCAL_KEY_ID, LocalKeyring, createMasterKey } from '../keys/local-keyring.js';
import { LocalFileStore } from '../stores/local-file.js';
import { PrivateDirectory } from '../util/private-files.js';
import type { Backend, BackendSettings } from './backend.js';

export const MASTER_KEY_FILE = 'master.key';

const SAFE_TABLE = /^[A-Za-z0-9_.-]+$/;

export function localStorePath(settings: BackendSettings): string {
  if (!SAFE_TABLE.test(settings.table) || settings.table.startsWith('.')) {
    throw new UsageError(
      `table name "${settings.table}" cannot be used as a local store file name`,
    );
  }
  return join(settings.localDir, `${settings.table}.json`);
}

/** The embedded backend: `<dir>/master.key` (0600) and `<dir>/<table>.json` (0600) in a 0700 dir. */
export function openLocalBackend(settings: BackendSettings): Backend {
  if (settings.keyId !== LOCAL_KEY_ID) {
    throw new UsageError(
      'the local backend has a single master key: -k/--key is not supported with it',
    );
  }
  const masterKeyPath = join(settings.localDir, MASTER_KEY_FILE);
  // One check of the directory (owner, not writable by others) for the key and the store.
  const directory = new PrivateDirectory(settings.localDir);
  const store = new LocalFileStore(localStorePath(settings), { directory });
  const keys = new LocalKeyring(masterKeyPath, { directory });
  return {
    name: 'local',
    settings,
    store,
    keys,
    async setup(options) {
      try {
        await fs.mkdir(settings.localDir, { recursive: true, mode: 0o700 });
      } catch (error: unknown) {
        throw new StoreError(
          `cannot create directory ${settings.localDir}: ${error instanceof Error ? error.message : String(error)}`,
          { cause: error },
        );
      }
      const unsafe = await directory.problem();
      if (unsafe !== undefined) throw new StoreError(unsafe);
      const created = (await createMasterKey(masterKeyPath)) ? [`master key ${masterKeyPath}`] : [];
      const result = await store.setup(options);
      return {
        created: [...created, ...result.created],
        description: `local backend in ${settings.localDir}`,
      };
    },
    // The launcher calls this once the command has started: the master key is zeroed, and the
    // directory is checked again should the backend be used afterwards.
    close() {
      keys.close();
      directory.forget();
    },
  };
}
