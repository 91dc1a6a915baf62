import { setTimeout as sleep } from 'node:timers/promises';
import { startCli, type StartedCli, type StartOptions } from './launcher.js';

/**
 * For `credexec --watch` tests through the real bin: the service it runs, and a way to follow
 * what the running credexec writes.
 */

/** Lets the bin poll faster than the 5 s minimum (docs/launcher.md: for tests only). */
export const FAST_WATCH = { CREDEXEC_WATCH_MIN_INTERVAL_MS: '50' };

/**
 * A service: prints a JSON line when it starts (DB, and the content of the file TLS names), on
 * SIGHUP (the file again, and what it held at start), exits 0 on SIGTERM and 4 on SIGUSR2.
 */
export const SERVICE = `
const fs = require('fs');
const out = (o) => process.stdout.write(JSON.stringify({ pid: process.pid, ...o }) + '\\n');
const file = () => (process.env.TLS && fs.existsSync(process.env.TLS) ? fs.readFileSync(process.env.TLS, 'utf8') : null);
const atStart = file();
// Handlers first: a test signals the service as soon as it sees the start line.
process.on('SIGHUP', () => out({ event: 'SIGHUP', TLS: file(), before: atStart }));
process.on('SIGTERM', () => process.exit(0));
process.on('SIGUSR2', () => process.exit(4));
out({ event: 'start', DB: process.env.DB ?? null, TLS: atStart });
setInterval(() => {}, 1000);
`;

export interface ServiceLine {
  readonly pid: number;
  readonly event: string;
  readonly DB?: string | null;
  readonly TLS?: string | null;
  readonly before?: string | null;
}

/** What a running credexec printed so far, and waiting for more. */
export function follow(started: StartedCli) {
  let stdout = '';
  let stderr = '';
  started.process.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  started.process.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const lines = () =>
    stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as ServiceLine);
  return {
    lines,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    /** Wait until the service's lines satisfy `done` (15 s at most). */
    async until(done: (lines: ServiceLine[]) => boolean, what: string): Promise<ServiceLine[]> {
      const deadline = Date.now() + 15_000;
      for (;;) {
        const seen = lines();
        if (done(seen)) return seen;
        if (Date.now() > deadline)
          throw new Error(`timed out waiting for ${what}: ${stdout} / ${stderr}`);
        await sleep(20);
      }
    },
    /** Wait until credexec's stderr satisfies `done`. */
    async untilStderr(done: (text: string) => boolean, what: string): Promise<string> {
      const deadline = Date.now() + 15_000;
      while (!done(stderr)) {
        if (Date.now() > deadline)
          throw new Error(`timed out waiting for ${what}: ${stdout} / ${stderr}`);
        await sleep(20);
      }
      return stderr;
    },
  };
}

export const starts = (lines: readonly ServiceLine[]) =>
  lines.filter(({ event }) => event === 'start');

/**
 * `credexec ARGS`, polling as fast as FAST_WATCH allows, followed; killed when the test ends,
 * however it ends (a failing assertion must not leave a watcher behind).
 */
export function startWatching(
  t: { teardown(fn: () => void): void },
  args: readonly string[],
  options: StartOptions,
) {
  const started = startCli(args, { ...options, env: { ...options.env, ...FAST_WATCH } });
  t.teardown(() => started.process.kill('SIGKILL'));
  return { started, run: follow(started) };
}
