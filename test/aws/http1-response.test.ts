import { isDeepStrictEqual } from 'node:util';
import test from 'ava';
import fc from 'fast-check';
import {
  Http1ResponseParser,
  MAX_HEAD_BYTES,
  type Http1Response,
} from '../../src/aws/http1-response.js';
import { MalformedResponseError, RESPONSE_CUT_SHORT } from '../../src/util/aws-errors.js';

/** `bytes` split where `cuts` say (positions taken modulo the length), in order. */
function split(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((cut) => (bytes.length === 0 ? 0 : cut % bytes.length)))]
    .filter((point) => point > 0)
    .sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let from = 0;
  for (const point of points) {
    parts.push(bytes.subarray(from, point));
    from = point;
  }
  parts.push(bytes.subarray(from));
  return parts;
}

/** Feed `parts`, then (optionally) the close; the response or the error. */
function parse(
  parts: readonly Buffer[],
  maxBody = 1 << 20,
  close = false,
): { response?: Http1Response | undefined; error?: unknown; parser: Http1ResponseParser } {
  const parser = new Http1ResponseParser(maxBody);
  try {
    for (const part of parts) parser.push(part);
    if (parser.response !== undefined || parser.tooLarge !== undefined || !close)
      return { response: parser.response, parser };
    return { response: parser.closed(), parser };
  } catch (error: unknown) {
    return { error, parser };
  }
}

const HEADER_NAMES = ['x-amzn-requestid', 'x-amzn-errortype', 'date', 'content-type', 'x-extra'];

interface Wire {
  readonly status: number;
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Buffer;
  readonly framing: 'length' | 'chunked' | 'close';
  readonly chunkSizes: readonly number[];
  readonly connectionClose: boolean;
}

const wires: fc.Arbitrary<Wire> = fc.record({
  status: fc.oneof(fc.integer({ min: 200, max: 599 }).filter((s) => s !== 204 && s !== 304)),
  headers: fc.array(
    fc.tuple(
      fc.constantFrom(...HEADER_NAMES),
      fc.stringMatching(/^[\x21-\x7e]([\x20-\x7e]{0,30}[\x21-\x7e])?$/),
    ),
    { maxLength: 5 },
  ),
  body: fc.uint8Array({ maxLength: 3000 }).map((bytes) => Buffer.from(bytes)),
  framing: fc.constantFrom('length', 'chunked', 'close'),
  chunkSizes: fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 8 }),
  connectionClose: fc.boolean(),
});

function serialize(wire: Wire): Buffer {
  let head = `HTTP/1.1 ${wire.status} Whatever It Says\r\n`;
  for (const [name, value] of wire.headers) head += `${name}: ${value}\r\n`;
  if (wire.connectionClose || wire.framing === 'close') head += 'Connection: close\r\n';
  if (wire.framing === 'length') head += `Content-Length: ${wire.body.length}\r\n`;
  if (wire.framing === 'chunked') head += 'Transfer-Encoding: chunked\r\n';
  head += '\r\n';
  if (wire.framing !== 'chunked') return Buffer.concat([Buffer.from(head, 'latin1'), wire.body]);
  const parts: Buffer[] = [Buffer.from(head, 'latin1')];
  let offset = 0;
  for (let index = 0; offset < wire.body.length; index++) {
    const size = Math.min(
      wire.chunkSizes[index % wire.chunkSizes.length]!,
      wire.body.length - offset,
    );
    parts.push(
      Buffer.from(`${size.toString(16)};ext=1\r\n`),
      wire.body.subarray(offset, offset + size),
      Buffer.from('\r\n'),
    );
    offset += size;
  }
  parts.push(Buffer.from('0\r\nx-trailer: t\r\n\r\n'));
  return Buffer.concat(parts);
}

test('any well-formed response, cut anywhere, parses to its status, headers and exact body', (t) => {
  fc.assert(
    fc.property(wires, fc.array(fc.nat(), { maxLength: 12 }), (wire, cuts) => {
      const { response, error } = parse(split(serialize(wire), cuts), 1 << 20, true);
      if (error !== undefined) return false;
      if (response === undefined) return false;
      if (response.status !== wire.status || !response.body.equals(wire.body)) return false;
      for (const [name] of wire.headers) if (response.headers[name] === undefined) return false;
      return response.keepAlive === (wire.framing !== 'close' && !wire.connectionClose);
    }),
    { seed: 11_14, numRuns: 1500 },
  );
  t.pass();
});

test('a framed response is whole without the connection closing; what follows it is counted', (t) => {
  const bytes = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}HTTP/1.1');
  const { response, parser } = parse([bytes]);
  t.is(response?.body.toString(), '{}');
  t.true(response?.keepAlive);
  t.is(parser.leftover, 'HTTP/1.1'.length, 'a connection with stray bytes is not reused');
});

