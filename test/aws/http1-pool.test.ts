import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import test from 'ava';
import { Http1Pool, LOOKUP_REUSE_MS, sharedLookup } from '../../src/aws/http1-pool.js';

/** A server that answers every POST with its body's length, counting connections. */
async function server(
  answer: (request: IncomingMessage, response: ServerResponse, body: string) => void = (
    _request,
    response,
    body,
  ) => response.end(JSON.stringify({ length: body.length })),
) {
  const sockets = new Set<Socket>();
  let connections = 0;
  const http = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => answer(request, response, body));
  });
  http.on('connection', (socket: Socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return {
    http,
    endpoint: new URL(`http://127.0.0.1:${(http.address() as AddressInfo).port}/`),
    get connections() {
      return connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        http.close(() => resolve());
      }),
  };
}

const request = (body: string) => ({
  path: '/',
  headers: `host: example\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n`,
  body,
  maxBodyBytes: 1024,
  requestTimeoutMs: 2_000,
  connectTimeoutMs: 2_000,
});

test('requests one after another share one kept-alive connection; the byte count is UTF-8', async (t) => {
  const s = await server();
  t.teardown(() => s.close());
  const pool = new Http1Pool({ endpoint: s.endpoint, maxSockets: 4 });
  t.teardown(() => pool.destroy());
  for (const body of ['{}', '{"name":"é€😀"}', '']) {
    const answer = await pool.request(request(body));
    t.is(answer.status, 200);
    t.deepEqual(JSON.parse(answer.body.toString()), { length: body.length });
  }
  t.is(s.connections, 1);
});

test('at most maxSockets connections; the others wait for a free one', async (t) => {
  const s = await server((_request, response) => setTimeout(() => response.end('{}'), 20));
  t.teardown(() => s.close());
  const pool = new Http1Pool({ endpoint: s.endpoint, maxSockets: 3 });
  t.teardown(() => pool.destroy());
  const answers = await Promise.all(Array.from({ length: 12 }, () => pool.request(request('{}'))));
  t.true(answers.every((answer) => answer.status === 200));
  t.is(s.connections, 3);
});

test('a connection the server closed while idle is not reused; the next request gets a new one', async (t) => {
  // As a store closes connections idle for long: shortly after each answer.
  const s = await server((_request, response) => {
    const socket = response.socket!;
    response.end('{}', () => setTimeout(() => socket.destroy(), 20));
  });
  t.teardown(() => s.close());
  const pool = new Http1Pool({ endpoint: s.endpoint, maxSockets: 2 });
  t.teardown(() => pool.destroy());
  t.is((await pool.request(request('{}'))).status, 200);
  await sleep(150);
  t.is((await pool.request(request('{}'))).status, 200);
  t.is(s.connections, 2);
});

test('an answer with Connection: close is read whole and its connection is not reused', async (t) => {
  const s = await server((_request, response) => {
    response.setHeader('connection', 'close');
    response.end('{"ok":true}');
  });
  t.teardown(() => s.close());
  const pool = new Http1Pool({ endpoint: s.endpoint, maxSockets: 2 });
  t.teardown(() => pool.destroy());
  for (let index = 0; index < 3; index++)
    t.is((await pool.request(request('{}'))).body.toString(), '{"ok":true}');
  t.is(s.connections, 3);
});

test('destroy closes every connection, as an agent does; later requests open new ones', async (t) => {
  const s = await server((_request, response) => setTimeout(() => response.end('{}'), 100));
  t.teardown(() => s.close());
  const pool = new Http1Pool({ endpoint: s.endpoint, maxSockets: 1 });
  t.teardown(() => pool.destroy());
  const inFlight = pool.request(request('{}'));
  const waiting = pool.request(request('{}'));
  await sleep(20);
  pool.destroy();
  await t.throwsAsync(inFlight, { code: 'ECONNRESET', message: 'socket hang up' });
  // The request that waited gets the connection that replaces it.
  t.is((await waiting).status, 200);
  t.is((await pool.request(request('{}'))).status, 200);
  t.is(s.connections, 2);
});

test('preconnect opens connections ahead, up to the count and maxSockets, and requests use them', async (t) => {
  const s = await server((_request, response) => setTimeout(() => response.end('{}'), 20));
  t.teardown(() => s.close());
  const capped = new Http1Pool({ endpoint: s.endpoint, maxSockets: 3 });
  t.teardown(() => capped.destroy());
  await capped.preconnect(5, 2_000);
  // Still connecting: a request takes one as it is, and its bytes leave once it is up.
  const answers = await Promise.all(Array.from({ length: 6 }, () => capped.request(request('{}'))));
  t.true(answers.every((answer) => answer.status === 200));
  t.is(s.connections, 3);
  await capped.preconnect(2, 2_000); // already open: nothing more
  t.is((await capped.request(request('{}'))).status, 200);
  t.is(s.connections, 3);

  const open = new Http1Pool({ endpoint: s.endpoint, maxSockets: Infinity });
  t.teardown(() => open.destroy());
  await open.preconnect(4, 2_000);
  await sleep(50);
  t.is(s.connections, 7);
  await Promise.all(Array.from({ length: 4 }, () => open.request(request('{}'))));
  t.is(s.connections, 7, 'the four requests went over the four connections opened ahead');
});

