import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import test from 'ava';
import fc from 'fast-check';
import { SignatureV4 } from '@smithy/signature-v4';
import { TLS_CONNECTIONS_PER_SERVICE } from '../../src/aws/config.js';
import { AwsJsonClient, type JsonClientOptions } from '../../src/aws/json-client.js';
import { createLimiter } from '../../src/util/concurrency.js';
import { isNetworkError } from '../../src/util/aws-errors.js';
import { startKmsServer, type KmsServer } from '../support/kms-server.js';
import { sendRaw, type RawResponse } from '../support/raw-response.js';

const CREDENTIALS = { accessKeyId: 'AKIDCREDEXECTEST', secretAccessKey: 'credexec-test-secret' };

function kmsClient(endpoint: string, extra: Partial<JsonClientOptions> = {}): AwsJsonClient {
  return new AwsJsonClient({
    endpoint: new URL(endpoint),
    signingName: 'kms',
    region: 'eu-west-1',
    targetPrefix: 'TrentService',
    jsonVersion: '1.1',
    credentials: () => Promise.resolve(CREDENTIALS),
    maxAttempts: 3,
    connectTimeoutMs: 1_000,
    requestTimeoutMs: 2_000,
    sleep: () => Promise.resolve(),
    ...extra,
  });
}

let kms: KmsServer;
let blob: string;
const CONTEXT = { app: 'credexec' };

test.before(async () => {
  kms = await startKmsServer();
  const client = kmsClient(kms.endpoint);
  const generated = await client.call('GenerateDataKey', {
    KeyId: 'alias/credstash',
    NumberOfBytes: 64,
    EncryptionContext: CONTEXT,
  });
  blob = generated.CiphertextBlob as string;
  client.destroy();
});

test.after.always(async () => {
  await kms?.close();
});

test.afterEach.always(() => kms.clearFaults());

/** Decrypt the data key made in `before`, under `context`. */
function decrypt(client: AwsJsonClient, context: Record<string, string> = CONTEXT) {
  return client.call('Decrypt', {
    CiphertextBlob: Buffer.from(blob, 'base64'),
    EncryptionContext: context,
  });
}

test.serial('Uint8Array inputs travel as base64 and a Decrypt round trip works', async (t) => {
  const client = kmsClient(kms.endpoint);
  t.teardown(() => client.destroy());
  // A Buffer view into a larger allocation: only its own bytes may be sent.
  const padded = Buffer.concat([Buffer.from('junk'), Buffer.from(blob, 'base64')]);
  const output = await client.call('Decrypt', {
    CiphertextBlob: padded.subarray(4),
    EncryptionContext: CONTEXT,
  });
  t.is(Buffer.from(output.Plaintext as string, 'base64').length, 64);
});

test.serial('throttling is retried with backoff until it passes', async (t) => {
  const pauses: number[] = [];
  const client = kmsClient(kms.endpoint, {
    sleep: (ms) => {
      pauses.push(ms);
      return Promise.resolve();
    },
  });
  t.teardown(() => client.destroy());
  kms.throttleNext(2);
  const before = kms.count('Decrypt');
  await decrypt(client);
  t.is(kms.count('Decrypt') - before, 3);
  t.is(pauses.length, 2);
  // Throttling backs off from a 500 ms base: full jitter below 500, then below 1000.
  t.true(pauses[0]! < 500 && pauses[1]! < 1_000, String(pauses));
});

test.serial('throttling past the attempts fails with the service error', async (t) => {
  const client = kmsClient(kms.endpoint);
  t.teardown(() => client.destroy());
  kms.throttleNext(5);
  const before = kms.count('Decrypt');
  const error = await t.throwsAsync(decrypt(client));
  t.is(error?.name, 'ThrottlingException');
  t.is(
    (error as unknown as { $metadata: { httpStatusCode: number; attempts: number } }).$metadata
      .attempts,
    3,
  );
  t.is(kms.count('Decrypt') - before, 3);
});

test.serial('server errors are retried; client errors are not', async (t) => {
  const client = kmsClient(kms.endpoint);
  t.teardown(() => client.destroy());
  kms.failNext({ type: 'KMSInternalException', status: 500 }, 1, 'Decrypt');
  const before = kms.count('Decrypt');
  await decrypt(client);
  t.is(kms.count('Decrypt') - before, 2);

  const wrongContext = await t.throwsAsync(decrypt(client, { app: 'other' }));
  t.is(wrongContext?.name, 'InvalidCiphertextException');
  t.is(kms.count('Decrypt') - before, 3, 'not retried');

  kms.deny('Decrypt');
  const denied = await t.throwsAsync(decrypt(client));
  t.is(denied?.name, 'AccessDeniedException');
  t.is(
    (denied as unknown as { $metadata: { httpStatusCode: number } }).$metadata.httpStatusCode,
    400,
  );
  t.false(denied!.message.includes(blob), 'no request data in the error');
});

