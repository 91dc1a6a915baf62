import { randomBytes } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import {
  SetupRequiredError,
  StoreError,
  VersionExistsError,
  type StoreFailure,
} from '../errors.js';
import {
  refKey,
  type CredentialStore,
  type StoreSetupOptions,
  type StoreSetupResult,
} from './credential-store.js';
import {
  attributesFromWire,
  attributesToWire,
  itemFromAttributes,
  itemToAttributes,
  type CredentialItem,
  type CredentialRef,
  type WireAttributeMap,
} from './item.js';
import { acquireLock, type HeldLock } from '../util/directory-lock.js';
import type { Stats } from 'node:fs';
import { closeAsync, fstatAsync, openAsync, readFileAsync, statAsync } from '../util/fs-async.js';
import { PrivateDirectory, ownerProblem, writableProblem } from '../util/private-files.js';
import { describeErrno, errnoCode } from '../util/system.js';

/**
 * The local backend's store: one JSON file of credstash-shaped items (DynamoDB JSON, so the items
 * could be loaded into a credstash table as they are). Readers see whole files only: every write
 * goes to a 0600 temp file that is fsynced and renamed over the store. Writers serialise on a lock
 * that dies with its holder (../util/directory-lock.ts), so concurrent `put -a` processes never
 * lose an item and a killed writer never blocks the next one.
 */
const FORMAT = 'credexec-local-store';
const FORMAT_VERSION = 1;
const LOCK_TIMEOUT_MS = 15_000;

export interface LocalFileStoreOptions {
  /** How long a writer waits for a live holder of the lock; default 15 s. */
  readonly lockTimeoutMs?: number;
  /** The directory check, shared with the keyring by the local backend; default: the store's. */
  readonly directory?: PrivateDirectory;
}

/**
 * Why the store file could not be read: refused (EACCES, EPERM), not a file where one should be,
 * or else the disk or the file system failing (EIO, ESTALE on NFS, EMFILE, …).
 */
