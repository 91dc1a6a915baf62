import { randomBytes } from 'node:crypto';
import { constants, mkdirSync, promises as fs, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecretFileError } from '../errors.js';
import { describeErrno } from '../util/system.js';
import type { Environment } from './child-env.js';
import { lstatAsync, readdirAsync, rmAsync, rmdirAsync } from '../util/fs-async.js';
import { listenOwnerSocket, probeOwnerSocket, type OwnerSocket } from '../util/owner-socket.js';

/** `credexec-<pid>-<random>`; the pid is for people: runs in other PID namespaces share it. */
const DIR_PATTERN = /^credexec-\d+-[0-9a-f]{16}$/;

/**
 * The run's owner socket in its directory (../util/owner-socket.ts): listening before any secret
 * file is written, for as long as the directory exists. Variable names never start with a dot.
 */
export const OWNER_SOCKET = '.owner';

/** An empty directory without an owner socket is a run killed between mkdir and listen. */
const EMPTY_DIR_GRACE_MS = 60_000;

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

async function sweepOne(path: string, uid: number | undefined): Promise<boolean> {
  const stat = await lstatAsync(path);
  if (!stat.isDirectory() || (uid !== undefined && stat.uid !== uid)) return false;
  const owner = await probeOwnerSocket(join(path, OWNER_SOCKET));
  if (owner === 'gone') {
    await rmAsync(path, { recursive: true, force: true });
    return true;
  }
  if (owner === 'absent' && Date.now() - stat.mtimeMs > EMPTY_DIR_GRACE_MS) {
    await rmdirAsync(path); // fails unless empty: files without an owner socket are never removed
    return true;
  }
  return false;
}

/**
 * Remove directories left by runs that were killed before they could clean up: only ours (same
 * uid, real directories), and only when their owner is provably gone — its socket refuses
 * connections. A pid would not do: runs in other PID namespaces sharing this directory
 * (containers, `unshare -p`) would look dead. Best effort; never fails the launch.
 */
export async function sweepStaleSecretDirs(base: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdirAsync(base);
  } catch {
    return [];
  }
  const uid = process.getuid?.();
  const paths = names.filter((name) => DIR_PATTERN.test(name)).map((name) => join(base, name));
  const swept = await Promise.all(
    paths.map((path) =>
      // Another credexec may be sweeping the same directory.
      sweepOne(path, uid).catch(() => false),
    ),
  );
  return paths.filter((_, index) => swept[index]);
}

/** One run's private directory of secret files; `remove()` is synchronous so signal paths can use it. */
export class SecretFiles {
  readonly #dir: string;
  #created = false;
  #removed = false;
  #ready: Promise<void> | undefined;
  #owner: OwnerSocket | undefined;

  constructor(base: string, pid: number = process.pid) {
    this.#dir = join(base, `credexec-${pid}-${randomBytes(8).toString('hex')}`);
  }

  get directory(): string {
    return this.#dir;
  }

  /** Write one value to a new 0600 file and return its path. */
  write(variable: string, value: Uint8Array): Promise<string> {
    return this.#writeNew(variable, variable, value);
  }

  /** Write `value` to the new file `name`; failures name `variable`. */
  async #writeNew(name: string, variable: string, value: Uint8Array): Promise<string> {
    // After remove() (a signal arrived), late writers must not leave a file behind.
    this.#checkNotRemoved(variable);
    const path = join(this.#dir, name);
    try {
      await (this.#ready ??= this.#create());
      this.#checkNotRemoved(variable);
      const handle = await fs.open(
        path,
        constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
        0o600,
      );
      try {
        await handle.writeFile(value);
      } finally {
        await handle.close();
      }
    } catch (error: unknown) {
      if (error instanceof SecretFileError) throw error;
      // A full or read-only file system, a planted path: named, with the errno, never the value.
      throw new SecretFileError(variable, this.#dir, describeErrno(error), { cause: error });
    }
    return path;
  }

  /**
   * Replace the file of `variable` (a rotation reaching a running command): the new value goes to
   * a new 0600 file in this directory, which is then renamed over the old one, so a reader sees
   * the old file or the new one, whole, and never a mix. Returns the path (unchanged).
   */
  async rewrite(variable: string, value: Uint8Array): Promise<string> {
    const temporary = `.${variable}.${randomBytes(4).toString('hex')}.tmp`;
    const written = await this.#writeNew(temporary, variable, value);
    const path = join(this.#dir, variable);
    try {
      renameSync(written, path);
    } catch (error: unknown) {
      rmSync(written, { force: true });
      throw new SecretFileError(variable, this.#dir, describeErrno(error), { cause: error });
    }
    return path;
  }

  /** Remove the file of `variable`, if there is one (its optional credential was deleted). */
  discard(variable: string): void {
    if (!this.#created || this.#removed) return;
    try {
      rmSync(join(this.#dir, variable), { force: true });
    } catch (error: unknown) {
      throw new SecretFileError(variable, this.#dir, describeErrno(error), { cause: error });
    }
  }

  #checkNotRemoved(variable: string): void {
    if (this.#removed)
      throw new SecretFileError(variable, this.#dir, 'the secret files were already removed');
  }

  async #create(): Promise<void> {
    // mkdir fails if it exists, so a planted directory or symlink is never reused.
    mkdirSync(this.#dir, { mode: 0o700 });
    this.#created = true;
    try {
      const owner = await listenOwnerSocket(join(this.#dir, OWNER_SOCKET));
      if (this.#removed) owner.close();
      else this.#owner = owner;
    } catch {
      // Without its owner socket the directory is never swept while it holds files: it is still
      // removed when the run ends; only a SIGKILLed run would leave it behind.
    }
  }

  remove(): void {
    const created = this.#created && !this.#removed;
    this.#removed = true;
    // Closing first removes the socket: the files left for an instant look owned, never dead.
    this.#owner?.close();
    this.#owner = undefined;
    if (!created) return;
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
