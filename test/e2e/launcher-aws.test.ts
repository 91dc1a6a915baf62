import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import type { Backend } from '../../src/backends/backend.js';
import { putSecret } from '../../src/secrets/put-secret.js';
import { startAwsFixture, type AwsFixture } from '../support/aws-fixture.js';
import { cleanEnv, runCli } from '../support/cli.js';
import { startCli } from '../support/launcher.js';

// Request counts are per fixture, so these tests share one and run one after another.
let fixture: AwsFixture;
let backend: Backend;
let dir: string;
const PINNED = 150;
const LATEST = 50;

test.before(async () => {
  fixture = await startAwsFixture();
  backend = await fixture.openBackend();
  dir = mkdtempSync(join(tmpdir(), 'credexec-launch-aws-'));
  await Promise.all(
    Array.from({ length: Math.max(PINNED, LATEST) }, (_, i) =>
      putSecret(backend, { name: `secret-${i}`, value: `value-${i}`, version: '1' }),
    ),
  );
  await Promise.all(
    Array.from({ length: LATEST }, (_, i) =>
      putSecret(backend, { name: `secret-${i}`, value: `latest-${i}`, version: '2' }),
    ),
  );
});

test.after.always(async () => {
  rmSync(dir, { recursive: true, force: true });
  await fixture?.stop();
});

/** Run the real bin on a manifest of `count` entries; the child prints a digest of what it got. */
async function launch(name: string, lines: string[]) {
  writeFileSync(join(dir, name), `${lines.join('\n')}\n`);
  const script =
    "const v = Object.keys(process.env).filter((k) => k.startsWith('VAR_')).sort(); console.log(v.length + ' ' + v.map((k) => process.env[k]).join(','))";
  fixture.resetCounters();
  return startCli(['-m', name, '--', process.execPath, '-e', script], {
    env: cleanEnv(fixture.env),
    cwd: dir,
  }).result;
}

test.serial('50 pinned entries take one BatchGetItem and 50 parallel Decrypts', async (t) => {
  const lines = Array.from({ length: 50 }, (_, i) => `VAR_${i}=secret-${i}@1`);
  // A real round trip's worth of latency, so that parallel requests actually overlap.
  fixture.kms.setLatency(20);
  t.teardown(() => fixture.kms.clearFaults());
  const result = await launch('pinned.env', lines);
  t.is(result.exitCode, 0, result.stderr);
  t.true(result.stdout.startsWith('50 value-'));
  t.is(fixture.dynamodb.count('BatchGetItem'), 1);
  t.is(fixture.dynamodb.count('Query'), 0);
  t.is(fixture.dynamodb.count('GetItem'), 0);
  t.is(fixture.kms.count('Decrypt'), 50);
  // All 50 at once on an idle machine (the default bound is 64); a loaded CI box may overlap
  // fewer. The exact bound is pinned down by the resolver's unit tests, which count without a
  // network.
  t.true(
    fixture.kms.peakInFlight > 1,
    `peak ${fixture.kms.peakInFlight}: decrypts run in parallel`,
  );
  t.true(
    fixture.kms.peakInFlight <= 50,
    `peak ${fixture.kms.peakInFlight}: never more than there are secrets`,
  );
});

test.serial('--concurrency bounds the Decrypts in flight', async (t) => {
  const lines = Array.from({ length: 20 }, (_, i) => `VAR_${i}=secret-${i}@1`);
  fixture.kms.setLatency(20);
  t.teardown(() => fixture.kms.clearFaults());
  writeFileSync(join(dir, 'bounded.env'), `${lines.join('\n')}\n`);
  fixture.resetCounters();
  const result = await startCli(['-m', 'bounded.env', '--concurrency', '4', '--', 'true'], {
    env: cleanEnv(fixture.env),
    cwd: dir,
  }).result;
  t.is(result.exitCode, 0, result.stderr);
  t.is(fixture.kms.count('Decrypt'), 20);
  t.true(fixture.kms.peakInFlight > 1, `peak ${fixture.kms.peakInFlight}`);
  t.true(fixture.kms.peakInFlight <= 4, `peak ${fixture.kms.peakInFlight}: --concurrency 4 holds`);
});

