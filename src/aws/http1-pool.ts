import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions } from 'node:dns';
import { connect as connectTcp, isIP, type LookupFunction, type Socket } from 'node:net';
import type { ConnectionOptions, SecureContext, TLSSocket } from 'node:tls';
import { ResponseTooLargeError } from '../util/aws-errors.js';
import { Http1ResponseParser, type Http1Response } from './http1-response.js';

/**
 * Keep-alive HTTP/1.1 connections to one endpoint (http: or https:), one request at a time on
 * each, at most `maxSockets` of them; requests beyond wait for a free one. It exists because
 * Node's `node:http` costs a fresh process 0.37 ms of CPU per request and this 0.10 ms
 * (`node bench/http-floor.mjs`), and a launcher is always a fresh process making hundreds of
 * small requests. What it does not do, on purpose: proxies, redirects, compression, pipelining,
 * request bodies other than one string.
 *
 * Failures look like `node:http`'s, so the JSON client's retry rules apply unchanged: Node's
 * errno errors (ECONNREFUSED, a TLS verification failure), `socket hang up` (ECONNRESET) when a
 * connection closes before an answer, a ResponseCutShortError (ECONNRESET) when it closes
 * mid-body, a TimeoutError, and a MalformedResponseError for bytes that are not HTTP/1.1.
 */
export interface Http1PoolOptions {
  readonly endpoint: URL;
  readonly maxSockets: number;
  /** Trusted certificates instead of Node's store (tests). */
  readonly ca?: string | Buffer | undefined;
  /** Name resolution (tests): Node's `dns.lookup` by default. */
  readonly lookup?: typeof dnsLookup;
}

/** How long one answer about the endpoint's name serves new connections. */
export const LOOKUP_REUSE_MS = 5_000;

/**
 * A `lookup` for net/tls.connect that asks once for a burst of connections: the connections a
 * resolution opens together (up to 16 TLS connections per service, 64 plain ones) would each
 * ask the system resolver — a thread-pool job, and in a container without a local cache an A
 * and an AAAA query to the network's resolver — for the same name. An answer is reused for
 * `LOOKUP_REUSE_MS` (shorter than the TTL AWS gives its endpoints' names), a failure is not.
 */
export function sharedLookup(resolve: typeof dnsLookup, now: () => number): LookupFunction {
  const answers = new Map<string, { at: number; addresses: Promise<LookupAddress[]> }>();
  return (hostname, options, callback) => {
    const family = options.family ?? 0;
    const hints = options.hints ?? 0;
    const key = `${family}\0${hints}\0${hostname}`;
    let answer = answers.get(key);
    if (answer === undefined || now() - answer.at > LOOKUP_REUSE_MS) {
      const asked: LookupAllOptions = { family, all: true, hints };
      const addresses = new Promise<LookupAddress[]>((done, fail) => {
        resolve(hostname, asked, (error, found) => (error ? fail(error) : done(found)));
      });
      answer = { at: now(), addresses };
      answers.set(key, answer);
      const asking = answer;
      addresses.catch(() => {
        if (answers.get(key) === asking) answers.delete(key);
      });
    }
    answer.addresses.then(
      (found) => {
        if ((options as { all?: boolean }).all === true) {
          (callback as (error: null, addresses: LookupAddress[]) => void)(null, found);
        } else {
          const [first] = found;
          callback(null, first!.address, first!.family);
        }
      },
      (error: NodeJS.ErrnoException) => callback(error, '', 0),
    );
  };
}

export interface Http1Request {
  /** Absolute path. */
  readonly path: string;
  /**
   * The header lines as they are to be sent, each ending in CRLF, Host and Content-Length
   * included. The caller made each of them and vouches that none can split the request
   * (JsonPostSigner checks every value it did not make itself).
   */
  readonly headers: string;
  readonly body: string;
  readonly maxBodyBytes: number;
  readonly requestTimeoutMs: number;
  readonly connectTimeoutMs: number;
}

export type Http1Answer = Pick<Http1Response, 'status' | 'headers' | 'body'>;

interface Exchange {
  onData(chunk: Buffer): void;
  onEnd(error: Error | undefined): void;
}

interface Waiter {
  readonly resolve: (connection: Connection) => void;
  readonly reject: (error: Error) => void;
  readonly connectTimeoutMs: number;
}

interface Connection {
  readonly socket: Socket | TLSSocket;
  exchange: Exchange | undefined;
}

function timeoutError(message: string): Error {
  const error = new Error(message);
  error.name = 'TimeoutError';
  return error;
}

