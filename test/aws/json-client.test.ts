import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Agent as HttpsAgent, createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import test from 'ava';
import { SignatureV4 } from '@smithy/signature-v4';
import { TLS_CONNECTIONS_PER_SERVICE } from '../../src/aws/config.js';
import { AwsJsonClient, type JsonClientOptions } from '../../src/aws/json-client.js';
import { createLimiter } from '../../src/util/concurrency.js';
import { isNetworkError } from '../../src/util/aws-errors.js';
import { startKmsServer, type KmsServer } from '../support/kms-server.js';

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

  const trusting = kmsClient(endpoint, { agent: new HttpsAgent({ keepAlive: true, ca: cert }) });
  t.teardown(() => trusting.destroy());
  t.deepEqual(await trusting.call('Decrypt', { CiphertextBlob: Buffer.from('x') }), { KeyId: 'k' });
  t.deepEqual(await trusting.call('Decrypt', { CiphertextBlob: Buffer.from('y') }), { KeyId: 'k' });
  t.deepEqual(matches, [true, true]);

  // The client's own agent: at most TLS_CONNECTIONS_PER_SERVICE connections, reused.
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
  t.is(
    connections,
    1 + TLS_CONNECTIONS_PER_SERVICE,
    'one for the trusting client, 16 for its own agent',
  );

  // Node's default trust store does not know this certificate: refused, not retried blindly.
  const strict = kmsClient(endpoint);
  t.teardown(() => strict.destroy());
  const error = await t.throwsAsync(strict.call('Decrypt', {}));
  t.regex((error as NodeJS.ErrnoException).code ?? '', /SELF_SIGNED|UNABLE_TO_VERIFY|DEPTH_ZERO/);
  t.is(matches.length, 50, 'nothing reached the server');
});
