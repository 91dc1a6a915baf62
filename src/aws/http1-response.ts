import { MalformedResponseError, RESPONSE_CUT_SHORT } from '../util/aws-errors.js';

/**
 * An HTTP/1.1 response read incrementally from a connection's bytes: the status line, the
 * headers, and a body framed by Content-Length, by chunked transfer coding, or by the connection
 * closing. Pure: bytes in, a response or an error out. What it accepts is what AWS endpoints and
 * the proxies in front of them send; everything else is refused rather than guessed at:
 *
 * - a head longer than `MAX_HEAD_BYTES`, a status line or header line that is not HTTP/1.x, a
 *   folded header, conflicting Content-Lengths, a transfer coding other than chunked, a chunk
 *   size that is not hex: a MalformedResponseError (not retried; it names the problem, never the
 *   bytes);
 * - a body larger than `maxBodyBytes` (announced or as it arrives): `tooLarge`, so that the caller
 *   can judge an error answer by its status and headers and refuse a successful one;
 * - a connection that closes before the response is whole: an ECONNRESET error (retried), named
 *   `ResponseCutShortError` once the body had begun, saying how much of it arrived.
 *
 * 1xx answers (100 Continue) are skipped; 204 and 304 have no body.
 */
export interface Http1Response {
  readonly status: number;
  /** Lower-case names; a header sent more than once is a list. */
  readonly headers: Record<string, string | string[]>;
  readonly body: Buffer;
  /** The connection may carry another request: HTTP/1.1, no `Connection: close`, body framed. */
  readonly keepAlive: boolean;
}

export const MAX_HEAD_BYTES = 64 * 1024;
const MAX_CHUNK_LINE_BYTES = 1024;
/** Nothing buffered yet (never written to: every change replaces the buffer). */
const NOTHING = Buffer.alloc(0);
const CRLF = Buffer.from('\r\n');
const HEAD_END = Buffer.from('\r\n\r\n');
const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: [\t\x20-\x7e\x80-\xff]*)?$/;
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const DIGITS = /^\d{1,16}$/;

type Framing =
  | { readonly kind: 'length'; left: number }
  | { readonly kind: 'chunked'; step: 'size' | 'data' | 'data-end' | 'trailer'; left: number }
  | { readonly kind: 'close' };

function malformed(problem: string): MalformedResponseError {
  return new MalformedResponseError(`not valid HTTP/1.1: ${problem}`);
}

/** A header's comma-separated elements, over every time it was sent, trimmed. */
function listOf(value: string | readonly string[]): string[] {
  return (typeof value === 'string' ? [value] : value)
    .join(',')
    .split(',')
    .map((part) => part.trim());
}

const isBlank = (code: number) => code === 0x20 || code === 0x09;

/** `text` from `start`, without the spaces and tabs around it (a header value's optional blanks). */
function withoutBlanks(text: string, start: number): string {
  let from = start;
  let to = text.length;
  while (from < to && isBlank(text.charCodeAt(from))) from++;
  while (to > from && isBlank(text.charCodeAt(to - 1))) to--;
  return text.slice(from, to);
}

/** The connection closed: ECONNRESET, as Node reports it, so that the attempt is retried. */
export function connectionClosedError(message: string, cutShort: boolean): Error {
  const error: NodeJS.ErrnoException = new Error(message);
  if (cutShort) error.name = RESPONSE_CUT_SHORT;
  error.code = 'ECONNRESET';
  return error;
}

export class Http1ResponseParser {
  readonly #maxBodyBytes: number;
  #buffered: Buffer = NOTHING;
  #status = 0;
  #minor = 1;
  #headers: Record<string, string | string[]> = {};
  #framing: Framing | undefined;
  #chunks: Buffer[] = [];
  #received = 0;
  #declared: number | undefined;
  #response: Http1Response | undefined;
  #tooLarge = false;

  constructor(maxBodyBytes: number) {
    this.#maxBodyBytes = maxBodyBytes;
  }

