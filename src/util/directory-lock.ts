import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { listenOwnerSocket, probeOwnerSocket, type OwnerSocket } from './owner-socket.js';
import { errnoCode, sleep } from './system.js';

/**
 * A lock between processes that dies with its holder, with no pid and no timeout guessing.
 *
 * The lock is a directory `<path>` holding one unix socket named by a random id, on which the
 * holder listens (./owner-socket.ts). To take it, a writer creates `.<name>.<id>/<id>` (a
 * directory with its listening socket inside) and renames that directory to `<path>`: rename()
 * replaces a missing or EMPTY directory and fails on a non-empty one, so the lock appears
 * atomically, already listening, and only when it is free. A lock is broken by unlinking a dead
 * holder's socket (ECONNREFUSED) by its unique name: that can never remove a newer holder's
 * socket, so a live holder never loses its lock and two writers never hold it at once. The
 * directory left empty is free: the next rename replaces it.
 *
 * Anything else at `<path>` (the pid file of an older credexec, or what a crash left of one:
 * empty or garbled) cannot tell whether its writer lives: it is removed once older than a grace
 * period. unlink() cannot remove a directory, so that never touches a lock of this kind.
 */
const DEFAULT_LEGACY_GRACE_MS = 5_000;
const ID_BYTES = 8;

export interface LockOptions {
  /** Give up (resolve undefined) after waiting this long for a live holder. */
  readonly timeoutMs: number;
  /** Age after which a lock file that is not a lock directory is stale. */
  readonly legacyGraceMs?: number;
}

export interface HeldLock {
  /** Is the lock still ours? Only a hand deleting it could have taken it away. */
  stillHeld(): Promise<boolean>;
  /**
   * While holding the lock, remove what killed writers left in its directory: their half-made
   * lock directories (only those whose socket is dead, or empty ones) and the files `isOrphan`
   * names (files only a lock holder writes, so none of them belongs to a live writer now).
   */
  sweep(isOrphan: (name: string) => boolean): Promise<void>;
  release(): Promise<void>;
}

const ignore = () => undefined;

function tempPattern(lockPath: string): RegExp {
  const name = basename(lockPath).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^\\.${name}\\.[0-9a-f]{${ID_BYTES * 2}}$`);
}

/** Remove the entries of a lock directory (or a half-made one) whose owner is gone. */
async function clearDead(directory: string): Promise<void> {
  let names: string[];
  try {
    names = await fs.readdir(directory);
  } catch {
    return;
  }
  for (const name of names) {
    const path = join(directory, name);
    const owner = await probeOwnerSocket(path);
    // Names are unique per holder: this path can never be a newer holder's socket.
    if (owner === 'gone' || owner === 'not-a-socket') {
      await fs.rm(path, { recursive: true, force: true }).catch(ignore);
    }
  }
}

/** Remove our still-empty half-made lock; true if a holder's sweep already did (so: retry). */
async function sweptMeanwhile(temp: string): Promise<boolean> {
  try {
    await fs.rmdir(temp);
    return false;
  } catch (error: unknown) {
    return errnoCode(error) === 'ENOENT';
  }
}

async function breakIfStale(lockPath: string, graceMs: number): Promise<void> {
  let stat;
  try {
    stat = await fs.lstat(lockPath);
  } catch {
    return; // released meanwhile: try again
  }
  if (stat.isDirectory()) return clearDead(lockPath);
  if (Date.now() - stat.mtimeMs > graceMs) await fs.unlink(lockPath).catch(ignore);
}

export async function acquireLock(
  lockPath: string,
  options: LockOptions,
): Promise<HeldLock | undefined> {
  const graceMs = options.legacyGraceMs ?? DEFAULT_LEGACY_GRACE_MS;
  const deadline = Date.now() + options.timeoutMs;
  const id = randomBytes(ID_BYTES).toString('hex');
  const temp = join(dirname(lockPath), `.${basename(lockPath)}.${id}`);
  let owner: OwnerSocket | undefined;
  let acquired = false;
  let delay = 2;
  try {
    for (;;) {
      if (owner === undefined) {
        await fs.mkdir(temp, { mode: 0o700 });
        try {
          owner = await listenOwnerSocket(join(temp, id));
        } catch (error: unknown) {
          // libuv reports a bind() in a missing directory as EACCES: ask the directory instead.
          if (await sweptMeanwhile(temp)) continue;
          throw error;
        }
      }
      try {
        await fs.rename(temp, lockPath);
        acquired = true;
        return heldLock(lockPath, id, owner);
      } catch (error: unknown) {
        const code = errnoCode(error);
        if (code === 'ENOENT') {
          // Our half-made lock was swept (it must have looked dead): start it again.
          owner.close();
          owner = undefined;
          continue;
        }
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'ENOTDIR') throw error;
      }
      await breakIfStale(lockPath, graceMs);
      if (Date.now() > deadline) return undefined;
      await sleep(delay + Math.random() * delay);
      delay = Math.min(delay * 2, 50);
    }
  } finally {
    if (!acquired) {
      owner?.close();
      await fs.rm(temp, { recursive: true, force: true }).catch(ignore);
    }
  }
}

function heldLock(lockPath: string, id: string, owner: OwnerSocket): HeldLock {
  const socket = join(lockPath, id);
  const directory = dirname(lockPath);
  const temps = tempPattern(lockPath);
  let released = false;
  return {
    async stillHeld() {
      try {
        return !released && (await fs.lstat(socket)).isSocket();
      } catch {
        return false;
      }
    },
    async sweep(isOrphan) {
      let names: string[];
      try {
        names = await fs.readdir(directory);
      } catch {
        return;
      }
      for (const name of names) {
        const path = join(directory, name);
        if (temps.test(name)) {
          // Another writer's half-made lock: a live one (waiting for us) keeps its socket.
          await clearDead(path);
          await fs.rmdir(path).catch(ignore); // only if empty now
        } else if (isOrphan(name)) {
          await fs.rm(path, { force: true }).catch(ignore);
        }
      }
    },
    async release() {
      if (released) return;
      released = true;
      // Unlink before closing: a live holder's socket must never be seen refusing connections.
      await fs.unlink(socket).catch(ignore);
      await fs.rmdir(lockPath).catch(ignore); // fails harmlessly if a new holder is already in
      owner.close();
    },
  };
}
