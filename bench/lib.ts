import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, platform, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Shared helpers for the bench scripts: timing a spawned process, medians, machine info. */
export const REPO_ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..');
export const BIN = join(REPO_ROOT, 'bin', 'credexec.cjs');

export type Env = Record<string, string | undefined>;

/**
 * Where credexec keeps its code cache during the bench (bin/load-bundle.cjs): a directory of the
 * bench's own, so figures do not depend on what ~/.cache holds; the warm-up runs fill it.
 */
const CACHE_HOME = mkdtempSync(join(tmpdir(), 'credexec-bench-cache-'));
process.on('exit', () => rmSync(CACHE_HOME, { recursive: true, force: true }));

/** A minimal environment (no AWS or CREDEXEC_* settings from the caller's shell). */
export function baseEnv(extra: Env = {}): Env {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LANG: 'C.UTF-8',
    XDG_CACHE_HOME: CACHE_HOME,
    ...extra,
  };
}

export interface Sample {
  readonly medianMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  readonly samplesMs: readonly number[];
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function round(value: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

export function sample(values: readonly number[]): Sample {
  return {
    medianMs: round(median(values)),
    minMs: round(Math.min(...values)),
    maxMs: round(Math.max(...values)),
    samplesMs: values.map((value) => round(value)),
  };
}

export interface Timed {
  readonly ms: number;
  readonly stdout: string;
}

/**
 * Spawn `command args` and measure the wall time from spawn to exit. A non-zero exit, a signal
 * or running past `timeoutMs` is an error that carries stderr.
 */
export function timeSpawn(
  command: string,
  args: readonly string[],
  options: { env: Env; cwd: string; timeoutMs?: number },
): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, {
      env: options.env,
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    let ended: bigint | undefined;
    child.on('exit', () => {
      ended = process.hrtime.bigint();
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const ms = Number((ended ?? process.hrtime.bigint()) - started) / 1e6;
      if (code !== 0) {
        const text = Buffer.concat(stderr).toString('utf8').trim();
        reject(
          new Error(
            `${command} ${args.join(' ')} exited with ${code ?? signal}${text === '' ? '' : `: ${text}`}`,
          ),
        );
        return;
      }
      resolve({ ms, stdout: Buffer.concat(stdout).toString('utf8') });
    });
  });
}

export function credexecArgs(args: readonly string[]): string[] {
  return [BIN, ...args];
}

/** `VmRSS` and `VmHWM` (peak RSS) of a `/proc/PID/status` text, in KiB. */
export function parseProcStatus(text: string): { vmRssKb: number; vmHwmKb: number } {
  const field = (name: string) => {
    const match = new RegExp(`^${name}:\\s+(\\d+)\\s+kB`, 'm').exec(text);
    if (match === null) throw new Error(`no ${name} in /proc status`);
    return Number(match[1]);
  };
  return { vmRssKb: field('VmRSS'), vmHwmKb: field('VmHWM') };
}

export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryMb: number;
  readonly node: string;
  readonly platform: string;
  readonly date: string;
  readonly credexecVersion: string;
}

export function machine(): Machine {
  const info = cpus();
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
    version?: string;
  };
  return {
    cpu: info[0]?.model.trim() ?? 'unknown',
    cores: info.length,
    memoryMb: Math.round(totalmem() / 2 ** 20),
    node: process.version,
    platform: `${platform()} ${release()}`,
    date: new Date().toISOString(),
    credexecVersion: pkg.version ?? 'unknown',
  };
}

/** Render rows as an aligned text table. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, index) =>
    Math.max(title.length, ...rows.map((row) => (row[index] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, index) => cell.padEnd(widths[index]!))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join(
    '\n',
  );
}

export function ms(value: number): string {
  return `${value.toFixed(1)} ms`;
}

export function ratio(value: number): string {
  return `${value.toFixed(2)}×`;
}
