import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { REPO_ROOT } from './vectors.js';

export const BIN = join(REPO_ROOT, 'bin', 'credexec.cjs');

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
export async function runCli(
  args: readonly string[],
  options: CliOptions = {},
): Promise<CliResult> {
  const result = await execa(process.execPath, [BIN, ...args], {
    env: options.env ?? cleanEnv(),
    extendEnv: false,
    cwd: options.cwd ?? REPO_ROOT,
    input: options.input ?? '',
    reject: false,
    stripFinalNewline: false,
  });
  return {
    exitCode: result.exitCode ?? null,
    signal: (result.signal as NodeJS.Signals | undefined) ?? null,
    stdout: result.stdout,
    stderr: result.stderr,
  };
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