test('interim 1xx answers are skipped; 204 and HEAD-less 304 have no body', (t) => {
  const continued = parse([
    Buffer.from('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok'),
  ]);
  t.is(continued.response?.status, 200);
  t.is(continued.response?.body.toString(), 'ok');
  for (const status of [204, 304]) {
    const { response } = parse([Buffer.from(`HTTP/1.1 ${status} X\r\n\r\n`)]);
    t.is(response?.status, status);
    t.is(response?.body.length, 0);
  }
});

test('headers sent twice are kept as a list; names are lower case', (t) => {
  const { response } = parse([
    Buffer.from(
      'HTTP/1.1 200 OK\r\nX-A: 1\r\nx-a: 2\r\nDate:  Mon, 30 Nov 2026  \r\nContent-Length: 0\r\n\r\n',
    ),
  ]);
  t.deepEqual(response?.headers['x-a'], ['1', '2']);
  t.is(response?.headers.date, 'Mon, 30 Nov 2026');
});

test('what is not HTTP/1.1 is a MalformedResponseError naming the problem, never the bytes', (t) => {
  const cases: [string, string][] = [
    ['SSH-2.0-OpenSSH_9.6\r\n\r\n', 'the status line is not HTTP/1.x'],
    ['HTTP/2 200\r\n\r\n', 'the status line is not HTTP/1.x'],
    ['HTTP/1.1 200 OK\r\n folded: header\r\n\r\n', 'a header line has no valid name'],
    ['HTTP/1.1 200 OK\r\nno colon here\r\n\r\n', 'a header line has no valid name'],
    ['HTTP/1.1 200 OK\r\nx: a\x00b\r\n\r\n', 'a header value has control characters'],
    [
      'HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n',
      'the Content-Length is not one number',
    ],
    ['HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n', 'the Content-Length is not one number'],
    ['HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\n\r\n', 'a transfer coding other than chunked'],
    [
      'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n',
      'a chunk size is not hexadecimal',
    ],
    [
      'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nabcd',
      'a chunk does not end where its size says',
    ],
    ['HTTP/1.1 101 Switching Protocols\r\n\r\n', 'an unexpected protocol switch'],
  ];
  for (const [text, problem] of cases) {
    const { error } = parse([Buffer.from(text, 'latin1')]);
    t.true(error instanceof MalformedResponseError, text);
    t.is((error as Error).message, `malformed response: not valid HTTP/1.1: ${problem}`, text);
  }
  const endless = parse([Buffer.from(`HTTP/1.1 200 OK\r\nx: ${'a'.repeat(MAX_HEAD_BYTES)}`)]);
  t.is(
    (endless.error as Error).message,
    'malformed response: not valid HTTP/1.1: the headers are too long',
  );
});

test('a body over the limit, announced or arriving, is too large: status and headers are kept, the body is not', (t) => {
  const announced = parse(
    [Buffer.from('HTTP/1.1 503 X\r\nx-amzn-errortype: Busy\r\ncontent-length: 5000000000\r\n\r\n')],
    1024,
  );
  t.deepEqual(announced.parser.tooLarge, {
    status: 503,
    headers: Object.assign(Object.create(null), {
      'x-amzn-errortype': 'Busy',
      'content-length': '5000000000',
    }),
  });
  const chunked = parse(
    [
      Buffer.from('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n'),
      Buffer.from('400\r\n'),
      Buffer.alloc(1024, 32),
      Buffer.from('\r\n1\r\n'),
    ],
    1024,
  );
  t.is(chunked.parser.tooLarge?.status, 200);
  const closing = parse([Buffer.from('HTTP/1.1 200 OK\r\n\r\n'), Buffer.alloc(1025, 32)], 1024);
  t.is(closing.parser.tooLarge?.status, 200);
});

