// What one keep-alive HTTP request costs a fresh Node process, by client: the floor under
// credexec's CPU per secret (a secret is two requests, Query and Decrypt).
//
//   node bench/http-floor.mjs [REQUESTS=200] [CONCURRENCY=64] [RUNS=5]
//
// A local server (its own process, on the second CPU when `taskset` exists) answers every POST
// with a DynamoDB-sized JSON body after 20 ms; each client runs in a fresh process (on the first
// CPU) and reports the CPU it spent on the requests alone (process.cpuUsage, after its imports).
// Clients: `node:http` with a keep-alive agent (what credexec's direct transport uses), a bare
// HTTP/1.1 client on `node:net` (a prototype: Content-Length bodies only, no error handling — it
// shows what Node's HTTP machinery costs, it is not a client to ship), and `undici` when it can
// be imported from here (it is not a dependency: `npm i --no-save undici` to include it).
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const [requests = 200, concurrency = 64, runs = 5] = process.argv.slice(2, 5).map(Number);
const role = process.env.HTTP_FLOOR_ROLE;
const PORT = Number(process.env.HTTP_FLOOR_PORT ?? 0);
const BODY = JSON.stringify({
  TableName: 'credential-store',
  KeyConditionExpression: '#n = :name',
  ExpressionAttributeNames: { '#n': 'name' },
  ExpressionAttributeValues: { ':name': { S: 'bench.secret.0042' } },
  Limit: 1,
  ScanIndexForward: false,
  ConsistentRead: true,
});
const HEADERS = {
  'content-type': 'application/x-amz-json-1.0',
  'x-amz-target': 'DynamoDB_20120810.Query',
  'content-length': String(Buffer.byteLength(BODY)),
  'x-amz-date': '20261130T000000Z',
  'x-amz-content-sha256': 'e'.repeat(64),
  authorization: `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261130/eu-west-1/dynamodb/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-target, Signature=${'a'.repeat(64)}`,
};

async function serve() {
  const { createServer } = await import('node:http');
  const answer = JSON.stringify({
    Count: 1,
    Items: [
      {
        name: { S: 'bench.secret.0042' },
        version: { S: '0000000000000000001' },
        key: { S: 'A'.repeat(248) },
        contents: { S: 'B'.repeat(44) },
        hmac: { S: 'c'.repeat(64) },
        digest: { S: 'SHA256' },
      },
    ],
  });
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () =>
      setTimeout(() => {
        response.writeHead(200, {
          'content-type': 'application/x-amz-json-1.0',
          'content-length': Buffer.byteLength(answer),
        });
        response.end(answer);
      }, 20),
    );
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
}

async function clientOf(kind) {
  if (kind === 'node:http') {
    const { Agent, request } = await import('node:http');
    const agent = new Agent({ keepAlive: true });
    return () =>
      new Promise((resolve, reject) => {
        const outgoing = request(
          { host: '127.0.0.1', port: PORT, method: 'POST', path: '/', headers: HEADERS, agent },
          (incoming) => {
            const chunks = [];
            incoming.on('data', (chunk) => chunks.push(chunk));
            incoming.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString())));
            incoming.on('error', reject);
          },
        );
        outgoing.on('error', reject);
        outgoing.end(BODY);
      });
  }
  if (kind === 'undici') {
    const { Pool } = await import('undici');
    const pool = new Pool(`http://127.0.0.1:${PORT}`);
    return async () => {
      const { body } = await pool.request({
        method: 'POST',
        path: '/',
        headers: HEADERS,
        body: BODY,
      });
      return JSON.parse(await body.text());
    };
  }
  // node:net: one request at a time per socket, Content-Length bodies only.
  const { connect } = await import('node:net');
  const idle = [];
  const head = `POST / HTTP/1.1\r\nhost: 127.0.0.1:${PORT}\r\n${Object.entries(HEADERS)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('')}\r\n`;
  const open = () => {
    const socket = connect(PORT, '127.0.0.1');
    socket.setNoDelay(true);
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(
        /\r\ncontent-length: *(\d+)/i.exec(buffered.toString('latin1', 0, end))[1],
      );
      if (buffered.length < end + 4 + length) return;
      const body = buffered.subarray(end + 4, end + 4 + length);
      buffered = buffered.subarray(end + 4 + length);
      socket.waiting(JSON.parse(body.toString()));
    });
    return socket;
  };
  return () =>
    new Promise((resolve) => {
      const socket = idle.pop() ?? open();
      socket.waiting = (answer) => {
        idle.push(socket);
        resolve(answer);
      };
      socket.write(head + BODY);
    });
}

async function measure(kind) {
  const send = await clientOf(kind);
  const before = process.cpuUsage();
  let next = 0;
  const worker = async () => {
    while (next < requests) {
      next += 1;
      await send();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const used = process.cpuUsage(before);
  process.stdout.write(`${(used.user + used.system) / 1000}\n`);
  process.exit(0);
}

const hasTaskset = spawnSync('taskset', ['--version']).status === 0;
const pinned = (cpu, args) =>
  hasTaskset ? ['taskset', ['-c', String(cpu), ...args]] : [args[0], args.slice(1)];

async function main() {
  const self = fileURLToPath(import.meta.url);
  const [command, args] = pinned(1, [process.execPath, self]);
  const server = spawn(command, args, {
    env: { ...process.env, HTTP_FLOOR_ROLE: 'server' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise((resolve) =>
    server.stdout.once('data', (line) => resolve(Number(line))),
  );
  let kinds = ['node:http', 'node:net (prototype)'];
  try {
    await import('undici');
    kinds = [...kinds, 'undici'];
  } catch {
    console.log('(undici not importable from here: not measured)');
  }
  console.log(
    `${requests} requests, ${concurrency} at a time, +20 ms each; a fresh process per run${hasTaskset ? ', client on CPU 0, server on CPU 1' : ''}; medians of ${runs}\n`,
  );
  for (const kind of kinds) {
    const samples = [];
    for (let run = 0; run < runs; run++) {
      const [clientCommand, clientArgs] = pinned(0, [process.execPath, self]);
      const result = spawnSync(clientCommand, clientArgs, {
        env: {
          ...process.env,
          HTTP_FLOOR_ROLE: kind.split(' ')[0],
          HTTP_FLOOR_PORT: String(port),
        },
        encoding: 'utf8',
      });
      if (result.status !== 0) throw new Error(`${kind}: ${result.stderr}`);
      samples.push(Number(result.stdout));
    }
    samples.sort((a, b) => a - b);
    const median = samples[Math.floor(samples.length / 2)];
    console.log(
      `${kind.padEnd(22)} ${median.toFixed(1).padStart(7)} ms CPU  ${(median / requests).toFixed(3)} ms per request`,
    );
  }
  server.kill();
}

if (role === 'server') await serve();
else if (role === undefined) await main();
else await measure(role);
