import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeAwsClients, TRANSPORT_ENV } from '../src/backends/aws.js';
import { openBackend } from '../src/backends/open-backend.js';
import { getSecret } from '../src/secrets/read-secrets.js';
import { nameOf, writeManifest, type Path, type RequestCounts } from './aws-servers.js';
import {
  availableIsolations,
  startAwsWorld,
  type AwsWorld,
  type Isolation,
  type Placement,
} from './aws-world.js';
import { withCpu } from './cpu.js';
import { summarizeProfile, type ProfileShare } from './profile.js';
import { baseEnv, credexecArgs, round, sample, timeSpawn, type Sample } from './lib.js';

export type { Path, RequestCounts } from './aws-servers.js';

export interface Measured {
  readonly time: Sample;
  /**
   * Mean CPU time (user + system) of the credexec process per run, in ms: next to the wall time it
   * shows whether a run waited on the network or was busy computing. Each run's figure comes in
   * the kernel's 10 ms ticks, but the kernel adds up exact times, so the mean over runs is not
   * biased by the ticks. Not for the in-process baseline.
   */
  readonly cpuMs?: number;
  readonly cpuSamplesMs?: readonly number[];
  /** Mean CPU time the test servers and proxies spent meanwhile, in ms (see `AwsWorld`). */
  readonly serverCpuMs?: number;
  /** Counts of the first measured run. */
  readonly counts: RequestCounts;
  /** Every measured run made the same number of requests. */
  readonly countsStable: boolean;
}

export interface ResolutionRow {
  readonly n: number;
  readonly path: Path;
  readonly delayMs: number;
  readonly credexec: Measured;
  /** Not on the tls path: the in-process baseline cannot trust the bench's test certificate. */
  readonly baseline?: Measured;
  /** credexec median over the sequential baseline's median. */
  readonly ratioToBaseline?: number;
  /** credexec median over credexec's median for the smallest N on the same path. */
  readonly ratioToSmallest: number;
}

/** What one more secret costs credexec in CPU: (CPU at the largest N − at the smallest) / ΔN. */
export interface CpuPerSecret {
  readonly path: Path;
  readonly fromN: number;
  readonly toN: number;
  readonly ms: number;
}

/** The whole table for one placement of the servers (see `Isolation`). */
export interface ResolutionMode {
  readonly isolation: Isolation;
  readonly placement: Placement;
  readonly rows: readonly ResolutionRow[];
  /** Per path; none with a single size. */
  readonly cpuPerSecret: readonly CpuPerSecret[];
}

/** A `--cpu-prof` profile of one extra credexec run, summarized by category. */
export interface ResolutionProfile {
  readonly n: number;
  readonly path: Path;
  readonly isolation: Isolation;
  readonly file: string;
  readonly totalMs: number;
  readonly shares: readonly ProfileShare[];
}

export interface ResolutionResult {
  readonly runs: number;
  readonly profiles?: readonly ResolutionProfile[];
  readonly delayMs: number;
  readonly sizes: readonly number[];
  readonly baselineMethod: string;
  /** One per isolation measured, in the order asked for. */
  readonly modes: readonly ResolutionMode[];
  /** Why `pinned` was asked for but not measured (one CPU, no `taskset`). */
  readonly pinnedUnavailable?: string;
}

function sameCounts(a: RequestCounts, b: RequestCounts): boolean {
  return (
    a.query === b.query &&
    a.batchGetItem === b.batchGetItem &&
    a.dynamodbTotal === b.dynamodbTotal &&
    a.decrypt === b.decrypt &&
    a.kmsTotal === b.kmsTotal
  );
}

const mean = (values: readonly number[]) =>
  values.reduce((total, value) => total + value, 0) / values.length;

class Recorder {
  readonly times: number[] = [];
  readonly cpu: number[] = [];
  readonly serverCpu: number[] = [];
  readonly counts: RequestCounts[] = [];

