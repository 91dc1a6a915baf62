import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  openSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import {
  attributesFromWire,
  attributesToWire,
  itemFromAttributes,
  itemToAttributes,
  type CredentialItem,
  type WireAttributeMap,
} from '../stores/item.js';
import { closeAsync, fstatAsync, openAsync, readFileAsync } from '../util/fs-async.js';
import { ownerProblem, writableProblem } from '../util/private-files.js';
import { describeErrno, errnoCode } from '../util/system.js';

/**
 * The fallback file: the raw items one successful resolution read from the store, exactly as the
 * store holds them (wrapped data key, ciphertext, HMAC, digest, version; DynamoDB JSON, as in the
 * local store file), nothing decrypted. Using an item still takes the key service, under the
 * entry's encryption context. Pure format here, and the three file operations the fallback
 * needs: read (refusing what is not safely the user's), replace atomically, remove.
 */
export const FALLBACK_FORMAT = 'credexec-fallback';
export const FALLBACK_FORMAT_VERSION = 1;

/** A reference as resolution asks the store for it: a pinned version, or the latest. */
export interface FallbackReference {
  readonly name: string;
  /** undefined: the latest version (whatever it was when the file was written). */
  readonly version: string | undefined;
}

export interface FallbackEntry extends FallbackReference {
  /** What the store answered: the item, or null when it had none. */
  readonly item: CredentialItem | null;
}

export interface FallbackSnapshot {
  /** When the items were read from the store (ms since the epoch, this machine's clock). */
  readonly written: number;
  /** The store they were read from: `table credential-store in eu-west-1`, `store file …`. */
  readonly store: string;
  /** By referenceKey. */
  readonly entries: ReadonlyMap<string, FallbackEntry>;
}

/** One key per reference; `latest` and a version can never collide (a version has no NUL). */
export function referenceKey({ name, version }: FallbackReference): string {
  return version === undefined ? `latest\u0000${name}` : `version\u0000${name}\u0000${version}`;
}

export function describeReference({ name, version }: FallbackReference): string {
  return version === undefined ? `"${name}" (latest)` : `"${name}" version ${version}`;
}

interface WireEntry {
  name: string;
  version: string | null;
  item: WireAttributeMap | null;
}

interface WireFile {
  format: typeof FALLBACK_FORMAT;
  formatVersion: typeof FALLBACK_FORMAT_VERSION;
  written: string;
  store: string;
  entries: WireEntry[];
}

const byReference = (a: FallbackEntry, b: FallbackEntry) =>
  a.name < b.name
    ? -1
    : a.name > b.name
      ? 1
      : (a.version ?? '') < (b.version ?? '')
        ? -1
        : (a.version ?? '') > (b.version ?? '')
          ? 1
          : 0;

export function serializeFallback(snapshot: FallbackSnapshot): string {
  const file: WireFile = {
    format: FALLBACK_FORMAT,
    formatVersion: FALLBACK_FORMAT_VERSION,
    written: new Date(snapshot.written).toISOString(),
    store: snapshot.store,
    entries: [...snapshot.entries.values()].sort(byReference).map((entry) => ({
      name: entry.name,
      version: entry.version ?? null,
      item: entry.item === null ? null : attributesToWire(itemToAttributes(entry.item)),
    })),
  };
  return `${JSON.stringify(file, null, 1)}\n`;
}

/** What is wrong with a fallback file's content; the message never quotes the file. */
export class CorruptFallbackError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'CorruptFallbackError';
  }
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function parseEntry(wire: unknown, index: number): FallbackEntry {
  const where = `entry ${index}`;
  if (!isObject(wire)) throw new CorruptFallbackError(`${where} is not an object`);
  const { name, version, item } = wire;
  if (typeof name !== 'string' || name === '')
    throw new CorruptFallbackError(`${where} has no name`);
  if (version !== null && (typeof version !== 'string' || version === ''))
    throw new CorruptFallbackError(`${where}: "version" must be a string or null`);
  if (item !== null && !isObject(item))
    throw new CorruptFallbackError(`${where}: "item" must be an object or null`);
  const reference = { name, version: version ?? undefined };
  if (item === null) return { ...reference, item: null };
  let decoded: CredentialItem;
  try {
    decoded = itemFromAttributes(attributesFromWire(item as WireAttributeMap, where), where);
  } catch (error: unknown) {
    throw new CorruptFallbackError(error instanceof Error ? error.message : String(error));
  }
  if (decoded.name !== name || (version !== null && decoded.version !== version))
    throw new CorruptFallbackError(`${where}: the item is not ${describeReference(reference)}`);
  return { ...reference, item: decoded };
}