function readFailure(code: string | undefined): StoreFailure {
  if (code === 'EACCES' || code === 'EPERM') return 'access-denied';
  if (code === 'EISDIR' || code === 'ENOTDIR' || code === 'ELOOP') return 'failed';
  return 'unavailable';
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * What identifies one content of the store file: every write renames a new file over it, so a
 * change shows in the inode, and in the size, modification and change times.
 */
function stampOf(stat: Stats): string {
  return `${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeMs}:${stat.ctimeMs}`;
}

interface StoreFile {
  format: typeof FORMAT;
  formatVersion: typeof FORMAT_VERSION;
  items: WireAttributeMap[];
}

export class LocalFileStore implements CredentialStore {
  readonly description: string;
  readonly #path: string;
  readonly #lockPath: string;
  readonly #lockTimeoutMs: number;
  readonly #directory: PrivateDirectory;
  /** `.<store>.<pid>.<8 hex>.tmp`: the temp files #writeAtomically makes, and only those. */
  readonly #tempName: RegExp;
  /** The latest version of every name, as of the store file with this stamp (`latestVersions`). */
  #latest: { readonly stamp: string; readonly versions: Map<string, string> } | undefined;

  constructor(path: string, options: LocalFileStoreOptions = {}) {
    this.#path = path;
    this.#lockPath = `${path}.lock`;
    this.#lockTimeoutMs = options.lockTimeoutMs ?? LOCK_TIMEOUT_MS;
    this.#directory = options.directory ?? new PrivateDirectory(dirname(path));
    this.#tempName = new RegExp(`^\\.${escape(basename(path))}\\.\\d+\\.[0-9a-f]{8}\\.tmp$`);
    this.description = `store file ${path}`;
  }

  async setup(_options: StoreSetupOptions): Promise<StoreSetupResult> {
    const created: string[] = [];
    const empty: StoreFile = { format: FORMAT, formatVersion: FORMAT_VERSION, items: [] };
    try {
      const handle = await fs.open(
        this.#path,
        constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL,
        0o600,
      );
      try {
        await handle.writeFile(`${JSON.stringify(empty)}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      created.push(this.description);
    } catch (error: unknown) {
      if (errnoCode(error) !== 'EEXIST') {
        throw new StoreError(`cannot create ${this.description}: ${describeErrno(error)}`, {
          cause: error,
        });
      }
      await this.#read(); // an existing file must be a valid store
    }
    return { created, description: this.description };
  }

  async put(item: CredentialItem): Promise<void> {
    await this.#update((items) => {
      if (items.has(refKey(item))) throw new VersionExistsError(item.name, item.version);
      items.set(refKey(item), item);
      return true;
    });
  }

  async get(ref: CredentialRef): Promise<CredentialItem | undefined> {
    return (await this.#read()).get(refKey(ref));
  }

  async getMany(refs: readonly CredentialRef[]): Promise<CredentialItem[]> {
    const items = await this.#read();
    return refs.flatMap((ref) => items.get(refKey(ref)) ?? []);
  }

  async getLatest(name: string): Promise<CredentialItem | undefined> {
    let latest: CredentialItem | undefined;
    for (const item of (await this.#read()).values()) {
      if (item.name === name && (latest === undefined || item.version > latest.version))
        latest = item;
    }
    return latest;
  }

  /** Reads the store file only when it changed since the last call (its stamp: inode, size, times). */
  async latestVersions(names: readonly string[]): Promise<Map<string, string | undefined>> {
    let cached = this.#latest;
    if (cached !== undefined) {
      let stamp: string | undefined;
      try {
        stamp = stampOf(await statAsync(this.#path));
      } catch {
        stamp = undefined; // the read below says what is wrong
      }
      if (stamp !== cached.stamp) cached = undefined;
    }
    if (cached === undefined) {
      const { items, stamp } = await this.#readStamped();
      const versions = new Map<string, string>();
      for (const { name, version } of items.values()) {
        const latest = versions.get(name);
        if (latest === undefined || version > latest) versions.set(name, version);
      }
      cached = this.#latest = { stamp, versions };
    }
    const { versions } = cached;
    return new Map(names.map((name) => [name, versions.get(name)]));
  }

  async versions(name: string): Promise<CredentialRef[]> {
    const refs = [...(await this.#read()).values()]
      .filter((item) => item.name === name)
      .map(({ version }) => ({ name, version }));
    return refs.sort((a, b) => (a.version < b.version ? -1 : a.version > b.version ? 1 : 0));
  }

  async scan(): Promise<CredentialItem[]> {
    return [...(await this.#read()).values()];
  }

  async delete(ref: CredentialRef): Promise<boolean> {
    let deleted = false;
    await this.#update((items) => {
      deleted = items.delete(refKey(ref));
      return deleted;
    });
    return deleted;
  }

  async #read(): Promise<Map<string, CredentialItem>> {
    return (await this.#readStamped()).items;
  }

  async #readStamped(): Promise<{ items: Map<string, CredentialItem>; stamp: string }> {
    const unsafe = await this.#directory.problem();
    if (unsafe !== undefined) throw new StoreError(unsafe, { reason: 'access-denied' });
    let fd: number;
    try {
      fd = await openAsync(this.#path, 'r');
    } catch (error: unknown) {
      if (errnoCode(error) === 'ENOENT') {
        throw new SetupRequiredError(
          `no ${this.description} — run \`credexec setup --backend local\``,
        );
      }
      throw this.#readError(error);
    }
    let text: string;
    let stamp: string;
    try {
      const stat = await fstatAsync(fd);
      stamp = stampOf(stat);
      // open() succeeds on a directory; reading it would say nothing useful.
      if (stat.isDirectory()) throw Object.assign(new Error('EISDIR'), { code: 'EISDIR' });
      const problem =
        ownerProblem('store file', this.#path, stat) ??
        writableProblem('store file', this.#path, stat);
      if (problem !== undefined) throw new StoreError(problem, { reason: 'access-denied' });
      text = await readFileAsync(fd, 'utf8');
    } catch (error: unknown) {
      throw error instanceof StoreError ? error : this.#readError(error);
    } finally {
      await closeAsync(fd);
    }
    return { items: this.#parse(text), stamp };
  }

  #readError(error: unknown): StoreError {
    return new StoreError(`cannot read ${this.description}: ${describeErrno(error)}`, {
      cause: error,
      reason: readFailure(errnoCode(error)),
    });
  }

  #parse(text: string): Map<string, CredentialItem> {
    const corrupt = (reason: string, cause?: unknown) =>
      new StoreError(`${this.description} is corrupt: ${reason}; it was left untouched`, {
        cause,
        reason: 'malformed',
      });
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (error: unknown) {
      throw corrupt('not valid JSON', error);
    }
    if (
      typeof data !== 'object' ||
      data === null ||
      !('format' in data) ||
      data.format !== FORMAT ||
      !('items' in data) ||
      !Array.isArray(data.items)
    ) {
      throw corrupt(`not a ${FORMAT} file`);
    }
    if (!('formatVersion' in data) || data.formatVersion !== FORMAT_VERSION) {
      throw corrupt(`unsupported format version (this credexec reads version ${FORMAT_VERSION})`);
    }
    const items = new Map<string, CredentialItem>();
    for (const [index, wire] of (data.items as unknown[]).entries()) {
      if (typeof wire !== 'object' || wire === null)
        throw corrupt(`item ${index} is not an object`);
      let item: CredentialItem;
      try {
        item = itemFromAttributes(attributesFromWire(wire as WireAttributeMap), `item ${index}`);
      } catch (error: unknown) {
        throw corrupt(error instanceof Error ? error.message : String(error), error);
      }
      items.set(refKey(item), item);
    }
    return items;
  }

  /** Read-modify-write under the lock; `change` returns false when there is nothing to write. */
  async #update(change: (items: Map<string, CredentialItem>) => boolean): Promise<void> {
    await this.#withLock(async (lock) => {
      const items = await this.#read();
      if (!change(items)) return;
      const file: StoreFile = {
        format: FORMAT,
        formatVersion: FORMAT_VERSION,
        items: [...items.values()].map((item) => attributesToWire(itemToAttributes(item))),
      };
      await this.#writeAtomically(`${JSON.stringify(file, null, 1)}\n`, lock);
    });
  }

  async #writeAtomically(text: string, lock: HeldLock): Promise<void> {
    const temp = join(
      dirname(this.#path),
      `.${basename(this.#path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
    );
    try {
      const handle = await fs.open(
        temp,
        constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL,
        0o600,
      );
      try {
        await handle.writeFile(text);
        await handle.sync();
      } finally {
        await handle.close();
      }
      // Nobody takes the lock from a live holder; only a hand deleting it could have.
      if (!(await lock.stillHeld())) {
        throw new StoreError(
          `cannot write ${this.description}: its lock ${this.#lockPath} was removed meanwhile; it was left untouched`,
        );
      }
      await fs.rename(temp, this.#path);
    } catch (error: unknown) {
      await fs.rm(temp, { force: true });
      if (error instanceof StoreError) throw error;
      throw new StoreError(
        `cannot write ${this.description}: ${describeErrno(error)}; it was left untouched`,
        { cause: error },
      );
    }
    // Make the rename itself durable.
    const directory = await fs.open(dirname(this.#path), 'r');
    try {
      await directory.sync();
    } finally {
      await directory.close();
    }
  }

  async #withLock<T>(work: (lock: HeldLock) => Promise<T>): Promise<T> {
    let lock;
    try {
      lock = await acquireLock(this.#lockPath, { timeoutMs: this.#lockTimeoutMs });
    } catch (error: unknown) {
      if (errnoCode(error) === 'ENOENT') {
        throw new SetupRequiredError(
          `no directory for ${this.description} — run \`credexec setup --backend local\``,
        );
      }
      throw new StoreError(`cannot lock ${this.description}: ${describeErrno(error)}`, {
        cause: error,
      });
    }
    if (lock === undefined) {
      throw new StoreError(
        `timed out waiting for the lock ${this.#lockPath}; if no credexec is running, delete it`,
      );
    }
    try {
      // Temp files of writers killed mid-write: only a lock holder writes one, so none is live.
      await lock.sweep((name) => this.#tempName.test(name));
      return await work(lock);
    } finally {
      await lock.release();
    }
  }
}
