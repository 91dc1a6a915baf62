import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './vectors.js';

export const BIN = join(REPO_ROOT, 'bin', 'credexec.js');

export interface CliResult {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliOptions {
  readonly env?: Record<string, string | undefined>;
  readonly input?: string | Buffer;
  readonly cwd?: string;
}

/** A minimal environment: no AWS settings or CREDEXEC_* from the developer's shell leak in. */
export function cleanEnv(
  extra: Record<string, string | undefined> = {},
): Record<string, string | undefined> {
  return { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8', ...extra };
}

/** Spawn the real bin (it loads the built dist/; `npm test` builds first). */
export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: options.env ?? cleanEnv(),
      cwd: options.cwd ?? REPO_ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', reject);
    child.on('close', (exitCode, signal) =>
      resolve({
        exitCode,
        signal,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      }),
    );
    child.stdin.end(options.input ?? '');
  });
}

/** A fresh local-backend directory, removed by the returned cleanup. */
export function tempLocalDir(): {
  dir: string;
  env: Record<string, string | undefined>;
  cleanup: () => void;
} {
  const dir = mkdtempSync(join(tmpdir(), 'credexec-test-'));
  return {
    dir,
    env: cleanEnv({ CREDEXEC_BACKEND: 'local', CREDEXEC_LOCAL_DIR: join(dir, 'store') }),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