  /** The whole response, once it has arrived. */
  get response(): Http1Response | undefined {
    return this.#response;
  }

  /**
   * The body is (or is announced to be) larger than allowed: status and headers are known, the
   * body is not kept, and the connection must be closed.
   */
  get tooLarge(): { status: number; headers: Record<string, string | string[]> } | undefined {
    return this.#tooLarge ? { status: this.#status, headers: this.#headers } : undefined;
  }

  /** Bytes that arrived after the response: a connection that has them cannot be reused. */
  get leftover(): number {
    return this.#response === undefined ? 0 : this.#buffered.length;
  }

  /** Feed bytes from the connection. Throws a MalformedResponseError on a broken response. */
  push(chunk: Buffer): void {
    if (this.#response !== undefined || this.#tooLarge) {
      this.#buffered = Buffer.concat([this.#buffered, chunk]);
      return;
    }
    this.#buffered = this.#buffered.length === 0 ? chunk : Buffer.concat([this.#buffered, chunk]);
    while (this.#response === undefined && !this.#tooLarge) {
      const progressed = this.#framing === undefined ? this.#head() : this.#body();
      if (!progressed) return;
    }
  }

  /**
   * The connection closed (`reset`: by an error, not the peer's orderly end): the response if
   * the close ends it, else the error to report.
   */
  closed(reset = false): Http1Response {
    if (this.#response !== undefined) return this.#response;
    if (this.#framing?.kind === 'close' && !reset) {
      this.#finish(false);
      return this.#response!;
    }
    if (this.#framing === undefined) {
      throw connectionClosedError('socket hang up', false);
    }
    const of = this.#declared === undefined ? '' : ` of ${this.#declared}`;
    throw connectionClosedError(`the connection closed after ${this.#received}${of} bytes`, true);
  }

  /** Parse the status line and headers, if all of them are here. */
  #head(): boolean {
    const end = this.#buffered.indexOf(HEAD_END);
    if (end < 0) {
      if (this.#buffered.length > MAX_HEAD_BYTES) throw malformed('the headers are too long');
      return false;
    }
    if (end > MAX_HEAD_BYTES) throw malformed('the headers are too long');
    const lines = this.#buffered.toString('latin1', 0, end).split('\r\n');
    this.#buffered = this.#buffered.subarray(end + HEAD_END.length);
    const status = STATUS_LINE.exec(lines[0]!);
    if (status === null) throw malformed('the status line is not HTTP/1.x');
    this.#minor = Number(status[1]);
    this.#status = Number(status[2]);
    const headers: Record<string, string | string[]> = Object.create(null) as Record<
      string,
      string | string[]
    >;
    for (let index = 1; index < lines.length; index++) {
      const line = lines[index]!;
      const colon = line.indexOf(':');
      const name = colon < 0 ? '' : line.slice(0, colon);
      if (!HEADER_NAME.test(name)) throw malformed('a header line has no valid name');
      const value = withoutBlanks(line, colon + 1);
      if (!HEADER_VALUE.test(value)) throw malformed('a header value has control characters');
      const key = name.toLowerCase();
      const before = headers[key];
      headers[key] = before === undefined ? value : [...[before].flat(), value];
    }
    if (this.#status >= 100 && this.#status < 200) {
      if (this.#status === 101) throw malformed('an unexpected protocol switch');
      return true; // an interim answer: the real one follows
    }
    this.#headers = headers;
    this.#framing = this.#framingOf(headers);
    if (this.#declared !== undefined && this.#declared > this.#maxBodyBytes) {
      this.#tooLarge = true;
      return false;
    }
    if (this.#framing.kind === 'length' && this.#framing.left === 0) this.#finish(true);
    return true;
  }

  #framingOf(headers: Record<string, string | string[]>): Framing {
    if (this.#status === 204 || this.#status === 304) return { kind: 'length', left: 0 };
    const coding = headers['transfer-encoding'];
    if (coding !== undefined) {
      const codings = listOf(coding).filter((part) => part !== '');
      if (codings.length !== 1 || codings[0]!.toLowerCase() !== 'chunked')
        throw malformed('a transfer coding other than chunked');
      return { kind: 'chunked', step: 'size', left: 0 };
    }
    const length = headers['content-length'];
    if (length !== undefined) {
      // One header with one number, as every answer has it; else every element must agree.
      const values = typeof length === 'string' && DIGITS.test(length) ? [length] : listOf(length);
      const [only] = values;
      if (new Set(values).size !== 1 || !DIGITS.test(only!))
        throw malformed('the Content-Length is not one number');
      this.#declared = Number(only);
      return { kind: 'length', left: this.#declared };
    }
    return { kind: 'close' };
  }

  /** Take what is buffered of the body; true when there may be more to do at once. */
  #body(): boolean {
    const framing = this.#framing!;
    if (framing.kind === 'close') {
      this.#take(this.#buffered.length);
      return false;
    }
    if (framing.kind === 'length') {
      const take = Math.min(framing.left, this.#buffered.length);
      this.#take(take);
      framing.left -= take;
      if (framing.left === 0) this.#finish(true);
      return false;
    }
    switch (framing.step) {
      case 'size': {
        const end = this.#buffered.indexOf(CRLF);
        if (end < 0) {
          if (this.#buffered.length > MAX_CHUNK_LINE_BYTES) throw malformed('a chunk size line');
          return false;
        }
        const line = this.#buffered.toString('latin1', 0, end);
        this.#buffered = this.#buffered.subarray(end + CRLF.length);
        const size = /^([0-9A-Fa-f]{1,12})[\t ]*(?:;.*)?$/.exec(line);
        if (size === null) throw malformed('a chunk size is not hexadecimal');
        framing.left = Number.parseInt(size[1]!, 16);
        if (framing.left === 0) {
          framing.step = 'trailer';
          return true;
        }
        if (this.#received + framing.left > this.#maxBodyBytes) {
          this.#tooLarge = true;
          return false;
        }
        framing.step = 'data';
        return true;
      }
      case 'data': {
        const take = Math.min(framing.left, this.#buffered.length);
        this.#take(take);
        framing.left -= take;
        if (framing.left > 0) return false;
        framing.step = 'data-end';
        return true;
      }
      case 'data-end': {
        if (this.#buffered.length < CRLF.length) return false;
        if (!this.#buffered.subarray(0, CRLF.length).equals(CRLF))
          throw malformed('a chunk does not end where its size says');
        this.#buffered = this.#buffered.subarray(CRLF.length);
        framing.step = 'size';
        return true;
      }
      case 'trailer': {
        const end = this.#buffered.indexOf(CRLF);
        if (end < 0) {
          if (this.#buffered.length > MAX_HEAD_BYTES) throw malformed('the trailer is too long');
          return false;
        }
        this.#buffered = this.#buffered.subarray(end + CRLF.length);
        if (end === 0) this.#finish(true);
        return true;
      }
    }
  }

  #take(bytes: number): void {
    if (bytes === 0) return;
    this.#received += bytes;
    if (this.#received > this.#maxBodyBytes) {
      this.#tooLarge = true;
      this.#chunks = [];
      return;
    }
    this.#chunks.push(this.#buffered.subarray(0, bytes));
    this.#buffered = this.#buffered.subarray(bytes);
  }

  #finish(framed: boolean): void {
    const tokens = this.#headers.connection;
    const connection =
      tokens === undefined ? [] : listOf(tokens).map((token) => token.toLowerCase());
    this.#response = {
      status: this.#status,
      headers: this.#headers,
      body: Buffer.concat(this.#chunks, this.#received),
      keepAlive:
        framed &&
        this.#minor === 1 &&
        !connection.includes('close') &&
        // A response that had both framings is suspect: its connection is not reused.
        !(
          this.#headers['transfer-encoding'] !== undefined &&
          this.#headers['content-length'] !== undefined
        ),
    };
    this.#chunks = [];
  }
}