/** Parse a fallback file's text; CorruptFallbackError says what is wrong. */
export function parseFallback(text: string): FallbackSnapshot {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new CorruptFallbackError(text === '' ? 'empty' : 'not valid JSON');
  }
  if (!isObject(data) || data.format !== FALLBACK_FORMAT)
    throw new CorruptFallbackError(`not a ${FALLBACK_FORMAT} file`);
  if (data.formatVersion !== FALLBACK_FORMAT_VERSION) {
    throw new CorruptFallbackError(
      `unsupported format version (this credexec reads version ${FALLBACK_FORMAT_VERSION})`,
    );
  }
  const written = typeof data.written === 'string' ? Date.parse(data.written) : Number.NaN;
  if (!Number.isFinite(written)) throw new CorruptFallbackError('"written" is not a time');
  if (typeof data.store !== 'string') throw new CorruptFallbackError('"store" is missing');
  if (!Array.isArray(data.entries)) throw new CorruptFallbackError('"entries" is not a list');
  const entries = new Map<string, FallbackEntry>();
  for (const [index, wire] of (data.entries as unknown[]).entries()) {
    const entry = parseEntry(wire, index);
    const key = referenceKey(entry);
    if (entries.has(key))
      throw new CorruptFallbackError(`${describeReference(entry)} is listed twice`);
    entries.set(key, entry);
  }
  return { written, store: data.store, entries };
}

/** Why the file cannot be read: missing, not a safe file of the user's, or a read error. */
export class FallbackReadError extends Error {
  readonly missing: boolean;

  constructor(message: string, missing = false) {
    super(message);
    this.name = 'FallbackReadError';
    this.missing = missing;
  }
}

/**
 * The file's text. Refused like the local backend's files (src/util/private-files.ts): a file
 * owned by another user (root is fine) or writable by group or others, and a symbolic link
 * (credexec only ever writes a regular file there). Throws FallbackReadError.
 */
export async function readFallbackFile(path: string): Promise<string> {
  let fd: number;
  try {
    fd = await openAsync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error: unknown) {
    const code = errnoCode(error);
    if (code === 'ENOENT') throw new FallbackReadError(`the fallback ${path} does not exist`, true);
    if (code === 'ELOOP')
      throw new FallbackReadError(`the fallback ${path} is a symbolic link; refusing to follow it`);
    throw new FallbackReadError(`cannot read the fallback ${path}: ${describeErrno(error)}`);
  }
  try {
    const stat = await fstatAsync(fd);
    if (!stat.isFile()) throw new FallbackReadError(`the fallback ${path} is not a file`);
    const problem =
      ownerProblem('fallback file', path, stat) ?? writableProblem('fallback file', path, stat);
    if (problem !== undefined) throw new FallbackReadError(problem);
    return await readFileAsync(fd, 'utf8');
  } catch (error: unknown) {
    if (error instanceof FallbackReadError) throw error;
    throw new FallbackReadError(`cannot read the fallback ${path}: ${describeErrno(error)}`);
  } finally {
    await closeAsync(fd);
  }
}

/**
 * Replace the file at `path` with `text`, atomically: a new 0600 file is created exclusively
 * next to it, written and renamed over `path`, so a reader (another credexec starting at the
 * same moment) sees the old file or the new one, never part of one, and many writers at once
 * leave one whole file. Synchronous on purpose: no signal handler runs in the middle, so a
 * SIGTERM cannot leave the temporary file behind.
 *
 * Not fsynced: this runs before every start, and an fsync costs milliseconds (6 ms median,
 * 12 ms p90 on the test VM, against 0.2 ms without) for a file that is only a copy. The
 * kernel writes it out within seconds; only a machine crash in that window can leave the
 * previous file, or an empty one that is then refused as corrupt — never wrong items.
 * Throws the system error.
 */
export function writeFallbackFile(path: string, text: string): void {
  const temp = join(
    dirname(path),
    `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  );
  const fd = openSync(
    temp,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    0o600,
  );
  try {
    try {
      writeFileSync(fd, text);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (error: unknown) {
    rmSync(temp, { force: true });
    throw error;
  }
}

/** Remove the file; false when there was none. Throws other system errors. */
export function removeFallbackFile(path: string): boolean {
  try {
    unlinkSync(path);
    return true;
  } catch (error: unknown) {
    if (errnoCode(error) === 'ENOENT') return false;
    throw error;
  }
}