test.serial('50 latest entries take 50 Queries and 50 Decrypts', async (t) => {
  const lines = Array.from({ length: LATEST }, (_, i) => `VAR_${i}=secret-${i}`);
  const result = await launch('latest.env', lines);
  t.is(result.exitCode, 0, result.stderr);
  t.true(result.stdout.startsWith('50 latest-'));
  t.is(fixture.dynamodb.count('Query'), 50);
  t.is(fixture.dynamodb.count('BatchGetItem'), 0);
  t.is(fixture.kms.count('Decrypt'), 50);
});

test.serial(
  '150 pinned entries take two BatchGetItems and unprocessed keys are retried',
  async (t) => {
    const lines = Array.from({ length: PINNED }, (_, i) => `VAR_${i}=secret-${i}@1`);
    const plain = await launch('many.env', lines);
    t.is(plain.exitCode, 0, plain.stderr);
    t.is(fixture.dynamodb.count('BatchGetItem'), 2);
    fixture.dynamodb.leaveUnprocessed(1, 10);
    const retried = await launch('many.env', lines);
    t.is(retried.exitCode, 0, retried.stderr);
    t.true(retried.stdout.startsWith('150 '));
    t.is(fixture.dynamodb.count('BatchGetItem'), 3);
    t.is(fixture.kms.count('Decrypt'), 150);
  },
);

test.serial('duplicate references are fetched and decrypted once', async (t) => {
  const lines = Array.from({ length: 20 }, (_, i) => `VAR_${i}=secret-${i % 2}`);
  const result = await launch('dupes.env', lines);
  t.is(result.exitCode, 0, result.stderr);
  t.is(fixture.dynamodb.count('Query'), 2);
  t.is(fixture.kms.count('Decrypt'), 2);
});

test.serial(
  'a SIGTERM while secrets are being decrypted stops credexec at once and starts nothing',
  async (t) => {
    fixture.kms.setLatency(5_000);
    t.teardown(() => fixture.kms.clearFaults());
    const marker = join(dir, 'started');
    writeFileSync(join(dir, 'slow.env'), 'VAR_0=secret-0\nVAR_1=secret-1\n');
    fixture.resetCounters();
    const cli = startCli(['-m', 'slow.env', '--', 'touch', marker], {
      env: cleanEnv(fixture.env),
      cwd: dir,
    });
    for (let waited = 0; fixture.kms.count('Decrypt') === 0 && waited < 10_000; waited += 20) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    t.true(fixture.kms.count('Decrypt') > 0, 'credexec is waiting on KMS');
    const signalled = Date.now();
    cli.process.kill('SIGTERM');
    const result = await cli.result;
    t.is(result.signal, 'SIGTERM');
    t.true(Date.now() - signalled < 2_000, 'it did not wait for the slow KMS answers');
    t.false(existsSync(marker), 'the command never started');
  },
);

test.serial('credexec holds no connection to DynamoDB or KMS while the command runs', async (t) => {
  const lines = Array.from({ length: 30 }, (_, i) => `VAR_${i}=secret-${i}`);
  writeFileSync(join(dir, 'sockets.env'), `${lines.join('\n')}\n`);
  fixture.kms.setLatency(20);
  t.teardown(() => fixture.kms.clearFaults());
  // The child counts its parent's (credexec's) open sockets above stdio, which the test harness
  // connects through socket pairs.
  // credexec closes them right after starting the command: look a moment later.
  const script = "sleep 0.3; ls -l /proc/$PPID/fd | awk '$9 > 2 && /socket:/' | wc -l";
  fixture.resetCounters();
  const result = await startCli(['-m', 'sockets.env', '--', 'sh', '-c', script], {
    env: cleanEnv(fixture.env),
    cwd: dir,
  }).result;
  t.is(result.exitCode, 0, result.stderr);
  t.is(fixture.kms.count('Decrypt'), 30, 'the secrets were fetched over the network');
  t.is(result.stdout.trim(), '0');
});

