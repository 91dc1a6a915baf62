import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { baseEnv, credexecArgs, median, parseProcStatus, timeSpawn, type Env } from './lib.js';
import { writeManifest } from './aws-servers.js';
import { startAwsWorld, type AwsWorld, type Isolation, type Placement } from './aws-world.js';
import { createLocalWorld } from './startup.js';

export interface RssSample {
  /** Median VmRSS (resident now) in KiB. */
  readonly vmRssKb: number;
  /** Median VmHWM (peak resident over the process's life) in KiB. */
  readonly vmHwmKb: number;
  readonly samples: readonly { vmRssKb: number; vmHwmKb: number }[];
}

export interface MemoryResult {
  readonly runs: number;
  readonly holdMs: number;
  /** `node -e "setTimeout(()=>{},HOLD)"`, read from outside shortly before it exits. */
  readonly idleNode: RssSample;
  /** credexec (local backend, 1 secret) while its child runs, read by the child. */
  readonly localOneSecret: RssSample;
  /** credexec (aws backend, N secrets, no added delay) while its child runs. */
  readonly aws: RssSample & { readonly n: number };
  /** Where the aws world ran (see `Isolation`); the idle node and local runs sit with credexec. */
  readonly isolation: Isolation;
  readonly placement: Placement;
  readonly ratioLocalRss: number;
  readonly ratioLocalHwm: number;
  readonly ratioAwsRss: number;
  readonly ratioAwsHwm: number;
}

function summarize(samples: { vmRssKb: number; vmHwmKb: number }[]): RssSample {
  return {
    vmRssKb: median(samples.map((entry) => entry.vmRssKb)),
    vmHwmKb: median(samples.map((entry) => entry.vmHwmKb)),
    samples,
  };
}

/** Start an idle node, read its /proc status `holdMs - 50` ms later, wait for it to exit. */
export async function idleNode(holdMs: number): Promise<{ vmRssKb: number; vmHwmKb: number }> {
  const child = spawn(process.execPath, ['-e', `setTimeout(() => {}, ${holdMs})`], {
    stdio: 'ignore',
    env: baseEnv(),
  });
  const exited = new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', () => resolve());
  });
  try {
    await sleep(Math.max(holdMs - 50, 10));
    return parseProcStatus(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
  } finally {
    await exited;
  }
}

/** credexec's own /proc status as seen by its child (`$PPID` of `sh` is credexec). */
async function credexecResident(
  manifest: string,
  env: Env,
  cwd: string,
  holdMs: number,
): Promise<{ vmRssKb: number; vmHwmKb: number }> {
  const script = `sleep ${(holdMs / 1000).toFixed(3)}; cat /proc/$PPID/status`;
  const { stdout } = await timeSpawn(
    process.execPath,
    credexecArgs(['-m', manifest, '--', 'sh', '-c', script]),
    { env, cwd, timeoutMs: 60_000 },
  );
  return parseProcStatus(stdout);
}

export async function benchMemory(options: {
  runs: number;
  holdMs: number;
  awsSecrets: number;
  isolation: Isolation;
}): Promise<MemoryResult> {
  const world = await createLocalWorld();
  const dir = mkdtempSync(join(tmpdir(), 'credexec-bench-mem-'));
  let servers: AwsWorld | undefined;
  try {
    servers = await startAwsWorld(options.isolation, 0);
    await servers.seed(options.awsSecrets);
    const awsManifest = writeManifest(dir, options.awsSecrets);
    const awsEnv = baseEnv({ ...servers.env, ...servers.endpoints.direct });
    const idle: { vmRssKb: number; vmHwmKb: number }[] = [];
    const local: { vmRssKb: number; vmHwmKb: number }[] = [];
    const aws: { vmRssKb: number; vmHwmKb: number }[] = [];
    for (let run = 0; run < options.runs; run++) {
      idle.push(await idleNode(options.holdMs));
      local.push(await credexecResident(world.oneManifest, world.env, world.dir, options.holdMs));
      aws.push(await credexecResident(awsManifest, awsEnv, dir, options.holdMs));
    }
    const idleNodeSample = summarize(idle);
    const localSample = summarize(local);
    const awsSample = summarize(aws);
    return {
      runs: options.runs,
      holdMs: options.holdMs,
      idleNode: idleNodeSample,
      localOneSecret: localSample,
      aws: { ...awsSample, n: options.awsSecrets },
      isolation: servers.isolation,
      placement: servers.placement,
      ratioLocalRss: localSample.vmRssKb / idleNodeSample.vmRssKb,
      ratioLocalHwm: localSample.vmHwmKb / idleNodeSample.vmHwmKb,
      ratioAwsRss: awsSample.vmRssKb / idleNodeSample.vmRssKb,
      ratioAwsHwm: awsSample.vmHwmKb / idleNodeSample.vmHwmKb,
    };
  } finally {
    await servers?.close();
    world.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}
