import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openBackend } from '../src/backends/open-backend.js';
import { putSecret } from '../src/secrets/put-secret.js';
import { fileURLToPath } from 'node:url';
import { baseEnv, credexecArgs, sample, timeSpawn, type Env, type Sample } from './lib.js';

const FLOOR_SCRIPT = fileURLToPath(new URL('floor.cjs', import.meta.url));

/** A throw-away local backend with one secret and two manifests (empty, one entry). */
export interface LocalWorld {
  readonly dir: string;
  readonly env: Env;
  readonly emptyManifest: string;
  readonly oneManifest: string;
  cleanup(): void;
}

export async function createLocalWorld(): Promise<LocalWorld> {
  const dir = mkdtempSync(join(tmpdir(), 'credexec-bench-'));
  try {
    const storeDir = join(dir, 'store');
    const backend = await openBackend({ backend: 'local', localDir: storeDir }, {});
    await backend.setup({});
    await putSecret(backend, { name: 'bench.one', value: 'x'.repeat(32) });
    const emptyManifest = join(dir, 'empty.env');
    const oneManifest = join(dir, 'one.env');
    writeFileSync(emptyManifest, '');
    writeFileSync(oneManifest, 'BENCH_ONE=bench.one\n');
    return {
      dir,
      env: baseEnv({ CREDEXEC_BACKEND: 'local', CREDEXEC_LOCAL_DIR: storeDir }),
      emptyManifest,
      oneManifest,
      cleanup: () => rmSync(dir, { recursive: true, force: true }),
    };
  } catch (error: unknown) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

export interface StartupResult {
  readonly runs: number;
  readonly nodeBaseline: Sample;
  readonly localEmpty: Sample;
  readonly localOneSecret: Sample;
  /** bench/floor.cjs: only the work a launcher cannot skip (crypto, two reads, spawn). */
  readonly floor: Sample;
  readonly ratioFloor: number;
  /** Median of credexec over median of `node -e 0`. */
  readonly ratioEmpty: number;
  readonly ratioOneSecret: number;
}

/** `node -e 0` against `credexec -- true` (local, empty manifest and one secret), interleaved. */
export async function benchStartup(options: {
  runs: number;
  warmup: number;
}): Promise<StartupResult> {
  const world = await createLocalWorld();
  try {
    const commands = {
      node: () => timeSpawn(process.execPath, ['-e', '0'], { env: world.env, cwd: world.dir }),
      empty: () =>
        timeSpawn(process.execPath, credexecArgs(['-m', world.emptyManifest, '--', 'true']), {
          env: world.env,
          cwd: world.dir,
        }),
      floor: () =>
        timeSpawn(process.execPath, [FLOOR_SCRIPT, 'true'], { env: world.env, cwd: world.dir }),
      one: () =>
        timeSpawn(process.execPath, credexecArgs(['-m', world.oneManifest, '--', 'true']), {
          env: world.env,
          cwd: world.dir,
        }),
    };
    const times = {
      node: [] as number[],
      floor: [] as number[],
      empty: [] as number[],
      one: [] as number[],
    };
    const order = ['node', 'floor', 'empty', 'one'] as const;
    for (let run = 0; run < options.warmup + options.runs; run++) {
      // Rotate the order so that no command always runs right after the same other one.
      for (let index = 0; index < order.length; index++) {
        const name = order[(index + run) % order.length]!;
        const { ms } = await commands[name]();
        if (run >= options.warmup) times[name].push(ms);
      }
    }
    const nodeBaseline = sample(times.node);
    const localEmpty = sample(times.empty);
    const localOneSecret = sample(times.one);
    const floor = sample(times.floor);
    return {
      floor,
      ratioFloor: floor.medianMs / nodeBaseline.medianMs,
      runs: options.runs,
      nodeBaseline,
      localEmpty,
      localOneSecret,
      ratioEmpty: localEmpty.medianMs / nodeBaseline.medianMs,
      ratioOneSecret: localOneSecret.medianMs / nodeBaseline.medianMs,
    };
  } finally {
    world.cleanup();
  }
}
