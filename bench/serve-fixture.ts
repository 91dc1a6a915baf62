/**
 * Serve the bench's aws world from its own process, for profiling credexec by hand:
 * `node --import tsx bench/serve-fixture.ts [N] [DELAY_MS]` prints an env file to source and a
 * manifest path, then serves until interrupted. Keeping the servers out of the measuring process
 * lets `time`, `--cpu-prof` and `perf` see credexec's own cost.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAwsFixture } from '../test/support/aws-fixture.js';
import { startDelayProxy } from './delay-proxy.js';
import { seedSecrets, writeManifest } from './resolution.js';

const n = Number(process.argv[2] ?? 100);
const delayMs = Number(process.argv[3] ?? 20);
const fixture = await startAwsFixture();
const dynamodb = await startDelayProxy(fixture.dynamodb.endpoint, delayMs);
const kms = await startDelayProxy(fixture.kms.endpoint, delayMs);
await seedSecrets(fixture, n);
const dir = mkdtempSync(join(tmpdir(), 'credexec-serve-'));
const env = {
  ...fixture.env,
  AWS_ENDPOINT_URL_DYNAMODB: dynamodb.endpoint,
  AWS_ENDPOINT_URL_KMS: kms.endpoint,
};
const envFile = join(dir, 'env.sh');
writeFileSync(
  envFile,
  Object.entries(env)
    .map(([key, value]) => `export ${key}='${value}'\n`)
    .join('') +
    `export DIRECT_DYNAMODB='${fixture.dynamodb.endpoint}' DIRECT_KMS='${fixture.kms.endpoint}'\n`,
);
const sizes = [1, 10, 50, 100].filter((size) => size <= n);
for (const size of sizes) writeManifest(dir, size);
console.log(`env: ${envFile}\nmanifests: ${dir}/manifest-{${sizes.join(',')}}.env`);
const report = () => {
  console.log(
    `dynamodb ${fixture.dynamodb.count()} (peak ${dynamodb.peakInFlight}), kms ${fixture.kms.count()} (peak ${kms.peakInFlight})`,
  );
  fixture.resetCounters();
  dynamodb.resetCounters();
  kms.resetCounters();
};
process.on('SIGUSR2', report);
process.on('SIGINT', () => {
  void Promise.allSettled([dynamodb.close(), kms.close(), fixture.stop()]).then(() =>
    process.exit(0),
  );
});
