import { EventEmitter } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getHeapSnapshot } from 'node:v8';
import { randomBytes } from 'node:crypto';
import test from 'ava';
import { EMPTY_CONTEXT } from '../../src/envelope/context.js';
import { sealCredential } from '../../src/envelope/credential.js';
import { SpawnError } from '../../src/errors.js';
import type { KeyService } from '../../src/keys/key-service.js';
import { runLauncher, type LaunchIo } from '../../src/launch/run-launcher.js';
import type { ResolveSource } from '../../src/resolve/resolve-entries.js';
import type { CredentialItem } from '../../src/stores/item.js';

const DATA_KEY = Buffer.from(Array.from({ length: 64 }, (_, i) => i));

/**
 * A value that exists in this process only as bytes, never as a JavaScript string, so that a
 * heap snapshot finds it only where credexec made a string of it. ASCII letters, so that a
 * string of it appears verbatim in the snapshot's JSON.
 */
function canaryBytes(): Buffer {
  return Buffer.from([...randomBytes(40)].map((byte) => 0x61 + (byte % 26)));
}

function sourceWith(values: Readonly<Record<string, Buffer>>): ResolveSource {
  const items = new Map<string, CredentialItem>();
  for (const [name, value] of Object.entries(values)) {
    items.set(
      name,
      sealCredential({
        name,
        version: '0000000000000000001',
        value,
        dataKey: DATA_KEY,
        wrappedKey: Buffer.from('key'),
        digest: 'SHA256',
      }),
    );
  }
  const keys: KeyService = {
    description: 'test keys',
    generateDataKey: () => Promise.reject(new Error('not used')),
    decrypt: () => Promise.resolve(Buffer.from(DATA_KEY)),
  };
  return {
    store: {
      description: 'test store',
      getMany: (refs) => Promise.resolve(refs.flatMap(({ name }) => items.get(name) ?? [])),
      getLatest: (name) => Promise.resolve(items.get(name)),
    },
    keys,
  };
}

function scratch(manifest: string) {
  const dir = mkdtempSync(join(tmpdir(), 'credexec-memory-test-'));
  writeFileSync(join(dir, 'm.json'), manifest);
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

function fakeIo(dir: string): { io: LaunchIo; signals: EventEmitter } {
  const signals = new EventEmitter();
  return {
    signals,
    io: {
      env: { PATH: process.env.PATH, XDG_RUNTIME_DIR: dir },
      pid: process.pid,
      stdinIsTty: false,
      signals,
      isForeground: () => undefined,
      warn: () => undefined,
    },
  };
}

async function heapSnapshot(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of getHeapSnapshot()) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

test('while the child runs, credexec holds no reachable copy of its environment or the values', async (t) => {
  const canary = canaryBytes();
  const { dir, cleanup } = scratch(JSON.stringify({ SECRET: 'secret' }));
  t.teardown(cleanup);
  const { io, signals } = fakeIo(dir);
  const ready = join(dir, 'ready');
  const launch = runLauncher(
    sourceWith({ secret: canary }),
    {
      command: process.execPath,
      args: [
        '-e',
        `require('fs').writeFileSync(${JSON.stringify(ready)}, ''); setInterval(() => {}, 1000)`,
      ],
      manifests: [join(dir, 'm.json')],
      context: EMPTY_CONTEXT,
      allowVars: [],
      pristine: true,
    },
    io,
  );
  while (!existsSync(ready)) await new Promise((resolve) => setTimeout(resolve, 10));
  const snapshot = await heapSnapshot();
  signals.emit('SIGTERM');
  t.deepEqual(await launch, { signal: 'SIGTERM' });
  t.true(snapshot.length > 1_000_000, 'a real heap snapshot');
  t.is(snapshot.indexOf(canary), -1, 'the value is not reachable from the heap');
});

test('decrypted values are zeroed when the command cannot be started', async (t) => {
  const canary = canaryBytes();
  const { dir, cleanup } = scratch(
    JSON.stringify({ AS_VARIABLE: 'secret', AS_FILE: { name: 'secret', file: true } }),
  );
  t.teardown(cleanup);
  // Count the buffers holding the value at the moment they are zeroed.
  const fill = Buffer.prototype.fill;
  let wiped = 0;
  Buffer.prototype.fill = function (this: Buffer, ...args: Parameters<Buffer['fill']>) {
    if (args[0] === 0 && this !== canary && this.equals(canary)) wiped++;
    return fill.apply(this, args);
  } as Buffer['fill'];
  t.teardown(() => {
    Buffer.prototype.fill = fill;
  });
  const error = await t.throwsAsync(
    runLauncher(
      sourceWith({ secret: canary }),
      {
        command: join(dir, 'no-such-command'),
        args: [],
        manifests: [join(dir, 'm.json')],
        context: EMPTY_CONTEXT,
        allowVars: [],
        pristine: true,
      },
      fakeIo(dir).io,
    ),
    { instanceOf: SpawnError },
  );
  t.is(error?.reason, 'not-found');
  Buffer.prototype.fill = fill;
  t.true(wiped >= 1, `${wiped} buffer(s) holding the value were zeroed`);
});