  measured(): Measured {
    const first = this.counts[0]!;
    return {
      time: sample(this.times),
      ...(this.cpu.length === 0
        ? {}
        : { cpuMs: round(mean(this.cpu)), cpuSamplesMs: this.cpu.map((value) => round(value)) }),
      ...(this.serverCpu.length === 0 ? {} : { serverCpuMs: round(mean(this.serverCpu)) }),
      counts: first,
      countsStable: this.counts.every((counts) => sameCounts(counts, first)),
    };
  }
}

interface Options {
  runs: number;
  warmup: number;
  sizes: readonly number[];
  delayMs: number;
  /** The placements to measure, in this order (`pinned` falls back to `shared` where it cannot). */
  isolations: readonly Isolation[];
  /** Also profile one run each of the smallest and largest N (slowest path) into this directory. */
  profileDir?: string;
}

/**
 * `credexec -- true` with N secrets (latest versions) on the aws backend against dynalite and the
 * test KMS, directly and through a delay proxy on both services; next to a sequential baseline
 * (one Query, then one Decrypt, per secret) in the same run. Once per isolation.
 */
export async function benchResolution(options: Options): Promise<ResolutionResult> {
  const sizes = [...options.sizes].sort((a, b) => a - b);
  const { isolations, unavailable } = availableIsolations(options.isolations);
  const dir = mkdtempSync(join(tmpdir(), 'credexec-bench-aws-'));
  try {
    const manifests = new Map<number, string>();
    for (const n of sizes) manifests.set(n, writeManifest(dir, n));
    const modes: ResolutionMode[] = [];
    let profiles: ResolutionProfile[] = [];
    for (const [index, isolation] of isolations.entries()) {
      const world = await startAwsWorld(isolation, options.delayMs);
      try {
        modes.push(await measureMode(world, { ...options, sizes }, manifests, dir));
        if (index === 0 && options.profileDir !== undefined) {
          profiles = await profileRuns(world, { ...options, sizes }, manifests, dir);
        }
      } finally {
        closeAwsClients();
        await world.close();
      }
    }
    return {
      runs: options.runs,
      ...(profiles.length === 0 ? {} : { profiles }),
      delayMs: options.delayMs,
      sizes,
      baselineMethod:
        'in-process, sequential getSecret() per name through the AWS SDK (CREDEXEC_AWS_TRANSPORT=sdk: 1 Query, then 1 Decrypt); fresh SDK clients per run; excludes process start-up and SDK loading',
      modes,
      ...(unavailable === undefined ? {} : { pinnedUnavailable: unavailable }),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function pathsOf(delayMs: number): Path[] {
  return delayMs > 0 ? ['direct', 'delayed', 'tls'] : ['direct', 'tls'];
}

async function measureMode(
  world: AwsWorld,
  options: Options,
  manifests: ReadonlyMap<number, string>,
  dir: string,
): Promise<ResolutionMode> {
  const { sizes } = options;
  await world.seed(sizes.at(-1) ?? 1);

  const runCredexec = async (n: number, path: Path) => {
    const env = baseEnv({ ...world.env, ...world.endpoints[path] });
    await world.reset();
    const serverBefore = await world.serverCpuMs();
    const { result, childCpuMs } = await withCpu(() =>
      timeSpawn(process.execPath, credexecArgs(['-m', manifests.get(n)!, '--', 'true']), {
        env,
        cwd: dir,
        timeoutMs: 60_000,
      }),
    );
    const serverCpuMs = (await world.serverCpuMs()) - serverBefore;
    return { ms: result.ms, cpuMs: childCpuMs, serverCpuMs, counts: await world.counts(path) };
  };

  // The way credstash-style tools read N secrets: one after another, Query then Decrypt, through
  // the AWS SDK (as nodecredstash does). Fresh clients each run, so connections start cold as
  // they do in a new process. It runs in this process, so it sits where credexec does.
  const runBaseline = async (n: number, path: Path) => {
    closeAwsClients();
    const backend = await openBackend(
      { backend: 'aws' },
      { ...world.env, ...world.endpoints[path], [TRANSPORT_ENV]: 'sdk' },
    );
    await world.reset();
    const started = process.hrtime.bigint();
    for (let index = 0; index < n; index++) {
      await getSecret(backend, { name: nameOf(index) });
    }
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    return { ms, cpuMs: undefined, serverCpuMs: undefined, counts: await world.counts(path) };
  };

  const paths = pathsOf(options.delayMs);
  const recorders = new Map<string, { credexec: Recorder; baseline: Recorder }>();
  for (const n of sizes) {
    for (const path of paths)
      recorders.set(`${n}/${path}`, { credexec: new Recorder(), baseline: new Recorder() });
  }
  for (let run = 0; run < options.warmup + options.runs; run++) {
    for (const n of sizes) {
      for (const path of paths) {
        const recorder = recorders.get(`${n}/${path}`)!;
        const tasks = [
          async () => ({ which: recorder.credexec, result: await runCredexec(n, path) }),
          ...(path === 'tls'
            ? []
            : [async () => ({ which: recorder.baseline, result: await runBaseline(n, path) })]),
        ];
        if (run % 2 === 1) tasks.reverse();
        for (const task of tasks) {
          const { which, result } = await task();
          if (run < options.warmup) continue;
          which.times.push(result.ms);
          which.counts.push(result.counts);
          if (result.cpuMs !== undefined) which.cpu.push(result.cpuMs);
          if (result.serverCpuMs !== undefined) which.serverCpu.push(result.serverCpuMs);
        }
      }
    }
  }
  closeAwsClients();

  const rows: ResolutionRow[] = [];
  const cpuPerSecret: CpuPerSecret[] = [];
  for (const path of paths) {
    const smallest = recorders.get(`${sizes[0]}/${path}`)!.credexec.measured();
    for (const n of sizes) {
      const recorder = recorders.get(`${n}/${path}`)!;
      const credexec = recorder.credexec.measured();
      const baseline = path === 'tls' ? undefined : recorder.baseline.measured();
      rows.push({
        n,
        path,
        delayMs: path === 'direct' ? 0 : options.delayMs,
        credexec,
        ...(baseline === undefined
          ? {}
          : { baseline, ratioToBaseline: credexec.time.medianMs / baseline.time.medianMs }),
        ratioToSmallest: credexec.time.medianMs / smallest.time.medianMs,
      });
    }
    const fromN = sizes[0]!;
    const toN = sizes.at(-1)!;
    const largest = recorders.get(`${toN}/${path}`)!.credexec;
    if (toN > fromN && smallest.cpuMs !== undefined && largest.cpu.length > 0) {
      const ms =
        (mean(largest.cpu) - mean(recorders.get(`${fromN}/${path}`)!.credexec.cpu)) / (toN - fromN);
      cpuPerSecret.push({ path, fromN, toN, ms: round(ms, 3) });
    }
  }
  return { isolation: world.isolation, placement: world.placement, rows, cpuPerSecret };
}

async function profileRuns(
  world: AwsWorld,
  options: Options & { profileDir?: string },
  manifests: ReadonlyMap<number, string>,
  dir: string,
): Promise<ResolutionProfile[]> {
  const profiles: ResolutionProfile[] = [];
  const profileDir = options.profileDir!;
  const path: Path = options.delayMs > 0 ? 'delayed' : 'direct';
  const { sizes } = options;
  for (const n of new Set([sizes[0]!, sizes.at(-1)!])) {
    const name = `credexec-aws-${n}-${path}-${world.isolation}.cpuprofile`;
    await timeSpawn(
      process.execPath,
      [
        '--cpu-prof',
        `--cpu-prof-dir=${profileDir}`,
        `--cpu-prof-name=${name}`,
        ...credexecArgs(['-m', manifests.get(n)!, '--', 'true']),
      ],
      { env: baseEnv({ ...world.env, ...world.endpoints[path] }), cwd: dir, timeoutMs: 60_000 },
    );
    const file = join(profileDir, name);
    profiles.push({ n, path, isolation: world.isolation, file, ...summarizeProfile(file) });
  }
  return profiles;
}
