import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { openBackend } from '../../src/backends/open-backend.js';
import type { EncryptionContext } from '../../src/envelope/context.js';
import { putSecret } from '../../src/secrets/put-secret.js';
import { BIN, cleanEnv, type CliResult } from './cli.js';
import { REPO_ROOT } from './vectors.js';

/**
 * A scratch world for launcher tests: a set-up local backend, a private XDG_RUNTIME_DIR for
 * secret files, a working directory for manifests and a child script that reports what it saw.
 */
export interface LauncherWorld {
  readonly dir: string;
  readonly cwd: string;
  readonly runtimeDir: string;
  readonly env: Record<string, string | undefined>;
  readonly child: string;
  put(
    name: string,
    value: string | Uint8Array,
    version?: string,
    context?: EncryptionContext,
  ): Promise<void>;
  manifest(name: string, text: string): string;
  cleanup(): void;
}

/**
 * The child: `report VAR…` prints a JSON object of the variables (and, for file paths, the file
 * mode and content), `signals` counts signals into counts.json after writing `ready`, `exit N`
 * exits with N, `kill SIG` kills itself, `env` prints its environment, `hold` waits to be killed.
 */
const CHILD_SCRIPT = `
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
const [mode, ...rest] = process.argv.slice(2);
const out = (value) => process.stdout.write(JSON.stringify(value) + '\\n');
if (mode === 'report') {
  const report = {};
  for (const name of rest) {
    const value = process.env[name];
    if (value === undefined) { report[name] = null; continue; }
    report[name] = value.startsWith('/') && existsSync(value)
      ? { path: value, mode: (statSync(value).mode & 0o777).toString(8), content: readFileSync(value, 'utf8') }
      : value;
  }
  out(report);
} else if (mode === 'env') {
  out(process.env);
} else if (mode === 'exit') {
  process.exit(Number(rest[0]));
} else if (mode === 'kill') {
  process.kill(process.pid, rest[0]);
} else if (mode === 'signals' || mode === 'hold') {
  const [dir] = rest;
  const counts = {};
  if (mode === 'signals') {
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH']) {
      process.on(signal, () => {
        counts[signal] = (counts[signal] ?? 0) + 1;
        writeFileSync(dir + '/counts.json', JSON.stringify(counts));
        if (signal === 'SIGTERM') setTimeout(() => process.exit(0), 300);
      });
    }
  }
  // Written whole, then renamed: whoever waits for ready never reads half of it.
  writeFileSync(dir + '/ready.tmp', JSON.stringify({ pid: process.pid, env: Object.keys(process.env) }));
  renameSync(dir + '/ready.tmp', dir + '/ready');
  setInterval(() => {}, 1000);
}
`;

export async function createWorld(): Promise<LauncherWorld> {
  const dir = mkdtempSync(join(tmpdir(), 'credexec-launch-'));
  const cwd = join(dir, 'work');
  const runtimeDir = join(dir, 'runtime');
  const storeDir = join(dir, 'store');
  mkdirSync(cwd);
  mkdirSync(runtimeDir, { mode: 0o700 });
  const child = join(dir, 'child.mjs');
  writeFileSync(child, CHILD_SCRIPT);
  const backend = await openBackend({ backend: 'local', localDir: storeDir }, {});
  await backend.setup({});
  return {
    dir,
    cwd,
    runtimeDir,
    child,
    env: cleanEnv({
      CREDEXEC_BACKEND: 'local',
      CREDEXEC_LOCAL_DIR: storeDir,
      XDG_RUNTIME_DIR: runtimeDir,
    }),
    async put(name, value, version, context) {
      await putSecret(backend, {
        name,
        value,
        ...(version === undefined ? { autoversion: true } : { version }),
        ...(context === undefined ? {} : { context }),
      });
    },
    manifest(name, text) {
      const path = join(cwd, name);
      writeFileSync(path, text);
      return path;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Run `body` in a fresh world, removed afterwards whatever happens. */
export async function withWorld(
  body: (world: LauncherWorld) => Promise<void> | void,
): Promise<void> {
  const world = await createWorld();
  try {
    await body(world);
  } finally {
    world.cleanup();
  }
}

/** The run directories (`credexec-*`) of secret files in the world's XDG_RUNTIME_DIR. */
export function secretDirs(world: LauncherWorld): string[] {
  return readdirSync(world.runtimeDir).filter((name) => name.startsWith('credexec-'));
}

export interface StartedCli {
  readonly process: ChildProcessWithoutNullStreams;
  readonly result: Promise<CliResult>;
}

export interface StartOptions {
  readonly env: Record<string, string | undefined>;
  readonly cwd: string;
  /** What stdin carries before it closes (nothing by default). */
  readonly input?: string | Buffer;
  /** The executable that is credexec: the real bin under this Node by default. */
  readonly binary?: string;
}

/** Start credexec with piped stdio (so stdin is not a TTY) and collect its output. */
export function startCli(args: readonly string[], options: StartOptions): StartedCli {
  const [file, ...prefix] =
    options.binary === undefined
      ? [process.execPath, join(REPO_ROOT, 'bin', 'credexec.cjs')]
      : [options.binary];
  const child = spawn(file!, [...prefix, ...args], {
    env: options.env,
    cwd: options.cwd,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  const result = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (exitCode, signal) =>
      resolve({
        exitCode,
        signal,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      }),
    );
  });
  // A child that exits without reading its stdin closes the pipe: that is not the test's error.
  child.stdin.on('error', () => undefined);
  if (options.input === undefined) child.stdin.end();
  else child.stdin.end(options.input);
  return { process: child, result };
}

export function runLauncherCli(world: LauncherWorld, args: readonly string[], extraEnv = {}) {
  return startCli(args, { env: { ...world.env, ...extraEnv }, cwd: world.cwd }).result;
}

/** Poll for a file the child writes once it is ready (signal handlers installed). */
export async function waitForFile(path: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${path}`);
    await sleep(10);
  }
}

export { BIN };
