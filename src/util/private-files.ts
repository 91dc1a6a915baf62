import { statAsync } from './fs-async.js';

/**
 * Ownership and permission rules for the local backend's files, as OpenSSH applies them to
 * ~/.ssh: a file or directory must belong to you (or root), and nobody else may write to it.
 * Otherwise another user could plant a master key of their own, or swap items in the store.
 * Each rule returns the one-line refusal, naming the fix, or undefined.
 */
interface Owned {
  readonly uid: number;
  readonly mode: number;
}

/** `undefined` where uids do not exist (Windows): there the rules do not apply. */
const currentUid = (): number | undefined => process.getuid?.();

const modeText = (mode: number) => (mode & 0o777).toString(8).padStart(4, '0');

export function ownerProblem(what: string, path: string, stat: Owned): string | undefined {
  const uid = currentUid();
  if (uid === undefined || stat.uid === uid || stat.uid === 0) return undefined;
  return `${what} ${path} is owned by uid ${stat.uid}, not by you (uid ${uid}); refusing to use it — run \`chown ${uid} ${path}\` if you trust it`;
}

export function writableProblem(what: string, path: string, stat: Owned): string | undefined {
  if (currentUid() === undefined || (stat.mode & 0o022) === 0) return undefined;
  return `${what} ${path} is writable by group or others (mode ${modeText(stat.mode)}); refusing to use it — run \`chmod go-w ${path}\``;
}

/**
 * The directory holding master.key and the store: one stat, remembered once it passed, shared by
 * the store and the keyring of one backend. `forget()` makes the next use look again.
 */
export class PrivateDirectory {
  readonly path: string;
  #passed = false;

  constructor(path: string) {
    this.path = path;
  }

  /** The refusal if the directory is someone else's or writable by others; else undefined. */
  async problem(): Promise<string | undefined> {
    if (this.#passed) return undefined;
    let stat;
    try {
      stat = await statAsync(this.path);
    } catch {
      return undefined; // missing or unreadable: opening the file inside says so, precisely
    }
    const problem =
      ownerProblem('local directory', this.path, stat) ??
      writableProblem('local directory', this.path, stat);
    this.#passed = problem === undefined;
    return problem;
  }

  forget(): void {
    this.#passed = false;
  }
}
