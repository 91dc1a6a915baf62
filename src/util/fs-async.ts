import { close, fstat, lstat, open, read, readFile, readdir, rm, rmdir, stat } from 'node:fs';
import { promisify } from 'node:util';

/**
 * Promise versions of the node:fs calls on the launcher's read path (manifest, master key,
 * store, the sweep of stale secret directories). node:fs/promises would do, but loading it
 * (FileHandle, streams, readline, watchers) costs more start-up than these reads take; the
 * callback API is already loaded. Same calls underneath, so the same errors and error codes.
 */
export const readFileAsync = promisify(readFile);
export const openAsync = promisify(open);
export const fstatAsync = promisify(fstat);
export const closeAsync = promisify(close);
export const readdirAsync = promisify(readdir);
export const lstatAsync = promisify(lstat);
export const rmAsync = promisify(rm);
export const rmdirAsync = promisify(rmdir);
export const statAsync = promisify(stat);
export const readAsync = promisify(read);