export class Http1Pool {
  readonly #options: Http1PoolOptions;
  readonly #hostname: string;
  readonly #port: number;
  readonly #idle: Connection[] = [];
  readonly #waiting: Waiter[] = [];
  #open = 0;
  readonly #connections = new Set<Connection>();
  #tls: Promise<typeof import('node:tls')> | undefined;
  /** The last TLS session a server gave, so that new connections resume it. */
  #session: Buffer | undefined;
  /** The trust store and settings of this endpoint's TLS connections (built on first use). */
  #secureContext: SecureContext | undefined;
  readonly #lookup: LookupFunction;

  constructor(options: Http1PoolOptions) {
    const { endpoint } = options;
    if (endpoint.protocol !== 'http:' && endpoint.protocol !== 'https:')
      throw new Error(`unsupported endpoint protocol ${endpoint.protocol}`);
    this.#options = options;
    this.#hostname = endpoint.hostname.replace(/^\[|\]$/g, '');
    this.#port =
      endpoint.port === '' ? (endpoint.protocol === 'https:' ? 443 : 80) : Number(endpoint.port);
    if (endpoint.protocol === 'https:') this.#tls = import('node:tls');
    this.#lookup = sharedLookup(options.lookup ?? dnsLookup, Date.now);
  }

  async request(request: Http1Request): Promise<Http1Answer> {
    const connection = await this.#acquire(request.connectTimeoutMs);
    return this.#exchange(
      connection,
      `POST ${request.path} HTTP/1.1\r\n${request.headers}\r\n${request.body}`,
      request,
    );
  }

  /**
   * Open connections for requests about to come, up to `count` in all (and `maxSockets`), and keep
   * them idle: a request takes one whether it is still connecting or not, and its bytes leave as
   * soon as the connection is up. Opening them while other work waits (the first round trip of a
   * resolution) takes the connect and TLS handshake off the requests' path. Failures surface as
   * they would for a connection opened for a request: the request that takes it fails the same way,
   * and one that fails while idle is dropped.
   */
  async preconnect(count: number, connectTimeoutMs: number): Promise<void> {
    const tls = this.#tls === undefined ? undefined : await this.#tls;
    const wanted = Math.min(count, this.#options.maxSockets) - this.#open;
    for (let opened = 0; opened < wanted; opened++) {
      this.#open += 1;
      this.#release(this.#newConnection(tls, connectTimeoutMs));
    }
  }

  /**
   * Close every connection, as Node's `Agent#destroy` does: requests in flight fail (`socket hang
   * up`), and the pool opens new connections for later requests (the launcher closes its
   * connections once the command runs; `--watch` polls later).
   */
  destroy(): void {
    this.#idle.length = 0;
    for (const connection of this.#connections) connection.socket.destroy();
  }

  #exchange(connection: Connection, bytes: string, request: Http1Request): Promise<Http1Answer> {
    const { socket } = connection;
    socket.ref();
    const parser = new Http1ResponseParser(request.maxBodyBytes);
    return new Promise<Http1Answer>((resolve, reject) => {
      let settled = false;
      // The attempt's clock starts when it has a connection, not while it waits for one.
      const timer = setTimeout(() => {
        done(
          timeoutError(
            `no answer from ${this.#options.endpoint.host} within ${request.requestTimeoutMs} ms`,
          ),
        );
      }, request.requestTimeoutMs);
      const done = (error: Error | undefined, answer?: Http1Answer, reuse = false) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        connection.exchange = undefined;
        if (reuse) this.#release(connection);
        // Its close makes room for the next request that waits.
        else connection.socket.destroy();
        if (error === undefined) resolve(answer!);
        else reject(error);
      };
      connection.exchange = {
        onData: (chunk) => {
          try {
            parser.push(chunk);
          } catch (error: unknown) {
            done(error as Error);
            return;
          }
          const tooLarge = parser.tooLarge;
          if (tooLarge !== undefined) {
            // An error answer too large to read is judged by its status and headers alone.
            if (tooLarge.status >= 200 && tooLarge.status < 300)
              done(new ResponseTooLargeError(request.maxBodyBytes));
            else done(undefined, { ...tooLarge, body: Buffer.alloc(0) });
            return;
          }
          const response = parser.response;
          if (response !== undefined)
            done(undefined, response, response.keepAlive && parser.leftover === 0);
        },
        onEnd: (error) => {
          // A reset is a close: its place in the response says what it cut short.
          const code = (error as NodeJS.ErrnoException | undefined)?.code;
          if (error !== undefined && code !== 'ECONNRESET' && code !== 'EPIPE') {
            done(error);
            return;
          }
          try {
            const response = parser.closed(error !== undefined);
            done(undefined, response);
          } catch (closed: unknown) {
            done(closed as Error);
          }
        },
      };
      socket.write(bytes, 'utf8');
    });
  }

  /** An idle connection, a new one if there is room, else the next one freed. */
  #acquire(connectTimeoutMs: number): Promise<Connection> {
    for (let idle = this.#idle.pop(); idle !== undefined; idle = this.#idle.pop()) {
      if (!idle.socket.destroyed) return Promise.resolve(idle);
    }
    if (this.#open < this.#options.maxSockets) return this.#connect(connectTimeoutMs);
    return new Promise((resolve, reject) =>
      this.#waiting.push({ resolve, reject, connectTimeoutMs }),
    );
  }

  async #connect(connectTimeoutMs: number): Promise<Connection> {
    // Counted before node:tls is awaited, so that requests arriving meanwhile see it.
    this.#open += 1;
    let tls: typeof import('node:tls') | undefined;
    try {
      tls = await this.#tls;
    } catch (error: unknown) {
      this.#open -= 1;
      throw error;
    }
    return this.#newConnection(tls, connectTimeoutMs);
  }

  /** A connection already counted in `#open`; its socket connects in the background. */
  #newConnection(tls: typeof import('node:tls') | undefined, connectTimeoutMs: number): Connection {
    let socket: Socket | TLSSocket;
    try {
      if (tls === undefined) {
        socket = connectTcp({
          host: this.#hostname,
          port: this.#port,
          noDelay: true,
          lookup: this.#lookup,
        });
      } else {
        // One context for every connection: tls.connect would build one per connection.
        this.#secureContext ??= tls.createSecureContext(
          this.#options.ca === undefined ? {} : { ca: this.#options.ca },
        );
        const options: ConnectionOptions = {
          host: this.#hostname,
          port: this.#port,
          ALPNProtocols: ['http/1.1'],
          secureContext: this.#secureContext,
          lookup: this.#lookup,
          ...(isIP(this.#hostname) === 0 ? { servername: this.#hostname } : {}),
          ...(this.#session === undefined ? {} : { session: this.#session }),
        };
        const secure = tls.connect(options);
        secure.setNoDelay(true);
        secure.on('session', (session: Buffer) => {
          this.#session = session;
        });
        socket = secure;
      }
    } catch (error: unknown) {
      this.#open -= 1;
      throw error;
    }
    const connection: Connection = { socket, exchange: undefined };
    this.#connections.add(connection);
    const connected = tls === undefined ? 'connect' : 'secureConnect';
    const timer = setTimeout(() => {
      socket.destroy(
        timeoutError(
          `cannot connect to ${this.#options.endpoint.host} within ${connectTimeoutMs} ms`,
        ),
      );
    }, connectTimeoutMs);
    socket.once(connected, () => clearTimeout(timer));
    let failure: Error | undefined;
    socket.on('data', (chunk: Buffer) => {
      if (connection.exchange !== undefined) connection.exchange.onData(chunk);
      else socket.destroy(); // bytes nobody asked for: the connection is not usable any more
    });
    socket.on('error', (error: Error) => {
      failure ??= error;
    });
    socket.on('close', () => {
      clearTimeout(timer);
      this.#open -= 1;
      this.#connections.delete(connection);
      const index = this.#idle.indexOf(connection);
      if (index >= 0) this.#idle.splice(index, 1);
      connection.exchange?.onEnd(failure);
      // A connection gone makes room for one that waits.
      this.#next();
    });
    // The response ends at the peer's FIN when it is framed by the connection closing.
    socket.on('end', () => {
      if (connection.exchange !== undefined) socket.destroy();
      else socket.end();
    });
    return connection;
  }

  /** Give a connection whose exchange is over to the next request, or keep it idle. */
  #release(connection: Connection): void {
    const next = this.#waiting.shift();
    if (next !== undefined) {
      next.resolve(connection);
      return;
    }
    // An idle connection does not keep the process alive.
    connection.socket.unref();
    this.#idle.push(connection);
  }

  /** Open a connection for the next request that waits, if there is room. */
  #next(): void {
    if (this.#waiting.length === 0) return;
    if (this.#open >= this.#options.maxSockets) return;
    const next = this.#waiting.shift()!;
    this.#connect(next.connectTimeoutMs).then(next.resolve, next.reject);
  }
}
