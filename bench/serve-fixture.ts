/**
 * Serve the bench's aws world from its own process, for profiling credexec by hand:
 * `node --import tsx bench/serve-fixture.ts [N] [DELAY_MS] [replay]` prints an env file to source and a
 * manifest path, then serves until interrupted. Keeping the servers out of the measuring process
 * lets `time`, `--cpu-prof` and `perf` see credexec's own cost; start it under `taskset -c 1` and
 * credexec under `taskset -c 0` to keep them off each other's core, as `npm run bench` does.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAwsServers, writeManifest } from './aws-servers.js';

const n = Number(process.argv[2] ?? 100);
const delayMs = Number(process.argv[3] ?? 20);
// `replay`: the delay proxies answer repeated requests from a recording (see DelayProxy).
const servers = await startAwsServers(delayMs, process.argv[4] === 'replay');
await servers.seed(n);
const dir = mkdtempSync(join(tmpdir(), 'credexec-serve-'));
const env = { ...servers.env, ...servers.endpoints.delayed };
const envFile = join(dir, 'env.sh');
const exports = (variables: Readonly<Record<string, string>>) =>
  Object.entries(variables)
    .map(([key, value]) => `export ${key}='${value}'\n`)
    .join('');
writeFileSync(
  envFile,
  exports(env) +
    `export DIRECT_DYNAMODB='${servers.endpoints.direct.AWS_ENDPOINT_URL_DYNAMODB}' DIRECT_KMS='${servers.endpoints.direct.AWS_ENDPOINT_URL_KMS}'\n`,
);
const tlsFile = join(dir, 'env-tls.sh');
writeFileSync(tlsFile, exports(servers.endpoints.tls));
const sizes = [1, 10, 50, 100].filter((size) => size <= n);
for (const size of sizes) writeManifest(dir, size);
console.log(
  `env: ${envFile} (then ${tlsFile} for HTTPS)\nmanifests: ${dir}/manifest-{${sizes.join(',')}}.env`,
);
const report = () => {
  const { dynamodbTotal, kmsTotal, peakDynamodb, peakKms } = servers.counts('delayed');
  console.log(
    `dynamodb ${dynamodbTotal} (peak ${peakDynamodb}), kms ${kmsTotal} (peak ${peakKms})`,
  );
  servers.resetCounters();
};
process.on('SIGUSR2', report);
process.on('SIGINT', () => {
  void servers.close().then(() => process.exit(0));
});
