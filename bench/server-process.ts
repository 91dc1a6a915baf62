/**
 * The bench's aws world in a process of its own (started by `bench/aws-world.ts`, under
 * `taskset` when the servers are pinned): `node --import tsx bench/server-process.ts DELAY_MS
 * [replay]` with an IPC channel (`replay`: the delay proxies replay answers, see DelayProxy). It sends `{ type: 'ready', env, endpoints }`, then answers each
 * `ServerRequest` with a `ServerReply` carrying the same id. It stops on `stop` or when the
 * channel closes.
 */
import { startAwsServers, type AwsServers, type Path } from './aws-servers.js';

export type ServerRequest =
  | { readonly id: number; readonly op: 'seed'; readonly n: number }
  | { readonly id: number; readonly op: 'reset' | 'cpu' | 'stop' }
  | { readonly id: number; readonly op: 'counts'; readonly path: Path };

export type ServerReply =
  | { readonly id: number; readonly ok: true; readonly value?: unknown }
  | { readonly id: number; readonly ok: false; readonly error: string };

const send = (message: unknown) =>
  new Promise<void>((resolve) => {
    if (process.send === undefined || !process.connected) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });

/** User + system CPU of this process (the servers and proxies), in ms, µs resolution. */
const cpuMs = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};

async function answer(servers: AwsServers, request: ServerRequest): Promise<unknown> {
  switch (request.op) {
    case 'seed':
      return servers.seed(request.n);
    case 'reset':
      return servers.resetCounters();
    case 'counts':
      return servers.counts(request.path);
    case 'cpu':
      return cpuMs();
    case 'stop':
      return servers.close();
  }
}

async function main(): Promise<void> {
  if (process.send === undefined) throw new Error('server-process: no IPC channel');
  const delayMs = Number(process.argv[2] ?? 0);
  const servers = await startAwsServers(delayMs, process.argv[3] === 'replay');
  let stopping = false;
  process.on('disconnect', () => {
    if (stopping) return;
    stopping = true;
    void servers.close().finally(() => process.exit(0));
  });
  process.on('message', (message: ServerRequest) => {
    void (async () => {
      try {
        if (message.op === 'stop') stopping = true;
        const value = await answer(servers, message);
        await send({ id: message.id, ok: true, value } satisfies ServerReply);
      } catch (error: unknown) {
        const text = error instanceof Error ? error.message : String(error);
        await send({ id: message.id, ok: false, error: text } satisfies ServerReply);
      }
      if (message.op === 'stop') process.exit(0);
    })();
  });
  await send({ type: 'ready', env: servers.env, endpoints: servers.endpoints });
}

try {
  await main();
} catch (error: unknown) {
  console.error(`server-process: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
