import { execFileSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  ftruncateSync,
  fstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Backend } from '../../src/backends/backend.js';
import { openBackend } from '../../src/backends/open-backend.js';
import { padVersion } from '../../src/envelope/version.js';
import { messageOf } from '../../src/errors.js';
import { putSecret } from '../../src/secrets/put-secret.js';
import { getSecret } from '../../src/secrets/read-secrets.js';
import { refKey } from '../../src/stores/credential-store.js';
import { attributesToWire, itemToAttributes } from '../../src/stores/item.js';
import { startAwsFixture, type AwsFixture } from '../support/aws-fixture.js';
import { startFaultyEndpoint, type FaultyEndpoint } from '../support/faulty-endpoint.js';

/**
 * The worlds a fault scenario runs in: a store seeded with the same credentials every time, a
 * manifest, and a child that leaves a marker file when it starts. A scenario injects its fault
 * into the world, the runner runs the real bin against it, then the world is asked what the
 * store holds now (with every fault removed) and what was left behind.
 */

/** What every store holds before the fault: all of it must still read back afterwards. */
export const SEEDED: readonly { name: string; version: string; value: string }[] = [
  { name: 'app.secret', version: '1', value: 'value-one' },
  { name: 'app.secret', version: '2', value: 'value-two' },
  { name: 'app.other', version: '1', value: 'other-value' },
];

/** What `put` writes when a scenario goes through the CLI's write path. */
export const PUT = { name: 'app.new', version: '1', value: 'new-value' } as const;

/** Refused when a world needs something this machine cannot give (e.g. root for a tmpfs). */
export class NotRunnable extends Error {}

/** One stored item: its key and its attributes in wire form (compared byte for byte). */
export type StoreContents = ReadonlyMap<string, string>;

export interface StoreState {
  /** Items by `name\0version`, or why the store could not be read at all. */
  readonly contents: StoreContents | { readonly error: string };
  /** For the local store: the file's exact bytes (unchanged bytes mean nothing changed). */
  readonly bytes?: Buffer;
}

interface WorldBase {
  /** Scratch directory: the working directory of the command, manifests, the child, markers. */
  readonly dir: string;
  /** The command's environment (the runner adds the scenario's own variables). */
  readonly env: Record<string, string | undefined>;
  /** What the store holds now, read without any fault in the way. */
  state(): Promise<StoreState>;
  /** Decrypt one version, without any fault in the way. */
  read(name: string, version: string): Promise<Buffer>;
  /** Files a run could leave behind (store directory, secret directories); compared around a run. */
  files(): string[];
  /** Remove every injected fault, so that `state` and `read` see the store itself. */
  clearFaults(): Promise<void>;
  dispose(): Promise<void>;
}

export interface AwsWorld extends WorldBase {
  readonly backend: 'aws';
  readonly fixture: AwsFixture;
  /** Library access to the store, outside the faults (seeding, tampering). */
  readonly seedBackend: Backend;
  /** Route credexec's DynamoDB traffic through a misbehaving endpoint (the same one each call). */
  faultyDynamoDb(): Promise<FaultyEndpoint>;
  /** Route credexec's KMS traffic through a misbehaving endpoint (the same one each call). */
  faultyKms(): Promise<FaultyEndpoint>;
}

export interface LocalWorld extends WorldBase {
  readonly backend: 'local';
  readonly storeDir: string;
  readonly storeFile: string;
  readonly lockFile: string;
  /** Where secret files go (XDG_RUNTIME_DIR). */
  readonly runtimeDir: string;
  /** Fill a tmpfs mounted by the world, leaving `pagesFree` 4 KiB pages. */
  fill(mountPoint: string, pagesFree: number): void;
  /** Use up every inode of a tmpfs mounted by the world: no new file, directory or socket. */
  fillInodes(mountPoint: string): void;
  /** Remount a tmpfs mounted by the world read-only. */
  remountReadOnly(mountPoint: string): void;
}

export type FaultWorld = AwsWorld | LocalWorld;