test('a connection closing early is ECONNRESET: a hang-up before the head, a cut-short body after', (t) => {
  for (const text of ['', 'HTTP/1.1 200 OK\r\ncontent-le']) {
    const { error } = parse([Buffer.from(text)], 1024, true);
    t.is((error as NodeJS.ErrnoException).code, 'ECONNRESET', text);
    t.is((error as Error).message, 'socket hang up');
  }
  const cut = parse(
    [Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{"Plaintext')],
    1024,
    true,
  );
  t.is((cut.error as Error).name, RESPONSE_CUT_SHORT);
  t.is((cut.error as Error).message, 'the connection closed after 11 of 100 bytes');
  const chunked = parse(
    [Buffer.from('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nabcde\r\n3\r\nab')],
    1024,
    true,
  );
  t.is((chunked.error as Error).message, 'the connection closed after 7 bytes');
  // A body framed by the close is whole at an orderly close, cut short at a reset.
  const parser = new Http1ResponseParser(1024);
  parser.push(Buffer.from('HTTP/1.1 200 OK\r\n\r\n{}'));
  t.throws(() => parser.closed(true), { name: RESPONSE_CUT_SHORT });
  t.is(parser.closed().body.toString(), '{}');
});

test('any bytes, cut anywhere: a response, a MalformedResponseError or a closed-connection error, nothing else', (t) => {
  const prefix = fc.constantFrom(
    '',
    'HTTP/1.1 200 OK\r\n',
    'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n',
    'HTTP/1.0 500 X\r\ncontent-length: 3\r\n\r\n',
  );
  fc.assert(
    fc.property(
      prefix,
      fc.uint8Array({ maxLength: 400 }),
      fc.array(fc.nat(), { maxLength: 6 }),
      (start, bytes, cuts) => {
        const all = Buffer.concat([Buffer.from(start), bytes]);
        const { response, error, parser } = parse(split(all, cuts), 256, true);
        if (error === undefined) return response !== undefined || parser.tooLarge !== undefined;
        return (
          error instanceof MalformedResponseError ||
          (error as NodeJS.ErrnoException).code === 'ECONNRESET'
        );
      },
    ),
    { seed: 14_11, numRuns: 3000 },
  );
  t.pass();
});

test('any head is judged as a line-by-line reading judges it: the same headers, or the same problem', (t) => {
  // The reference: each line on its own, trimmed of blanks, as RFC 9112 reads a head.
  const reference = (head: string): { status: number; headers: object } | string => {
    const lines = head.split('\r\n');
    if (!/^HTTP\/1\.[01] \d{3}(?: [\t\x20-\x7e\x80-\xff]*)?$/.test(lines[0]!))
      return 'the status line is not HTTP/1.x';
    const headers: Record<string, string[]> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      const name = colon < 0 ? '' : line.slice(0, colon);
      if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) return 'a header line has no valid name';
      const value = line.slice(colon + 1).replace(/^[\t ]+|[\t ]+$/g, '');
      if (!/^[\t\x20-\x7e\x80-\xff]*$/.test(value)) return 'a header value has control characters';
      (headers[name.toLowerCase()] ??= []).push(value);
    }
    return { status: Number(lines[0]!.slice(9, 12)), headers };
  };
  // Mostly well-formed lines, with the characters that make one ill-formed mixed in now and then.
  const chars = (alphabet: string[]) =>
    fc.string({ unit: fc.constantFrom(...alphabet), maxLength: 8 });
  const status = fc.oneof(
    {
      weight: 8,
      arbitrary: fc.constantFrom('HTTP/1.1 200 OK', 'HTTP/1.0 404', 'HTTP/1.1 500 Oh no'),
    },
    { weight: 1, arbitrary: chars(['H', 'T', 'P', '/', '1', '.', ' ', '2', '0', '\t']) },
  );
  const name = fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom('x-amzn-RequestId', 'Content-Type', 'X', 'a-b') },
    { weight: 1, arbitrary: chars(['a', ' ', '\t', '"', '(', '\x80', ':']) },
  );
  const value = chars(['a', ' ', '\t', ':', '\x80', 'é', '"', '\x00', '\x7f', '\r', '\n']);
  const line = fc.tuple(name, fc.constantFrom(':', ''), value).map((parts) => parts.join(''));
  const heads = fc
    .tuple(status, fc.array(line, { maxLength: 6 }))
    .map(([first, rest]) => [first, ...rest].join('\r\n'));
  fc.assert(
    fc.property(heads, (head) => {
      // A head ends at its first empty line: only heads that end where they are meant to.
      if (`${head}\r\n\r\n`.indexOf('\r\n\r\n') !== head.length) return true;
      const expected = reference(head);
      // Closed after the head: a response framed by the close ends there.
      const { response, error } = parse([Buffer.from(`${head}\r\n\r\n`, 'latin1')], 1 << 20, true);
      if (typeof expected === 'string') {
        return (
          error instanceof MalformedResponseError &&
          error.message === `malformed response: not valid HTTP/1.1: ${expected}`
        );
      }
      if (error !== undefined) {
        // A well-formed head can still be refused for what its headers say (framing, 101).
        return error instanceof MalformedResponseError && !/status line|header/.test(error.message);
      }
      // An interim answer is skipped (the connection then closes before the real one).
      if (expected.status >= 100 && expected.status < 200) return true;
      const flat = Object.fromEntries(
        Object.entries(expected.headers).map(([name, values]) => [
          name,
          values.length === 1 ? values[0] : values,
        ]),
      );
      return (
        response !== undefined &&
        response.status === expected.status &&
        isDeepStrictEqual({ ...response.headers }, flat)
      );
    }),
    { seed: 2026_11_30, numRuns: 4000 },
  );
  t.pass();
});
