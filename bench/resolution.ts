import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { closeAwsClients, TRANSPORT_ENV } from '../src/backends/aws.js';
import { putSecret } from '../src/secrets/put-secret.js';
import { getSecret } from '../src/secrets/read-secrets.js';
import { createLimiter } from '../src/util/concurrency.js';
import { startAwsFixture, type AwsFixture } from '../test/support/aws-fixture.js';
import { startDelayProxy, type DelayProxy } from './delay-proxy.js';
import { withCpu } from './cpu.js';
import { summarizeProfile, type ProfileShare } from './profile.js';
import { baseEnv, credexecArgs, median, round, sample, timeSpawn, type Sample } from './lib.js';

/** `tls`: through the delay proxy over HTTPS, as credexec reaches AWS (handshakes included). */
export type Path = 'direct' | 'delayed' | 'tls';

export interface RequestCounts {
  readonly query: number;
  readonly batchGetItem: number;
  readonly dynamodbTotal: number;
  readonly decrypt: number;
  readonly kmsTotal: number;
  /** Highest number of DynamoDB / KMS requests in flight at once (at the first hop). */
  readonly peakDynamodb: number;
  readonly peakKms: number;
  /** Connections (TLS handshakes on the tls path) opened to the delay proxies; not on direct. */
  readonly connectionsDynamodb?: number;
  readonly connectionsKms?: number;
}