test('a preconnected connection that cannot connect fails its request as a fresh one would', async (t) => {
  const s = await server();
  const { endpoint } = s;
  await s.close(); // nothing listens there any more
  const pool = new Http1Pool({ endpoint, maxSockets: 4 });
  t.teardown(() => pool.destroy());
  await pool.preconnect(2, 2_000);
  // Taken while still connecting…
  await t.throwsAsync(pool.request(request('{}')), { code: 'ECONNREFUSED' });
  // …or after it failed while idle (dropped; the request opens its own).
  await sleep(50);
  await t.throwsAsync(pool.request(request('{}')), { code: 'ECONNREFUSED' });
});

test('connections opened ahead and left idle do not keep the process alive', async (t) => {
  const s = await server();
  t.teardown(() => s.close());
  const pool = fileURLToPath(new URL('../../src/aws/http1-pool.ts', import.meta.url));
  const script = `
    const { Http1Pool } = await import(${JSON.stringify(pool)});
    await new Http1Pool({ endpoint: new URL(${JSON.stringify(s.endpoint.href)}), maxSockets: 4 })
      .preconnect(3, 10_000);
    setTimeout(() => console.log('done'), 100);`;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import=tsx', '--input-type=module', '-e', script],
    { timeout: 8_000 },
  );
  t.is(stdout.trim(), 'done');
  t.is(s.connections, 3);
});

test('connections opened together ask for the endpoint name once', async (t) => {
  const s = await server((_request, response) => setTimeout(() => response.end('{}'), 30));
  t.teardown(() => s.close());
  const asked: string[] = [];
  const lookup = ((hostname: string, options: object, callback: (...args: unknown[]) => void) => {
    asked.push(hostname);
    setTimeout(() => callback(null, [{ address: '127.0.0.1', family: 4 }]), 5);
  }) as unknown as typeof import('node:dns').lookup;
  const endpoint = new URL(`http://localhost:${s.endpoint.port}/`);
  const pool = new Http1Pool({ endpoint, maxSockets: 6, lookup });
  t.teardown(() => pool.destroy());
  const answers = await Promise.all(Array.from({ length: 6 }, () => pool.request(request('{}'))));
  t.true(answers.every((answer) => answer.status === 200));
  t.is(s.connections, 6);
  t.deepEqual(asked, ['localhost']);
});

test('a shared lookup answers both callback forms, asks again after a while, and never keeps a failure', async (t) => {
  let clock = 0;
  const calls: unknown[] = [];
  let fail = false;
  const resolve = ((hostname: string, options: object, callback: (...args: unknown[]) => void) => {
    calls.push([hostname, options]);
    const error = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), {
      code: 'ENOTFOUND',
    });
    queueMicrotask(() =>
      fail
        ? callback(error)
        : callback(null, [
            { address: '10.0.0.1', family: 4 },
            { address: '10.0.0.2', family: 4 },
          ]),
    );
  }) as unknown as typeof import('node:dns').lookup;
  const lookup = sharedLookup(resolve, () => clock);
  const ask = (options: object) =>
    new Promise<unknown[]>((done) =>
      lookup('db.example', options as never, (...answer: unknown[]) => done(answer)),
    );

  t.deepEqual(await ask({ family: 0, hints: 32, all: true }), [
    null,
    [
      { address: '10.0.0.1', family: 4 },
      { address: '10.0.0.2', family: 4 },
    ],
  ]);
  t.deepEqual(await ask({ family: 0, hints: 32 }), [null, '10.0.0.1', 4]);
  t.deepEqual(calls, [['db.example', { family: 0, all: true, hints: 32 }]]);
  clock += LOOKUP_REUSE_MS + 1;
  await ask({ family: 0, hints: 32 });
  t.is(calls.length, 2, 'asked again once the answer is old');
  fail = true;
  clock += LOOKUP_REUSE_MS + 1;
  const [error] = await ask({ family: 0, hints: 32 });
  t.is((error as NodeJS.ErrnoException).code, 'ENOTFOUND');
  fail = false;
  t.deepEqual(await ask({ family: 0, hints: 32 }), [null, '10.0.0.1', 4]);
  t.is(calls.length, 4, 'a failure is not kept: the next connection asks again');
});