export interface LocalWorldOptions {
  /** Put the store directory on a tmpfs of this many KiB. */
  readonly storeTmpfsKiB?: number;
  /** Put the secret-file directory (XDG_RUNTIME_DIR) on a tmpfs of this many KiB. */
  readonly runtimeTmpfsKiB?: number;
}

const PAGE = 4096;

function baseEnv(extra: Record<string, string>): Record<string, string | undefined> {
  return { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8', ...extra };
}

function scratchDir(): string {
  return mkdtempSync(join(tmpdir(), 'credexec-fault-'));
}

async function seed(backend: Backend): Promise<void> {
  for (const { name, version, value } of SEEDED) await putSecret(backend, { name, value, version });
}

async function contentsOf(backend: Backend): Promise<StoreState['contents']> {
  try {
    const items = await backend.store.scan();
    return new Map(
      items.map((item) => [refKey(item), JSON.stringify(attributesToWire(itemToAttributes(item)))]),
    );
  } catch (error: unknown) {
    return { error: messageOf(error) };
  }
}

function readVersion(backend: Backend, name: string, version: string): Promise<Buffer> {
  return getSecret(backend, { name, version: padVersion(version) });
}

export async function createAwsWorld(): Promise<AwsWorld> {
  const fixture = await startAwsFixture({ env: { AWS_MAX_ATTEMPTS: '2' } });
  const dir = scratchDir();
  const endpoints: FaultyEndpoint[] = [];
  const env = baseEnv({ ...fixture.env });
  let seedBackend: Backend;
  let rawBackend: Backend;
  try {
    seedBackend = await fixture.openBackend();
    // Straight to dynalite: what the table holds, whatever faults the proxy is injecting.
    rawBackend = await fixture.openBackend(
      {},
      { AWS_ENDPOINT_URL_DYNAMODB: fixture.dynamodbDirectEndpoint },
    );
    await seed(seedBackend);
  } catch (error: unknown) {
    rmSync(dir, { recursive: true, force: true });
    await fixture.stop();
    throw error;
  }
  // One per service, made on first use: credexec's traffic to it goes through it from then on.
  const faulty = new Map<string, Promise<FaultyEndpoint>>();
  const faultyFor = (variable: string, upstream: string) => {
    let endpoint = faulty.get(variable);
    if (endpoint === undefined) {
      endpoint = startFaultyEndpoint(upstream).then((started) => {
        endpoints.push(started);
        env[variable] = started.endpoint;
        return started;
      });
      faulty.set(variable, endpoint);
    }
    return endpoint;
  };
  return {
    backend: 'aws',
    dir,
    env,
    fixture,
    seedBackend,
    faultyDynamoDb: () => faultyFor('AWS_ENDPOINT_URL_DYNAMODB', fixture.dynamodb.endpoint),
    faultyKms: () => faultyFor('AWS_ENDPOINT_URL_KMS', fixture.kms.endpoint),
    state: async () => ({ contents: await contentsOf(rawBackend) }),
    read: (name, version) => readVersion(seedBackend, name, version),
    files: () => [],
    async clearFaults() {
      fixture.dynamodb.clearFaults();
      fixture.kms.clearFaults();
      fixture.kms.setKeyEnabled(fixture.kms.defaultKey.keyId, true);
      for (const endpoint of endpoints) endpoint.clear();
    },
    async dispose() {
      seedBackend.close?.();
      rawBackend.close?.();
      await Promise.allSettled(endpoints.map((endpoint) => endpoint.close()));
      await fixture.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const TMPFS_INODES = 64;

function mountTmpfs(path: string, kib: number): void {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  if (process.getuid?.() !== 0) throw new NotRunnable('needs root to mount a tmpfs');
  try {
    // Few inodes, so that fillInodes takes a moment, not millions of files.
    const options = `size=${kib}k,nr_inodes=${TMPFS_INODES},mode=0700`;
    execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', path], {
      stdio: 'pipe',
    });
  } catch (error: unknown) {
    throw new NotRunnable(`cannot mount a tmpfs: ${messageOf(error).split('\n', 1)[0]}`);
  }
}

function unmount(path: string): void {
  try {
    execFileSync('umount', [path], { stdio: 'pipe' });
  } catch {
    execFileSync('umount', ['-l', path], { stdio: 'pipe' });
  }
}

/** Fill with whole pages until the file system is full, then give back `pagesFree` of them. */
function fillTmpfs(mountPoint: string, pagesFree: number): void {
  const fd = openSync(join(mountPoint, '.filler'), 'w');
  const page = Buffer.alloc(PAGE, 0x2e);
  try {
    for (;;) {
      try {
        writeSync(fd, page);
      } catch {
        break; // ENOSPC: full
      }
    }
    const size = fstatSync(fd).size;
    ftruncateSync(fd, Math.max(0, size - pagesFree * PAGE));
  } finally {
    closeSync(fd);
  }
}

function fillTmpfsInodes(mountPoint: string): void {
  const dir = join(mountPoint, '.inodes');
  mkdirSync(dir);
  for (let index = 0; ; index++) {
    try {
      closeSync(openSync(join(dir, String(index)), 'w'));
    } catch {
      return; // ENOSPC: no inode left
    }
  }
}

function listing(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

export async function createLocalWorld(options: LocalWorldOptions = {}): Promise<LocalWorld> {
  const dir = scratchDir();
  const storeDir = join(dir, 'store');
  const runtimeDir = join(dir, 'runtime');
  const mounts: string[] = [];
  const dispose = async () => {
    for (const mount of mounts.reverse()) unmount(mount);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    if (options.storeTmpfsKiB !== undefined) {
      mountTmpfs(storeDir, options.storeTmpfsKiB);
      mounts.push(storeDir);
    }
    if (options.runtimeTmpfsKiB !== undefined) {
      mountTmpfs(runtimeDir, options.runtimeTmpfsKiB);
      mounts.push(runtimeDir);
    } else {
      mkdirSync(runtimeDir, { mode: 0o700 });
    }
    const backend = await openBackend({ backend: 'local', localDir: storeDir }, {});
    await backend.setup({});
    await seed(backend);
  } catch (error: unknown) {
    await dispose();
    throw error;
  }
  const storeFile = join(storeDir, 'credential-store.json');
  const reader = () => openBackend({ backend: 'local', localDir: storeDir }, {});
  return {
    backend: 'local',
    dir,
    storeDir,
    storeFile,
    lockFile: `${storeFile}.lock`,
    runtimeDir,
    env: baseEnv({
      CREDEXEC_BACKEND: 'local',
      CREDEXEC_LOCAL_DIR: storeDir,
      XDG_RUNTIME_DIR: runtimeDir,
    }),
    fill: fillTmpfs,
    fillInodes: fillTmpfsInodes,
    remountReadOnly(mountPoint) {
      execFileSync('mount', ['-o', 'remount,ro', mountPoint], { stdio: 'pipe' });
    },
    async state() {
      const bytes = existsSync(storeFile) ? readFileSync(storeFile) : Buffer.alloc(0);
      return { bytes, contents: await contentsOf(await reader()) };
    },
    read: async (name, version) => readVersion(await reader(), name, version),
    files: () => [
      ...listing(storeDir).map((name) => join(storeDir, name)),
      ...listing(runtimeDir).map((name) => join(runtimeDir, name)),
    ],
    async clearFaults() {
      // Local faults live in the file system; reading needs none of them removed.
    },
    dispose,
  };
}

/** The launcher's manifests and the child that marks that it started. */
export function writeLaunchFiles(dir: string): void {
  writeFileSync(join(dir, 'app.env'), 'SECRET=app.secret\n');
  writeFileSync(join(dir, 'pinned.env'), 'SECRET=app.secret@1\n');
  writeFileSync(join(dir, 'app.json'), '{ "SECRET": { "name": "app.secret", "file": true } }\n');
  writeFileSync(join(dir, 'child'), '#!/bin/sh\n: > started\n', { mode: 0o755 });
}

export const CHILD_MARKER = 'started';
