import type { IncomingMessage } from 'node:http';
import { RESPONSE_CUT_SHORT, ResponseTooLargeError } from '../util/aws-errors.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * The largest response body credexec reads from a call; a larger one is refused, so that a
 * broken endpoint or proxy announcing gigabytes cannot take the process down. Taken from the
 * services' own limits, with room for JSON: a BatchGetItem returns at most 16 MB of item data, a
 * Query or Scan page at most 1 MB, one item (GetItem, DeleteItem) at most 400 KB. On the wire
 * binary grows by a third as base64 and every attribute repeats its name and type, so twice the
 * item data is ample for credstash items (ASCII and base64 throughout). KMS answers carry at
 * most 4 KB of plaintext or ciphertext and a key ARN; error answers of both are a few hundred
 * bytes.
 */
export function responseLimit(service: string, operation: string): number {
  if (service === 'kms') return 64 * KiB;
  return operation === 'BatchGetItem' ? 32 * MiB : 4 * MiB;
}

/** The body ended before all of it arrived: transient like a reset connection, so retried. */
function connectionClosed(received: number, declared: number | undefined): Error {
  const error: NodeJS.ErrnoException = new Error(
    `the connection closed after ${received}${declared === undefined ? '' : ` of ${declared}`} bytes`,
  );
  error.name = RESPONSE_CUT_SHORT;
  error.code = 'ECONNRESET';
  return error;
}

/**
 * Read a response body of at most `maxBytes`. One announced (Content-Length) or streamed beyond
 * that is refused with a ResponseTooLargeError and its connection closed without reading on; a
 * body cut short by the connection closing fails with code ECONNRESET, saying how much arrived.
 * Any other error (the caller destroying `incoming` on a timeout) passes through.
 */
export function readResponseBody(incoming: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const header = incoming.headers['content-length'];
    const declared = header === undefined ? undefined : Number(header);
    let settled = false;
    const settle = (error: Error | undefined, body?: Buffer) => {
      if (settled) return;
      settled = true;
      if (error === undefined) resolve(body!);
      else reject(error);
    };
    const refuse = () => {
      settle(new ResponseTooLargeError(maxBytes));
      incoming.destroy();
    };
    if (declared !== undefined && declared > maxBytes) {
      refuse();
      return;
    }
    const chunks: Buffer[] = [];
    let received = 0;
    incoming.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > maxBytes) refuse();
      else chunks.push(chunk);
    });
    incoming.on('end', () => settle(undefined, Buffer.concat(chunks, received)));
    incoming.on('error', (error: NodeJS.ErrnoException) =>
      settle(error.code === 'ECONNRESET' ? connectionClosed(received, declared) : error),
    );
    incoming.on('close', () => {
      if (!incoming.complete) settle(connectionClosed(received, declared));
    });
  });
}

/**
 * For the SDK, whose requests stop timing out once the headers arrive: read the body as above
 * within `timeoutMs` (a body that stops coming fails as a TimeoutError, which is retried). An
 * error answer too large to read becomes an empty body, so it is judged by status and headers.
 */
export async function readSdkResponseBody(
  incoming: IncomingMessage,
  maxBytes: number,
  timeoutMs: number,
): Promise<Uint8Array> {
  const timer = setTimeout(() => {
    const error = new Error(`the response did not arrive within ${timeoutMs} ms`);
    error.name = 'TimeoutError';
    incoming.destroy(error);
  }, timeoutMs);
  try {
    const body = await readResponseBody(incoming, maxBytes);
    return new Uint8Array(body.buffer, body.byteOffset, body.length);
  } catch (error: unknown) {
    const status = incoming.statusCode ?? 0;
    if (error instanceof ResponseTooLargeError && (status < 200 || status > 299))
      return new Uint8Array(0);
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
