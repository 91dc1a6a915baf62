import { randomBytes } from 'node:crypto';
import { constants, mkdirSync, promises as fs, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StoreError } from '../errors.js';
import type { Environment } from './child-env.js';
import { lstatAsync, readdirAsync, rmAsync } from '../util/fs-async.js';
import { processIsAlive } from '../util/system.js';

/** `credexec-<pid>-<random>`: the pid lets the next run tell a leftover from a live run. */
const DIR_PATTERN = /^credexec-(\d+)-[0-9a-f]{16}$/;

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Prefer memory-backed directories so secret files never reach a disk. */
export function secretFilesBase(
  env: Environment,
  exists: (path: string) => boolean = isDirectory,
): string {
  const runtime = env.XDG_RUNTIME_DIR;
  if (runtime !== undefined && runtime !== '' && exists(runtime)) return runtime;
  if (exists('/dev/shm')) return '/dev/shm';
  return tmpdir();
}

/**
 * Remove directories left by runs that were killed before they could clean up: only ours (same
 * uid), and only when their pid no longer exists. Best effort; never fails the launch.
 */
export async function sweepStaleSecretDirs(
  base: string,
  alive: (pid: number) => boolean = processIsAlive,
): Promise<string[]> {
  const swept: string[] = [];
  let names: string[];
  try {
    names = await readdirAsync(base);
  } catch {
    return swept;
  }
  const uid = process.getuid?.();
  for (const name of names) {
    const pid = Number(DIR_PATTERN.exec(name)?.[1]);
    if (!Number.isInteger(pid) || pid === process.pid || alive(pid)) continue;
    const path = join(base, name);
    try {
      const stat = await lstatAsync(path);
      if (!stat.isDirectory() || (uid !== undefined && stat.uid !== uid)) continue;
      await rmAsync(path, { recursive: true, force: true });
      swept.push(path);
    } catch {
      // Another credexec may be sweeping the same directory.
    }
  }
  return swept;
}

/** One run's private directory of secret files; `remove()` is synchronous so signal paths can use it. */
export class SecretFiles {
  readonly #dir: string;
  #created = false;
  #removed = false;

  constructor(base: string, pid: number = process.pid) {
    this.#dir = join(base, `credexec-${pid}-${randomBytes(8).toString('hex')}`);
  }

  get directory(): string {
    return this.#dir;
  }

  /** Write one value to a new 0600 file and return its path. */
  async write(variable: string, value: Uint8Array): Promise<string> {
    // After remove() (a signal arrived), late writers must not leave a file behind.
    if (this.#removed) throw new StoreError(`secret files in ${this.#dir} were already removed`);
    if (!this.#created) {
      // mkdir fails if it exists, so a planted directory or symlink is never reused.
      mkdirSync(this.#dir, { mode: 0o700 });
      this.#created = true;
    }
    const path = join(this.#dir, variable);
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(
        path,
        constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
        0o600,
      );
    } catch (error: unknown) {
      throw new StoreError(`cannot create secret file for ${variable} in ${this.#dir}`, {
        cause: error,
      });
    }
    try {
      await handle.writeFile(value);
    } finally {
      await handle.close();
    }
    return path;
  }

  remove(): void {
    const created = this.#created && !this.#removed;
    this.#removed = true;
    if (!created) return;
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