export interface Measured {
  readonly time: Sample;
  /**
   * Median CPU time (user + system) of the credexec process, in ms: next to the wall time it
   * shows whether a run waited on the network or was busy computing. Not for the in-process
   * baseline.
   */
  readonly cpuMs?: number;
  /** Median CPU time the in-process test servers and proxies spent meanwhile, in ms. */
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

/** A `--cpu-prof` profile of one extra credexec run, summarized by category. */
export interface ResolutionProfile {
  readonly n: number;
  readonly path: Path;
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
  readonly rows: readonly ResolutionRow[];
}

// A self-signed certificate for 127.0.0.1 (test-only), for the tls path.
const TLS_CERT = fileURLToPath(new URL('../test/support/tls/localhost.crt', import.meta.url));
const TLS_KEY = fileURLToPath(new URL('../test/support/tls/localhost.key', import.meta.url));

const nameOf = (index: number) => `bench.secret.${String(index).padStart(4, '0')}`;
const variableOf = (index: number) => `BENCH_SECRET_${String(index).padStart(4, '0')}`;

/** Put secrets 0…n-1 (one version each) into the fixture's table. */
export async function seedSecrets(fixture: AwsFixture, n: number): Promise<void> {
  const backend = await fixture.openBackend();
  const limit = createLimiter(16);
  await Promise.all(
    Array.from({ length: n }, (_, index) =>
      limit(() =>
        putSecret(backend, { name: nameOf(index), value: `value-${index}-${'v'.repeat(24)}` }),
      ),
    ),
  );
  fixture.resetCounters();
}

/** A dotenv manifest naming secrets 0…n-1 (latest versions). */
export function writeManifest(dir: string, n: number): string {
  const path = join(dir, `manifest-${n}.env`);
  const lines = Array.from({ length: n }, (_, index) => `${variableOf(index)}=${nameOf(index)}\n`);
  writeFileSync(path, lines.join(''));
  return path;
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

class Recorder {
  readonly times: number[] = [];
  readonly cpu: number[] = [];
  readonly serverCpu: number[] = [];
  readonly counts: RequestCounts[] = [];

  measured(): Measured {
    const first = this.counts[0]!;
    return {
      time: sample(this.times),
      ...(this.cpu.length === 0 ? {} : { cpuMs: round(median(this.cpu)) }),
      ...(this.serverCpu.length === 0 ? {} : { serverCpuMs: round(median(this.serverCpu)) }),
      counts: first,
      countsStable: this.counts.every((counts) => sameCounts(counts, first)),
    };
  }
}

/**
 * `credexec -- true` with N secrets (latest versions) on the aws backend against dynalite and the
 * test KMS, directly and through a delay proxy on both services; next to a sequential baseline
 * (one Query, then one Decrypt, per secret) in the same run.
 */
export async function benchResolution(options: {
  runs: number;
  warmup: number;
  sizes: readonly number[];
  delayMs: number;
  /** Also profile one run each of the smallest and largest N (slowest path) into this directory. */
  profileDir?: string;
}): Promise<ResolutionResult> {
  const sizes = [...options.sizes].sort((a, b) => a - b);
  const largest = sizes.at(-1) ?? 1;
  const dir = mkdtempSync(join(tmpdir(), 'credexec-bench-aws-'));
  let fixture: AwsFixture | undefined;
  const proxies: DelayProxy[] = [];
  try {
    fixture = await startAwsFixture();
    const fx = fixture;
    const dynamodbDelay = await startDelayProxy(fx.dynamodb.endpoint, options.delayMs);
    proxies.push(dynamodbDelay);
    const kmsDelay = await startDelayProxy(fx.kms.endpoint, options.delayMs);
    proxies.push(kmsDelay);
    const tls = { key: readFileSync(TLS_KEY), cert: readFileSync(TLS_CERT) };
    const dynamodbTls = await startDelayProxy(fx.dynamodb.endpoint, options.delayMs, tls);
    proxies.push(dynamodbTls);
    const kmsTls = await startDelayProxy(fx.kms.endpoint, options.delayMs, tls);
    proxies.push(kmsTls);
    const first = (path: Path) =>
      path === 'tls'
        ? { dynamodb: dynamodbTls, kms: kmsTls }
        : path === 'delayed'
          ? { dynamodb: dynamodbDelay, kms: kmsDelay }
          : undefined;

    await seedSecrets(fx, largest);
    const manifests = new Map<number, string>();
    for (const n of sizes) manifests.set(n, writeManifest(dir, n));

    const endpoints = (path: Path) => {
      const proxy = first(path);
      return proxy === undefined
        ? { AWS_ENDPOINT_URL_DYNAMODB: fx.dynamodb.endpoint, AWS_ENDPOINT_URL_KMS: fx.kms.endpoint }
        : {
            AWS_ENDPOINT_URL_DYNAMODB: proxy.dynamodb.endpoint,
            AWS_ENDPOINT_URL_KMS: proxy.kms.endpoint,
            // credexec trusts the bench's self-signed certificate the way a user would.
            ...(path === 'tls' ? { NODE_EXTRA_CA_CERTS: TLS_CERT } : {}),
          };
    };

    const reset = () => {
      fx.resetCounters();
      for (const proxy of proxies) proxy.resetCounters();
    };
    const counts = (path: Path): RequestCounts => ({
      query: fx.dynamodb.count('Query'),
      batchGetItem: fx.dynamodb.count('BatchGetItem'),
      dynamodbTotal: fx.dynamodb.count(),
      decrypt: fx.kms.count('Decrypt'),
      kmsTotal: fx.kms.count(),
      peakDynamodb: first(path)?.dynamodb.peakInFlight ?? fx.dynamodb.peakInFlight,
      peakKms: first(path)?.kms.peakInFlight ?? fx.kms.peakInFlight,
      ...(first(path) === undefined
        ? {}
        : {
            connectionsDynamodb: first(path)!.dynamodb.connections,
            connectionsKms: first(path)!.kms.connections,
          }),
    });

    const runCredexec = async (n: number, path: Path) => {
      const env = baseEnv({ ...fx.env, ...endpoints(path) });
      reset();
      const { result, childCpuMs, ownCpuMs } = await withCpu(() =>
        timeSpawn(process.execPath, credexecArgs(['-m', manifests.get(n)!, '--', 'true']), {
          env,
          cwd: dir,
          timeoutMs: 60_000,
        }),
      );
      return { ms: result.ms, cpuMs: childCpuMs, serverCpuMs: ownCpuMs, counts: counts(path) };
    };

    // The way credstash-style tools read N secrets: one after another, Query then Decrypt, through
    // the AWS SDK (as nodecredstash does). Fresh clients each run, so connections start cold as
    // they do in a new process.
    const runBaseline = async (n: number, path: Path) => {
      closeAwsClients();
      const backend = await fx.openBackend({}, { ...endpoints(path), [TRANSPORT_ENV]: 'sdk' });
      reset();
      const started = process.hrtime.bigint();
      for (let index = 0; index < n; index++) {
        await getSecret(backend, { name: nameOf(index) });
      }
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      return { ms, cpuMs: undefined, serverCpuMs: undefined, counts: counts(path) };
    };

    const paths: Path[] = options.delayMs > 0 ? ['direct', 'delayed', 'tls'] : ['direct', 'tls'];
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

    const profiles: ResolutionProfile[] = [];
    if (options.profileDir !== undefined) {
      const path: Path = options.delayMs > 0 ? 'delayed' : 'direct';
      for (const n of new Set([sizes[0]!, largest])) {
        const name = `credexec-aws-${n}-${path}.cpuprofile`;
        await timeSpawn(
          process.execPath,
          [
            '--cpu-prof',
            `--cpu-prof-dir=${options.profileDir}`,
            `--cpu-prof-name=${name}`,
            ...credexecArgs(['-m', manifests.get(n)!, '--', 'true']),
          ],
          { env: baseEnv({ ...fx.env, ...endpoints(path) }), cwd: dir, timeoutMs: 60_000 },
        );
        const file = join(options.profileDir, name);
        profiles.push({ n, path, file, ...summarizeProfile(file) });
      }
    }

    const rows: ResolutionRow[] = [];
    for (const path of paths) {
      const smallest = recorders.get(`${sizes[0]}/${path}`)!.credexec.measured().time.medianMs;
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
          ratioToSmallest: credexec.time.medianMs / smallest,
        });
      }
    }
    return {
      runs: options.runs,
      ...(profiles.length === 0 ? {} : { profiles }),
      delayMs: options.delayMs,
      sizes,
      baselineMethod:
        'in-process, sequential getSecret() per name through the AWS SDK (CREDEXEC_AWS_TRANSPORT=sdk: 1 Query, then 1 Decrypt); fresh SDK clients per run; excludes process start-up and SDK loading',
      rows,
    };
  } finally {
    closeAwsClients();
    await Promise.allSettled(proxies.map((proxy) => proxy.close()));
    await fixture?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