test.serial('a request that outlives the timeout is a retried TimeoutError', async (t) => {
  const client = kmsClient(kms.endpoint, { requestTimeoutMs: 50, maxAttempts: 2 });
  t.teardown(() => client.destroy());
  kms.setLatency(300);
  const before = kms.count('Decrypt');
  const error = await t.throwsAsync(decrypt(client));
  t.is(error?.name, 'TimeoutError');
  t.true(isNetworkError(error));
  t.is(kms.count('Decrypt') - before, 2);
});

test('a refused connection is retried, then reported with its errno code', async (t) => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  let pauses = 0;
  const client = kmsClient(`http://127.0.0.1:${port}`, {
    sleep: () => {
      pauses += 1;
      return Promise.resolve();
    },
  });
  t.teardown(() => client.destroy());
  const error = await t.throwsAsync(client.call('Decrypt', {}));
  t.is((error as NodeJS.ErrnoException).code, 'ECONNREFUSED');
  t.true(isNetworkError(error));
  t.is(pauses, 2);
});

/** A server that checks every request's signature with the AWS SDK's own signer. */
async function verifyingServer(
  handle: (request: IncomingMessage, body: string, response: ServerResponse) => void,
) {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => handle(request, Buffer.concat(chunks).toString('utf8'), response));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

class Sha256 {
  readonly #hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.#hash =
      secret === undefined
        ? createHash('sha256')
        : createHmac(
            'sha256',
            typeof secret === 'string' ? secret : new Uint8Array(secret as ArrayBuffer),
          );
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.#hash.update(typeof data === 'string' ? data : new Uint8Array(data as ArrayBuffer));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.#hash.digest()));
  }
}

async function expectedAuthorization(request: IncomingMessage, body: string, date: Date) {
  const signed = /SignedHeaders=([^,]+)/.exec(request.headers.authorization ?? '')![1]!.split(';');
  const headers = Object.fromEntries(
    signed
      .filter((name) => name !== 'x-amz-date')
      .map((name) => [name, String(request.headers[name])]),
  );
  const [hostname, port] = String(request.headers.host).split(':');
  const signedRequest = await new SignatureV4({
    credentials: CREDENTIALS,
    region: 'eu-west-1',
    service: 'kms',
    sha256: Sha256,
  }).sign(
    {
      method: 'POST',
      protocol: 'http:',
      hostname: hostname!,
      port: Number(port),
      path: request.url!,
      query: {},
      headers,
      body,
    },
    { signingDate: date },
  );
  return signedRequest.headers.authorization;
}

function amzDateOf(request: IncomingMessage): Date {
  const text = String(request.headers['x-amz-date']);
  return new Date(
    `${text.slice(0, 4)}-${text.slice(4, 6)}-${text.slice(6, 8)}T${text.slice(9, 11)}:${text.slice(11, 13)}:${text.slice(13, 15)}Z`,
  );
}

test('what goes over the wire carries the signature the AWS SDK computes for it', async (t) => {
  const seen: { path: string; target: string; match: boolean }[] = [];
  const server = await verifyingServer((request, body, response) => {
    void expectedAuthorization(request, body, amzDateOf(request)).then((expected) => {
      seen.push({
        path: request.url!,
        target: String(request.headers['x-amz-target']),
        match: expected === request.headers.authorization,
      });
      response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      response.end('{"Plaintext":"AAEC"}');
    });
  });
  t.teardown(() => server.close());
  const client = kmsClient(`${server.endpoint}/base/path`);
  t.teardown(() => client.destroy());
  const output = await client.call('Decrypt', {
    CiphertextBlob: Buffer.from([1, 2, 3]),
    EncryptionContext: { k: 'v ü' },
  });
  t.is(output.Plaintext, 'AAEC');
  t.deepEqual(seen, [{ path: '/base/path/', target: 'TrentService.Decrypt', match: true }]);
});