test.serial(
  'reads go through credexec’s own transport, or all through the SDK when asked',
  async (t) => {
    const lines = [
      ...Array.from({ length: 5 }, (_, i) => `VAR_${i}=secret-${i}`),
      'VAR_P=secret-9@1',
    ];
    const agents = () =>
      [
        ...new Set(
          [...fixture.dynamodb.callers, ...fixture.kms.callers].map(
            (caller) => `${caller.operation} ${caller.userAgent?.split('/')[0]}`,
          ),
        ),
      ].sort();

    const direct = await launch('transport.env', lines);
    t.is(direct.exitCode, 0, direct.stderr);
    t.deepEqual(agents(), ['BatchGetItem credexec', 'Decrypt credexec', 'Query credexec']);

    writeFileSync(join(dir, 'transport.env'), `${lines.join('\n')}\n`);
    fixture.resetCounters();
    const viaSdk = await startCli(
      [
        '-m',
        'transport.env',
        '--',
        process.execPath,
        '-e',
        'console.log(process.env.VAR_4, process.env.VAR_P)',
      ],
      { env: cleanEnv({ ...fixture.env, CREDEXEC_AWS_TRANSPORT: 'sdk' }), cwd: dir },
    ).result;
    t.is(viaSdk.exitCode, 0, viaSdk.stderr);
    t.is(viaSdk.stderr, '');
    t.is(viaSdk.stdout, 'latest-4 value-9\n');
    t.deepEqual(agents(), ['BatchGetItem aws-sdk-js', 'Decrypt aws-sdk-js', 'Query aws-sdk-js']);
    t.true(direct.stdout.startsWith('6 latest-0,latest-1,latest-2,latest-3,latest-4,value-9'));
  },
);

test.serial(
  'a throttled Decrypt is retried after a backoff and the command still runs',
  async (t) => {
    // With one secret the backoff timer is all that is pending: it must keep credexec alive.
    fixture.kms.throttleNext(2);
    t.teardown(() => fixture.kms.clearFaults());
    const result = await launch('throttled.env', ['VAR_T=secret-3@1']);
    t.is(result.exitCode, 0, result.stderr);
    t.is(result.stderr, '');
    t.is(result.stdout, '1 value-3\n');
    t.is(fixture.kms.count('Decrypt'), 3);
  },
);

test.serial(
  'context keys named like Object.prototype members reach KMS through the SDK and credexec’s transport',
  async (t) => {
    const keys = ['__proto__', 'constructor', 'toString', 'hasOwnProperty'];
    for (const [index, key] of keys.entries()) {
      const name = `proto-${index}`;
      const cli = (args: string[], extra: Record<string, string> = {}) =>
        runCli(args, { env: cleanEnv({ ...fixture.env, ...extra }), cwd: dir });
      fixture.resetCounters();
      const put = await cli(['put', name, `value-${index}`, `${key}=x`]);
      t.is(put.exitCode, 0, put.stderr);
      const sent = fixture.kms.requests.find((request) => request.operation === 'GenerateDataKey');
      const context = sent?.body.EncryptionContext as Record<string, string>;
      t.true(Object.hasOwn(context, key), `the SDK sent ${key}`);
      t.is(context[key], 'x');
      for (const transport of ['auto', 'sdk']) {
        const withContext = await cli(['get', name, `${key}=x`], {
          CREDEXEC_AWS_TRANSPORT: transport,
        });
        t.is(withContext.stdout, `value-${index}\n`, `${key} ${transport}: ${withContext.stderr}`);
        const without = await cli(['get', name], { CREDEXEC_AWS_TRANSPORT: transport });
        t.is(without.exitCode, 1, `${key} ${transport}`);
        t.regex(without.stderr, /^credexec: cannot decrypt credential "proto-\d" version /);
      }
      writeFileSync(
        join(dir, 'proto.json'),
        JSON.stringify({ VAR_P: { name, context: Object.fromEntries([[key, 'x']]) } }),
      );
      fixture.resetCounters();
      const launched = await startCli(
        ['-m', 'proto.json', '--', process.execPath, '-e', 'console.log(process.env.VAR_P)'],
        { env: cleanEnv(fixture.env), cwd: dir },
      ).result;
      t.is(launched.exitCode, 0, launched.stderr);
      t.is(launched.stdout, `value-${index}\n`);
      const decrypt = fixture.kms.requests.find((request) => request.operation === 'Decrypt');
      t.true(Object.hasOwn(decrypt?.body.EncryptionContext as object, key), `direct sent ${key}`);
    }
  },
);
