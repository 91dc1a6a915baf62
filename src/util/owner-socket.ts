import { connect, createServer, type Server } from 'node:net';
import { basename, dirname } from 'node:path';
import { lstatAsync } from './fs-async.js';
import { errnoCode } from './system.js';

/**
 * Liveness that needs no pid: the owner of something (a lock, a directory of secret files)
 * listens on a unix socket next to it for as long as it lives. Connecting tells the rest:
 * the kernel closes a listening socket when its process dies, however it dies, so ECONNREFUSED
 * proves the owner is gone. That holds across PID namespaces (containers, `unshare -p`) sharing
 * the file system, where a pid means nothing, and is never fooled by pid reuse. A stopped or busy
 * owner still accepts at kernel level, so it still counts as alive.
 */
export type Liveness =
  /** Someone listens (or the answer was unclear: treated as alive, never broken). */
  | 'alive'
  /** A socket nobody listens on: its owner is provably gone. */
  | 'gone'
  /** Nothing at that path. */
  | 'absent'
  /** Something at that path that is not a socket. */
  | 'not-a-socket';

/**
 * sun_path holds 108 bytes with the NUL on Linux, 104 on macOS and the BSDs; libuv (Node 20)
 * silently truncates longer paths, binding or reaching some other file.
 */
const MAX_SOCKET_PATH_BYTES = process.platform === 'linux' ? 107 : 103;

function tooLong(path: string): Error {
  return Object.assign(new Error(`socket path too long: ${path}`), { code: 'ENAMETOOLONG' });
}

/**
 * Run `call` with a path the kernel takes: the path itself when it fits, else its base name from
 * inside its directory. bind() and connect() happen synchronously inside `server.listen()` and
 * `net.connect()`, so the working directory is another only for the length of the call.
 */
function withUsablePath<T>(path: string, call: (usable: string) => T): T {
  if (Buffer.byteLength(path) <= MAX_SOCKET_PATH_BYTES) return call(path);
  const name = basename(path);
  if (Buffer.byteLength(name) > MAX_SOCKET_PATH_BYTES) throw tooLong(path);
  const back = process.cwd();
  process.chdir(dirname(path));
  try {
    return call(name);
  } finally {
    process.chdir(back);
  }
}

export interface OwnerSocket {
  /** Stop listening and remove the socket file if it is still where it was bound. Idempotent. */
  close(): void;
}

function closeServer(server: Server, path: string): void {
  if (!server.listening) return;
  // libuv unlinks the path it bound on close; a relative one must be resolved where it was bound.
  try {
    withUsablePath(path, () => server.close());
  } catch {
    server.close(); // the directory is gone: so is the file
  }
}

/**
 * Listen on a new unix socket at `path` (it must not exist). The socket never keeps the process
 * alive and is never inherited by children (Node opens it close-on-exec); connections are
 * accepted and dropped at once.
 */
export function listenOwnerSocket(path: string): Promise<OwnerSocket> {
  const server = createServer((connection) => {
    connection.on('error', () => undefined);
    connection.destroy();
  });
  server.unref();
  return new Promise((resolve, reject) => {
    const failed = (error: Error) => reject(error);
    server.once('error', failed);
    server.once('listening', () => {
      server.off('error', failed);
      server.on('error', () => undefined);
      resolve({ close: () => closeServer(server, path) });
    });
    try {
      withUsablePath(path, (usable) => server.listen({ path: usable }));
    } catch (error: unknown) {
      server.off('error', failed);
      reject(error instanceof Error ? error : new Error(String(error)));
    }
  });
}

function connectProbe(path: string): Promise<Liveness> {
  return new Promise((resolve) => {
    let socket;
    try {
      socket = withUsablePath(path, (usable) => connect({ path: usable }));
    } catch (error: unknown) {
      resolve(errnoCode(error) === 'ENOENT' ? 'absent' : 'alive');
      return;
    }
    socket.once('connect', () => {
      socket.destroy();
      resolve('alive');
    });
    socket.once('error', (error) => {
      socket.destroy();
      const code = errnoCode(error);
      // EAGAIN (a full backlog: a stopped owner), EACCES and the like: not proof of death.
      resolve(code === 'ECONNREFUSED' ? 'gone' : code === 'ENOENT' ? 'absent' : 'alive');
    });
  });
}

/** Who, if anyone, listens on the socket at `path`. */
export async function probeOwnerSocket(path: string): Promise<Liveness> {
  try {
    // connect() on a file or a directory also says ECONNREFUSED: only a socket can prove death.
    if (!(await lstatAsync(path)).isSocket()) return 'not-a-socket';
  } catch (error: unknown) {
    const code = errnoCode(error);
    return code === 'ENOENT' || code === 'ENOTDIR' ? 'absent' : 'alive';
  }
  return connectProbe(path);
}
