import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';

/** An in-memory DynamoDB (dynalite) on 127.0.0.1; tables become ACTIVE at once. */
export interface DynaliteServer {
  /** `http://127.0.0.1:PORT`. */
  readonly endpoint: string;
  close(): Promise<void>;
}

export async function startDynalite(): Promise<DynaliteServer> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error?: Error) => (error ? reject(error) : resolve()));
      }),
  };
}
