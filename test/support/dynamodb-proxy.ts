import { request as httpRequest, createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { crc32 } from 'node:zlib';
import { signerOf, type RequestSigner } from './kms-server.js';
import { FaultQueue } from './fault-queue.js';
import { sendRaw, type RawResponse } from './raw-response.js';

/**
 * A counting HTTP proxy in front of a DynamoDB endpoint (dynalite). It counts requests per
 * operation (`X-Amz-Target: DynamoDB_20120810.<Operation>`) and peak concurrency, and can inject
 * faults that dynalite cannot produce: error responses, BatchGetItem UnprocessedKeys, and broken
 * answers of any shape (`answerNext`, see RawResponse: malformed, oversized, truncated or
 * never-ending bodies). Faults and answers share one queue, oldest first.
 */
export type DynamoOperation =
  | 'BatchGetItem'
  | 'CreateTable'
  | 'DeleteItem'
  | 'DescribeTable'
  | 'GetItem'
  | 'PutItem'
  | 'Query'
  | 'Scan'
  | 'TagResource'
  | 'ListTagsOfResource'
  | string;

export interface DynamoFault {
  readonly type: string;
  readonly message?: string;
  readonly status?: number;
}

export interface DynamoCaller extends RequestSigner {
  readonly operation: DynamoOperation;
  /** The User-Agent header: `aws-sdk-js/…` from the SDK, `credexec` from its own transport. */
  readonly userAgent: string | undefined;
}

export interface DynamoProxy {
  readonly endpoint: string;
  count(operation?: DynamoOperation): number;
  /** How many keys each BatchGetItem request asked for, in order. */
  readonly batchGetSizes: readonly number[];
  readonly peakInFlight: number;
  /** Every request's operation and parsed JSON body, in arrival order. */
  readonly requests: readonly { operation: DynamoOperation; body: Record<string, unknown> }[];
  /** Who signed each request (access key id and signing region), in arrival order. */
  readonly callers: readonly DynamoCaller[];
  /** The next `count` requests of `operation` (any when undefined) fail with `fault`. */
  failNext(fault: DynamoFault, count?: number, operation?: DynamoOperation): void;
  /**
   * The next `count` requests of `operation` (any when undefined) get `raw` instead of dynalite's
   * answer; the request is not forwarded.
   */
  answerNext(raw: RawResponse, count?: number, operation?: DynamoOperation): void;
  /**
   * The next `count` BatchGetItem responses return only their first `keep` items; the keys of the
   * others come back as UnprocessedKeys (as DynamoDB does under throttling).
   */
  leaveUnprocessed(count: number, keep?: number): void;
  /** Drop pending faults and unprocessed-key injection. */
  clearFaults(): void;
  resetCounters(): void;
  close(): Promise<void>;
}

type WireItem = Record<string, Record<string, unknown>>;

async function readBody(stream: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function keyOfItem(item: WireItem): WireItem {
  const key: WireItem = {};
  if (item.name !== undefined) key.name = item.name;
  if (item.version !== undefined) key.version = item.version;
  return key;
}

export async function startDynamoProxy(target: string): Promise<DynamoProxy> {
  const upstream = new URL(target);
  const counts = new Map<DynamoOperation, number>();
  const batchGetSizes: number[] = [];
  const requests: { operation: DynamoOperation; body: Record<string, unknown> }[] = [];
  const callers: DynamoCaller[] = [];
  const faults = new FaultQueue<DynamoOperation, DynamoFault | { raw: RawResponse }>();
  let unprocessed = { remaining: 0, keep: 0 };
  let inFlight = 0;
  let peakInFlight = 0;

  function forward(incoming: IncomingMessage, body: Buffer) {
    return new Promise<{ status: number; headers: Record<string, string>; body: Buffer }>(
      (resolve, reject) => {
        const outgoing = httpRequest(
          {
            hostname: upstream.hostname,
            port: upstream.port,
            method: incoming.method,
            path: incoming.url,
            headers: { ...incoming.headers, host: upstream.host },
          },
          (response) => {
            readBody(response).then((data) => {
              const headers: Record<string, string> = {};
              for (const [name, value] of Object.entries(response.headers)) {
                if (typeof value === 'string' && name !== 'transfer-encoding')
                  headers[name] = value;
              }
              resolve({ status: response.statusCode ?? 500, headers, body: data });
            }, reject);
          },
        );
        outgoing.on('error', reject);
        outgoing.end(body);
      },
    );
  }

  function withUnprocessedKeys(body: Buffer): Buffer {
    const parsed = JSON.parse(body.toString('utf8')) as {
      Responses?: Record<string, WireItem[]>;
      UnprocessedKeys?: Record<string, { Keys: WireItem[]; ConsistentRead?: boolean }>;
    };
    const unprocessedKeys = parsed.UnprocessedKeys ?? {};
    for (const [table, items] of Object.entries(parsed.Responses ?? {})) {
      const held = items.splice(unprocessed.keep);
      if (held.length === 0) continue;
      const entry = (unprocessedKeys[table] ??= { Keys: [], ConsistentRead: true });
      entry.Keys.push(...held.map(keyOfItem));
    }
    parsed.UnprocessedKeys = unprocessedKeys;
    return Buffer.from(JSON.stringify(parsed));
  }

  const server = createServer((incoming, outgoing) => {
    void (async () => {
      inFlight += 1;
      peakInFlight = Math.max(peakInFlight, inFlight);
      try {
        const body = await readBody(incoming);
        const target = incoming.headers['x-amz-target'];
        const operation = typeof target === 'string' ? target.replace(/^.*\./, '') : '';
        counts.set(operation, (counts.get(operation) ?? 0) + 1);
        callers.push({
          operation,
          userAgent: incoming.headers['user-agent'],
          ...signerOf(incoming.headers.authorization),
        });
        const parsed = JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>;
        requests.push({ operation, body: parsed });
        if (operation === 'BatchGetItem') {
          const request = parsed as { RequestItems?: Record<string, { Keys?: unknown[] }> };
          const size = Object.values(request.RequestItems ?? {}).reduce(
            (sum, entry) => sum + (entry.Keys?.length ?? 0),
            0,
          );
          batchGetSizes.push(size);
        }
        const fault = faults.take(operation);
        if (fault !== undefined && 'raw' in fault) {
          sendRaw(outgoing, fault.raw, 'application/x-amz-json-1.0');
          return;
        }
        if (fault !== undefined) {
          const payload = Buffer.from(
            JSON.stringify({
              __type: `com.amazonaws.dynamodb.v20120810#${fault.type}`,
              message: fault.message ?? fault.type,
            }),
          );
          outgoing.writeHead(fault.status ?? 400, {
            'content-type': 'application/x-amz-json-1.0',
            'content-length': payload.length,
            'x-amz-crc32': String(crc32(payload)),
          });
          outgoing.end(payload);
          return;
        }
        const response = await forward(incoming, body);
        let payload = response.body;
        if (operation === 'BatchGetItem' && response.status === 200 && unprocessed.remaining > 0) {
          unprocessed = { ...unprocessed, remaining: unprocessed.remaining - 1 };
          payload = withUnprocessedKeys(payload);
        }
        outgoing.writeHead(response.status, {
          ...response.headers,
          'content-length': String(payload.length),
          'x-amz-crc32': String(crc32(payload)),
        });
        outgoing.end(payload);
      } catch {
        outgoing.destroy();
      } finally {
        inFlight -= 1;
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    count(operation) {
      if (operation !== undefined) return counts.get(operation) ?? 0;
      let total = 0;
      for (const value of counts.values()) total += value;
      return total;
    },
    batchGetSizes,
    requests,
    callers,
    get peakInFlight() {
      return peakInFlight;
    },
    failNext(fault, count = 1, operation) {
      faults.add(fault, count, operation);
    },
    answerNext(raw, count = 1, operation) {
      faults.add({ raw }, count, operation);
    },
    leaveUnprocessed(count, keep = 0) {
      unprocessed = { remaining: count, keep };
    },
    clearFaults() {
      faults.clear();
      unprocessed = { remaining: 0, keep: 0 };
    },
    resetCounters() {
      counts.clear();
      batchGetSizes.length = 0;
      requests.length = 0;
      callers.length = 0;
      peakInFlight = inFlight;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