test('a clock-skew answer is retried once with the server clock', async (t) => {
  const serverNow = Date.parse('2030-01-01T00:00:00Z');
  const dates: string[] = [];
  const server = await verifyingServer((request, _body, response) => {
    dates.push(String(request.headers['x-amz-date']));
    if (dates.length === 1) {
      response.writeHead(400, {
        'content-type': 'application/x-amz-json-1.1',
        date: new Date(serverNow).toUTCString(),
      });
      response.end('{"__type":"InvalidSignatureException","message":"Signature expired"}');
      return;
    }
    response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
    response.end('{}');
  });
  t.teardown(() => server.close());
  let pauses = 0;
  const client = kmsClient(server.endpoint, {
    now: () => Date.parse('2026-11-28T12:00:00Z'),
    sleep: () => {
      pauses += 1;
      return Promise.resolve();
    },
  });
  t.teardown(() => client.destroy());
  t.deepEqual(await client.call('Decrypt', {}), {});
  t.deepEqual(dates, ['20261128T120000Z', '20300101T000000Z']);
  t.is(pauses, 0, 'a skew correction needs no backoff');
});

test('https endpoints: TLS with the agent’s trust store, the same signature', async (t) => {
  // A self-signed certificate for 127.0.0.1, valid until 2126, for this test only.
  const tls = new URL('../support/tls/', import.meta.url);
  const cert = readFileSync(new URL('localhost.crt', tls));
  const key = readFileSync(new URL('localhost.key', tls));
  const matches: boolean[] = [];
  const server = createHttpsServer({ cert, key }, (request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      void expectedAuthorization(request, body, amzDateOf(request)).then((expected) => {
        matches.push(expected === request.headers.authorization);
        setTimeout(() => {
          response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
          response.end('{"KeyId":"k"}');
        }, 10);
      });
    });
  });
  let connections = 0;
  server.on('secureConnection', () => {
    connections += 1;
  });
  // Answers take a while, so that requests pile up and would open more connections if allowed.
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const endpoint = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const trusting = kmsClient(endpoint, { ca: cert });
  t.teardown(() => trusting.destroy());
  t.deepEqual(await trusting.call('Decrypt', { CiphertextBlob: Buffer.from('x') }), { KeyId: 'k' });
  t.deepEqual(await trusting.call('Decrypt', { CiphertextBlob: Buffer.from('y') }), { KeyId: 'k' });
  t.deepEqual(matches, [true, true]);

  // Another client: at most TLS_CONNECTIONS_PER_SERVICE connections, reused.
  const own = kmsClient(endpoint, { ca: cert });
  t.teardown(() => own.destroy());
  const limit = createLimiter(64);
  await Promise.all(
    Array.from({ length: 48 }, () =>
      limit(() => own.call('Decrypt', { CiphertextBlob: Buffer.from('z') })),
    ),
  );
  t.is(matches.length, 50);
  t.true(matches.every(Boolean));
  t.is(connections, 1 + TLS_CONNECTIONS_PER_SERVICE, 'one for the first client, 16 for the second');

  // Node's default trust store does not know this certificate: refused, not retried blindly.
  const strict = kmsClient(endpoint);
  t.teardown(() => strict.destroy());
  const error = await t.throwsAsync(strict.call('Decrypt', {}));
  t.regex((error as NodeJS.ErrnoException).code ?? '', /SELF_SIGNED|UNABLE_TO_VERIFY|DEPTH_ZERO/);
  t.is(matches.length, 50, 'nothing reached the server');
});

function parseOrEmpty(body: string | Uint8Array): object | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(body).toString('utf8'));
    return typeof value === 'object' && value !== null ? value : undefined;
  } catch {
    return undefined;
  }
}

