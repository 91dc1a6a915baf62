import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import { closeAwsClients } from '../../src/backends/aws.js';
import { openBackend } from '../../src/backends/open-backend.js';

/**
 * The aws backend's warm-up (Backend#warmUp) on credexec's own transport: DynamoDB's connections
 * open at once, KMS's only after the caller had its turn to send the DynamoDB requests, so that
 * they overlap the first round trip. Two TCP listeners that count connections stand in for the
 * services: nothing is sent, only connections are opened.
 */
/**
 * Client sockets connected to `port`, as the kernel sees them right now (loopback connects complete
 * inside connect(), before the listener's process hears of them).
 */
function connectedTo(port: number): number {
  const remote = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .slice(1)
    .filter((line) => {
      const fields = line.trim().split(/\s+/);
      return fields[2]?.endsWith(remote) === true && fields[3] === '01';
    }).length;
}

async function listener() {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    get open() {
      return sockets.size;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

async function services() {
  const dynamodb = await listener();
  const kms = await listener();
  const env = {
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'AKIDWARMUP',
    AWS_SECRET_ACCESS_KEY: 'warm-up-secret',
    AWS_ENDPOINT_URL_DYNAMODB: dynamodb.endpoint,
    AWS_ENDPOINT_URL_KMS: kms.endpoint,
    AWS_CONFIG_FILE: '/nonexistent/credexec-test/config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credexec-test/credentials',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  return { dynamodb, kms, env, close: () => Promise.all([dynamodb.close(), kms.close()]) };
}

test.after.always(() => closeAwsClients());

test.serial(
  'Linux: DynamoDB connections open at once, KMS connections one turn after the caller resumed',
  async (t) => {
    const world = await services();
    t.teardown(() => world.close());
    const backend = await openBackend({ backend: 'aws' }, world.env);
    t.teardown(() => backend.close?.());
    t.truthy(backend.warmUp);
    let atResume = { dynamodb: -1, kms: -1 };
    // 3 lookups and 150 pinned versions (two BatchGetItem requests): 5 DynamoDB connections.
    await backend.warmUp!({ latest: 3, pinned: 150, decrypts: 2 }).then(() => {
      atResume = { dynamodb: connectedTo(world.dynamodb.port), kms: connectedTo(world.kms.port) };
    });
    await sleep(100);
    t.is(world.dynamodb.open, 5);
    t.deepEqual(
      atResume,
      { dynamodb: 5, kms: 0 },
      'DynamoDB connections are up when the caller resumes; KMS ones wait for its requests to leave',
    );
    t.is(world.kms.open, 2);
    // Closing the backend closes what it opened ahead.
    backend.close?.();
    await sleep(100);
    t.is(world.dynamodb.open + world.kms.open, 0);
  },
);

test.serial('the SDK transport has no warm-up', async (t) => {
  const world = await services();
  t.teardown(() => world.close());
  const backend = await openBackend(
    { backend: 'aws' },
    { ...world.env, CREDEXEC_AWS_TRANSPORT: 'sdk' },
  );
  t.teardown(() => backend.close?.());
  t.is(backend.warmUp, undefined);
});
