import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAwsFixture, type AwsFixture } from '../test/support/aws-fixture.js';
import { BIN, baseEnv, round, sample, type Env, type Sample } from './lib.js';
import { seedSecrets, writeManifest } from './aws-servers.js';
import { startThrottleProxy, type ThrottleProxy } from './throttle-proxy.js';

/**
 * A fleet restarting at once (chamber #34): `launches` concurrent `credexec -- true`, each
 * resolving `secrets` latest versions (one Query each), against a DynamoDB that throttles like a
 * token bucket (`burst` requests at once, refilled at `perSecond`), with the default retries.
 * Three waves: the store not throttling (reference), throttling without a fallback, and
 * throttling with a warm fallback file per launch. Reported: how many started, how many were
 * refused (exit 125), how many started from the fallback, the wave's wall time, each launch's
 * time, and what DynamoDB saw.
 */
export type Wave = 'unthrottled' | 'throttled' | 'throttled, warm fallback';

export interface WaveResult {
  readonly wave: Wave;
  readonly launches: number;
  readonly started: number;
  readonly refused: number;
  /** Started with at least one secret from the fallback (its warning on stderr). */
  readonly fromFallback: number;
  /** From the first spawn to the last exit. */
  readonly wallMs: number;
  readonly launchMs: Sample;
  readonly dynamodbRequests: number;
  readonly throttledRequests: number;
}

export interface FallbackResult {
  readonly launches: number;
  readonly secrets: number;
  readonly bucket: { readonly burst: number; readonly perSecond: number };
  readonly waves: readonly WaveResult[];
}

interface Launch {
  readonly code: number | null;
  readonly ms: number;
  readonly stderr: string;
}

function launch(args: readonly string[], env: Env, cwd: string): Promise<Launch> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [BIN, ...args], {
      env,
      cwd,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const stderr: Buffer[] = [];
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({
        code,
        ms: performance.now() - started,
        stderr: Buffer.concat(stderr).toString('utf8'),
      });
    });
  });
}

export async function benchFallback(options: {
  launches: number;
  secrets: number;
  burst: number;
  perSecond: number;
}): Promise<FallbackResult> {
  const dir = mkdtempSync(join(tmpdir(), 'credexec-bench-fallback-'));
  let fixture: AwsFixture | undefined;
  let proxy: ThrottleProxy | undefined;
  try {
    fixture = await startAwsFixture();
    await seedSecrets(fixture, options.secrets);
    const manifest = writeManifest(dir, options.secrets);
    const bucket = { burst: options.burst, perSecond: options.perSecond };
    proxy = await startThrottleProxy(fixture.dynamodb.endpoint, bucket);
    const direct = baseEnv(fixture.env);
    const throttling = baseEnv({ ...fixture.env, AWS_ENDPOINT_URL_DYNAMODB: proxy.endpoint });
    const fallbackOf = (index: number) => join(dir, `fallback-${index}.json`);

    // One start from the store writes the fallback every instance would have from its last start.
    const warm = await launch(
      ['-m', manifest, '--fallback', fallbackOf(0), '--', 'true'],
      direct,
      dir,
    );
    if (warm.code !== 0) throw new Error(`warming the fallback failed: ${warm.stderr.trim()}`);
    for (let index = 1; index < options.launches; index++)
      copyFileSync(fallbackOf(0), fallbackOf(index));

    const waves: WaveResult[] = [];
    for (const wave of ['unthrottled', 'throttled', 'throttled, warm fallback'] as const) {
      proxy.reset();
      fixture.resetCounters();
      const env = wave === 'unthrottled' ? direct : throttling;
      const began = performance.now();
      const results = await Promise.all(
        Array.from({ length: options.launches }, (_, index) =>
          launch(
            [
              '-m',
              manifest,
              ...(wave === 'throttled, warm fallback' ? ['--fallback', fallbackOf(index)] : []),
              '--',
              'true',
            ],
            env,
            dir,
          ),
        ),
      );
      const wallMs = performance.now() - began;
      const unexpected = results.find((result) => result.code !== 0 && result.code !== 125);
      if (unexpected !== undefined)
        throw new Error(`a launch exited ${unexpected.code}: ${unexpected.stderr.trim()}`);
      waves.push({
        wave,
        launches: options.launches,
        started: results.filter((result) => result.code === 0).length,
        refused: results.filter((result) => result.code === 125).length,
        fromFallback: results.filter(
          (result) =>
            result.code === 0 && result.stderr.startsWith('credexec: warning: using the fallback'),
        ).length,
        wallMs: round(wallMs),
        launchMs: sample(results.map((result) => result.ms)),
        dynamodbRequests: wave === 'unthrottled' ? fixture.dynamodb.count() : proxy.requests,
        throttledRequests: proxy.throttled,
      });
    }
    return { launches: options.launches, secrets: options.secrets, bucket, waves };
  } finally {
    await proxy?.close();
    await fixture?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