/** A server that answers every request with `answer()`, counting requests and hang-ups. */
async function rawServer(answer: () => RawResponse) {
  let requests = 0;
  let hangUps = 0;
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      requests += 1;
      response.on('close', () => {
        if (!response.writableFinished) hangUps += 1;
      });
      sendRaw(response, answer(), 'application/x-amz-json-1.1');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get requests() {
      return requests;
    },
    get hangUps() {
      return hangUps;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

test('an answer announcing more than the limit is refused before its body is read, once', async (t) => {
  const server = await rawServer(() => ({ contentLength: 5_000_000_000, then: 'hang' }));
  t.teardown(() => server.close());
  const client = kmsClient(server.endpoint);
  t.teardown(() => client.destroy());
  const error = await t.throwsAsync(client.call('Decrypt', {}));
  t.is(error?.name, 'ResponseTooLargeError');
  t.is(error?.message, 'response exceeds 64 KiB; refusing it');
  t.false(isNetworkError(error));
  t.is(server.requests, 1, 'not retried');
});

test('a body streamed past the limit is cut off and refused', async (t) => {
  // 16 MiB of filler at most, then silence: a client without a limit reads it and times out.
  const server = await rawServer(() => ({
    body: '{"Plaintext":"',
    contentLength: 'chunked',
    then: 'stream',
    streamLimit: 16 << 20,
  }));
  t.teardown(() => server.close());
  const client = kmsClient(server.endpoint);
  t.teardown(() => client.destroy());
  const error = await t.throwsAsync(client.call('Decrypt', {}));
  t.is(error?.name, 'ResponseTooLargeError');
  t.is(server.requests, 1);
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.is(server.hangUps, 1, 'the client closed the connection');
});

test('an error answer too large to read is judged by its status and headers alone', async (t) => {
  const huge = { contentLength: 5_000_000_000, then: 'hang' } as const;
  let status = 503;
  const server = await rawServer(() => ({
    ...huge,
    status,
    headers: {
      'x-amzn-errortype': status === 503 ? 'KMSInternalException' : 'AccessDeniedException',
    },
  }));
  t.teardown(() => server.close());
  const client = kmsClient(server.endpoint);
  t.teardown(() => client.destroy());
  const unavailable = await t.throwsAsync(client.call('Decrypt', {}));
  t.is(unavailable?.name, 'KMSInternalException');
  t.is(server.requests, 3, 'a 5xx is retried');
  status = 400;
  const denied = await t.throwsAsync(client.call('Decrypt', {}));
  t.is(denied?.name, 'AccessDeniedException');
  t.is(server.requests, 4, 'a 4xx is not');
});

test('a body cut short is a retried connection reset that says how much arrived', async (t) => {
  let chunked = false;
  const server = await rawServer(() => ({
    body: '{"Plaintext',
    contentLength: chunked ? 'chunked' : 100,
    then: 'close',
  }));
  t.teardown(() => server.close());
  const client = kmsClient(server.endpoint);
  t.teardown(() => client.destroy());
  const error = await t.throwsAsync(client.call('Decrypt', {}));
  t.is((error as NodeJS.ErrnoException).code, 'ECONNRESET');
  t.is(error?.message, 'the connection closed after 11 of 100 bytes');
  t.is(error?.name, 'ResponseCutShortError');
  t.true(isNetworkError(error));
  t.is(server.requests, 3);
  chunked = true;
  const cut = await t.throwsAsync(client.call('Decrypt', {}));
  // Node 24 and later keep the bytes of a chunk that never arrived whole to themselves.
  t.regex(cut?.message ?? '', /^the connection closed after (11|0) bytes$/);
});

test('a body that stops coming is a retried TimeoutError', async (t) => {
  const server = await rawServer(() => ({ body: '{"Plaintext', contentLength: 100, then: 'hang' }));
  t.teardown(() => server.close());
  const client = kmsClient(server.endpoint, { requestTimeoutMs: 100, maxAttempts: 2 });
  t.teardown(() => client.destroy());
  const error = await t.throwsAsync(client.call('Decrypt', {}));
  t.is(error?.name, 'TimeoutError');
  t.is(server.requests, 2);
});

test('a 200 that is not a JSON object is a malformed response, not retried, body unquoted', async (t) => {
  let body = '<html>c2VjcmV0LWxvb2tpbmc=</html>';
  const server = await rawServer(() => ({ body }));
  t.teardown(() => server.close());
  const client = kmsClient(server.endpoint);
  t.teardown(() => client.destroy());
  const error = await t.throwsAsync(client.call('Decrypt', {}));
  t.is(error?.name, 'MalformedResponseError');
  t.is(error?.message, 'malformed response: not valid JSON');
  t.is(server.requests, 1);
  for (const [text, problem] of [
    ['[1,2]', 'not a JSON object'],
    ['null', 'not a JSON object'],
    ['"text"', 'not a JSON object'],
    ['{"Plaintext":', 'not valid JSON'],
  ] as const) {
    body = text;
    const malformed = await t.throwsAsync(client.call('Decrypt', {}));
    t.is(malformed?.message, `malformed response: ${problem}`, text);
  }
  body = ' ';
  t.deepEqual(
    await client.call('Decrypt', {}),
    {},
    'an empty body is an empty answer, as in the SDK',
  );
});

test('whatever body arrives, the outcome is an object or a named error without the body', async (t) => {
  let next: RawResponse = {};
  const server = await rawServer(() => next);
  t.teardown(() => server.close());
  const client = kmsClient(server.endpoint, { requestTimeoutMs: 200, maxAttempts: 1 });
  t.teardown(() => client.destroy());
  const marker = 'Q0lQSEVSVEVYVA';
  const bodies = fc.oneof(
    fc.json().map((text) => text.replace(/^\{/, `{"Marker":"${marker}",`)),
    fc.string().map((text) => `${marker}${text}`),
    fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.concat([Buffer.from(marker), bytes])),
    fc.json().map((text) => `{"CiphertextBlob":"${marker}","x":${text}`.slice(0, -1)),
  );
  await fc.assert(
    fc.asyncProperty(
      bodies,
      fc.constantFrom(200, 400, 500),
      fc.constantFrom('end', 'close', 'short', 'huge'),
      async (body, status, ending) => {
        const bytes = Buffer.from(body);
        next = {
          status,
          body: bytes,
          ...(ending === 'close' ? { contentLength: bytes.length + 10, then: 'close' } : {}),
          ...(ending === 'short' ? { contentLength: 'chunked', then: 'close' } : {}),
          ...(ending === 'huge' ? { contentLength: 1 << 20, then: 'hang' } : {}),
        } as RawResponse;
        try {
          const output = await client.call('Decrypt', {});
          return typeof output === 'object' && output !== null && !Array.isArray(output);
        } catch (error: unknown) {
          if (!(error instanceof Error) || error.message.includes(marker)) return false;
          // A service error carries the service's own message; credexec's own errors are one line.
          if (error.name !== 'Error' && 'message' in (parseOrEmpty(body) ?? {})) return true;
          const own =
            ['MalformedResponseError', 'ResponseTooLargeError', 'TimeoutError'].includes(
              error.name,
            ) ||
            (error as NodeJS.ErrnoException).code === 'ECONNRESET' ||
            (status !== 200 && error.name !== 'Error');
          return own && !error.message.includes('\n');
        }
      },
    ),
    { seed: 20_261_128, numRuns: 300 },
  );
  t.pass();
});

test('bytes anywhere in an input travel as base64, the rest as JSON.stringify writes it, the input untouched', async (t) => {
  const bodies: unknown[] = [];
  const server = await verifyingServer((_request, body, response) => {
    bodies.push(JSON.parse(body));
    response.end('{}');
  });
  t.teardown(() => server.close());
  const client = kmsClient(server.endpoint);
  t.teardown(() => client.destroy());
  const backing = new Uint8Array([9, 9, 0xfb, 0xff, 9]);
  const input = {
    Blob: Buffer.from('blob'),
    // A view into a larger buffer: only its own bytes.
    View: backing.subarray(2, 4),
    Keys: [{ name: { S: 'a' }, hmac: { B: new Uint8Array([1, 2]) } }, { name: { S: 'b' } }],
    Plain: { Limit: 1, Flag: false, Nothing: null, Text: 'é' },
    Skipped: undefined,
  };
  const before = JSON.stringify(input);
  await client.call('Decrypt', input);
  await client.call('Decrypt', input.Plain);
  t.deepEqual(bodies, [
    {
      Blob: 'YmxvYg==',
      View: '+/8=',
      Keys: [{ name: { S: 'a' }, hmac: { B: 'AQI=' } }, { name: { S: 'b' } }],
      Plain: { Limit: 1, Flag: false, Nothing: null, Text: 'é' },
    },
    { Limit: 1, Flag: false, Nothing: null, Text: 'é' },
  ]);
  t.is(JSON.stringify(input), before);
  t.true(input.Keys[0]!.hmac?.B instanceof Uint8Array);
});

test('credentials that would split the request are refused before anything is sent', async (t) => {
  let requests = 0;
  const counting = await verifyingServer((_request, _body, response) => {
    requests += 1;
    response.end('{}');
  });
  t.teardown(() => counting.close());
  for (const value of ['a\r\nx-injected: 1', 'a\nb', 'a\0b']) {
    const client = kmsClient(counting.endpoint, {
      credentials: () => Promise.resolve({ ...CREDENTIALS, sessionToken: value }),
    });
    t.teardown(() => client.destroy());
    await t.throwsAsync(client.call('Decrypt', {}), {
      message: 'the x-amz-security-token header has invalid characters',
    });
  }
  t.is(requests, 0);
});
