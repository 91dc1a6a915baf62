import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openBackend } from '../src/backends/open-backend.js';
import { putSecret } from '../src/secrets/put-secret.js';
import { fileURLToPath } from 'node:url';
import { baseEnv, credexecArgs, sample, timeSpawn, type Env, type Sample } from './lib.js';
import type { NodeRuntime, SingleBinary } from './runtimes.js';

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

/** `node -e 0`, the floor and `credexec -- true` (the npm-installed CLI) on one Node. */
export interface RuntimeStartup {
  readonly node: string;
  readonly version: string;
  readonly nodeBaseline: Sample;
  /** bench/floor.cjs: only the work a launcher cannot skip (crypto, two reads, spawn). */
  readonly floor: Sample;
  readonly localEmpty: Sample;
  readonly localOneSecret: Sample;
  /** One secret with bin/load-bundle.cjs's code cache turned off (NODE_DISABLE_COMPILE_CACHE). */
  readonly localOneSecretNoCache: Sample;
  readonly ratioFloor: number;
  /** Median of credexec over median of `node -e 0`. */
  readonly ratioEmpty: number;
  readonly ratioOneSecret: number;
  readonly ratioOneSecretNoCache: number;
}

/** The single executable against `node -e 0` of the Node it was built from, when that is here. */
export interface SingleBinaryStartup {
  readonly path: string;
  readonly sizeBytes: number;
  readonly nodeVersion: string;
  /** The `node` binary of the same version measured next to it, if one was given. */
  readonly baselineNode?: string;
  readonly nodeBaseline?: Sample;
  readonly localEmpty: Sample;
  readonly localOneSecret: Sample;
  readonly ratioEmpty?: number;
  readonly ratioOneSecret?: number;
}

/** This Node's figures at the top level (as before), every Node's in `runtimes`. */
export interface StartupResult extends RuntimeStartup {
  readonly runs: number;
  readonly runtimes: readonly RuntimeStartup[];
  readonly singleBinary?: SingleBinaryStartup;
}

type Command = () => Promise<{ ms: number }>;

/** Run the commands `warmup + runs` times, rotating their order each time; samples per command. */
async function interleave<K extends string>(
  commands: Record<K, Command>,
  options: { runs: number; warmup: number },
): Promise<Record<K, Sample>> {
  const order = Object.keys(commands) as K[];
  const times = Object.fromEntries(order.map((name) => [name, [] as number[]])) as Record<
    K,
    number[]
  >;
  for (let run = 0; run < options.warmup + options.runs; run++) {
    // Rotate the order so that no command always runs right after the same other one.
    for (let index = 0; index < order.length; index++) {
      const name = order[(index + run) % order.length]!;
      const { ms } = await commands[name]();
      if (run >= options.warmup) times[name].push(ms);
    }
  }
  return Object.fromEntries(order.map((name) => [name, sample(times[name])])) as Record<K, Sample>;
}

async function runtimeStartup(
  world: LocalWorld,
  runtime: NodeRuntime,
  options: { runs: number; warmup: number },
): Promise<RuntimeStartup> {
  const spawnOptions = { env: world.env, cwd: world.dir };
  const launch = (manifest: string, env = world.env) =>
    timeSpawn(runtime.node, credexecArgs(['-m', manifest, '--', 'true']), { ...spawnOptions, env });
  const samples = await interleave(
    {
      node: () => timeSpawn(runtime.node, ['-e', '0'], spawnOptions),
      floor: () => timeSpawn(runtime.node, [FLOOR_SCRIPT, 'true'], spawnOptions),
      empty: () => launch(world.emptyManifest),
      one: () => launch(world.oneManifest),
      oneNoCache: () =>
        launch(world.oneManifest, { ...world.env, NODE_DISABLE_COMPILE_CACHE: '1' }),
    },
    options,
  );
  const base = samples.node.medianMs;
  return {
    node: runtime.node,
    version: runtime.version,
    nodeBaseline: samples.node,
    floor: samples.floor,
    localEmpty: samples.empty,
    localOneSecret: samples.one,
    localOneSecretNoCache: samples.oneNoCache,
    ratioFloor: samples.floor.medianMs / base,
    ratioEmpty: samples.empty.medianMs / base,
    ratioOneSecret: samples.one.medianMs / base,
    ratioOneSecretNoCache: samples.oneNoCache.medianMs / base,
  };
}

async function singleBinaryStartup(
  world: LocalWorld,
  binary: SingleBinary,
  runtimes: readonly NodeRuntime[],
  options: { runs: number; warmup: number },
): Promise<SingleBinaryStartup> {
  const spawnOptions = { env: world.env, cwd: world.dir };
  const baseline = runtimes.find((runtime) => runtime.version === binary.nodeVersion);
  const launch = (manifest: string) =>
    timeSpawn(binary.path, ['-m', manifest, '--', 'true'], spawnOptions);
  const commands = {
    empty: () => launch(world.emptyManifest),
    one: () => launch(world.oneManifest),
  };
  if (baseline === undefined) {
    const samples = await interleave(commands, options);
    return { ...describe(binary), localEmpty: samples.empty, localOneSecret: samples.one };
  }
  const samples = await interleave(
    { node: () => timeSpawn(baseline.node, ['-e', '0'], spawnOptions), ...commands },
    options,
  );
  return {
    ...describe(binary),
    baselineNode: baseline.node,
    nodeBaseline: samples.node,
    localEmpty: samples.empty,
    localOneSecret: samples.one,
    ratioEmpty: samples.empty.medianMs / samples.node.medianMs,
    ratioOneSecret: samples.one.medianMs / samples.node.medianMs,
  };
}

function describe(binary: SingleBinary) {
  return { path: binary.path, sizeBytes: binary.sizeBytes, nodeVersion: binary.nodeVersion };
}

/**
 * `node -e 0` against `credexec -- true` (local, empty manifest and one secret), interleaved, on
 * every Node given (this one first), then the single executable when dist/sea has it.
 */
export async function benchStartup(options: {
  runs: number;
  warmup: number;
  runtimes: readonly NodeRuntime[];
  singleBinary?: SingleBinary;
}): Promise<StartupResult> {
  const world = await createLocalWorld();
  try {
    const runtimes: RuntimeStartup[] = [];
    for (const runtime of options.runtimes)
      runtimes.push(await runtimeStartup(world, runtime, options));
    const single =
      options.singleBinary === undefined
        ? undefined
        : await singleBinaryStartup(world, options.singleBinary, options.runtimes, options);
    return {
      ...runtimes[0]!,
      runs: options.runs,
      runtimes,
      ...(single === undefined ? {} : { singleBinary: single }),
    };
  } finally {
    world.cleanup();
  }
}
