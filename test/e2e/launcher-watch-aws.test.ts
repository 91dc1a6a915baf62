import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import type { Backend } from '../../src/backends/backend.js';
import { deleteSecrets } from '../../src/secrets/manage-secrets.js';
import { putSecret } from '../../src/secrets/put-secret.js';
import { startAwsFixture, type AwsFixture } from '../support/aws-fixture.js';
import { cleanEnv } from '../support/cli.js';
import { SERVICE, startWatching, starts } from '../support/watch-cli.js';

/**
 * `credexec --watch` through the real bin against DynamoDB (dynalite) and KMS (the test server),
 * on credexec's own transport and on the SDK's. The fixture's counters are shared: one test at
 * a time.
 */
let fixture: AwsFixture;
let backend: Backend;
let dir: string;
const V = (n: number) => n.toString().padStart(19, '0');
const TRANSPORTS = ['auto', 'sdk'] as const;

test.before(async () => {
  fixture = await startAwsFixture();
  backend = await fixture.openBackend();
  dir = mkdtempSync(join(tmpdir(), 'credexec-watch-aws-'));
});

test.after.always(async () => {
  rmSync(dir, { recursive: true, force: true });
  await fixture?.stop();
});

/** A watching credexec, killed when the test ends, however it ends. */
function start(
  t: { teardown(fn: () => void): void },
  manifest: string,
  transport: (typeof TRANSPORTS)[number],
  extra: string[] = [],
) {
  return startWatching(
    t,
    ['-m', manifest, '--watch=150ms', ...extra, '--', 'node', '-e', SERVICE],
    {
      env: cleanEnv({ ...fixture.env, CREDEXEC_AWS_TRANSPORT: transport, XDG_RUNTIME_DIR: dir }),
      cwd: dir,
    },
  );
}

for (const transport of TRANSPORTS) {
  test.serial(
    `${transport} transport: an idle poll is one Query per watched credential, of its name and version only, and no KMS call`,
    async (t) => {
      const prefix = `idle-${transport}`;
      for (let i = 0; i < 5; i++)
        await putSecret(backend, { name: `${prefix}.${i}`, value: `v-${i}`, version: '1' });
      const lines = [
        ...Array.from({ length: 5 }, (_, i) => `VAR_${i}=${prefix}.${i}`),
        `DB=${prefix}.0`,
        `PINNED=${prefix}.1@1`,
      ];
      writeFileSync(join(dir, `${prefix}.env`), `${lines.join('\n')}\n`);
      const { started, run } = start(t, `${prefix}.env`, transport);
      await run.until((seen) => starts(seen).length === 1, 'the start');
      // Resolution is over: from here on, only polls.
      await sleep(100);
      fixture.resetCounters();
      await sleep(1_200);
      started.process.kill('SIGTERM');
      const result = await started.result;
      t.is(result.exitCode, 0, result.stderr);
      t.is(result.stderr, '');
      const queries = fixture.dynamodb.requests.filter(({ operation }) => operation === 'Query');
      t.is(fixture.dynamodb.count(), queries.length, 'nothing but Query');
      t.is(fixture.kms.count(), 0, 'no KMS call at all');
      const polled = new Map<string, number>();
      for (const { body } of queries) {
        t.like(body, {
          ProjectionExpression: '#n, #v',
          ExpressionAttributeNames: { '#n': 'name', '#v': 'version' },
          ScanIndexForward: false,
          Limit: 1,
          ConsistentRead: true,
        });
        const name = (body.ExpressionAttributeValues as { ':name': { S: string } })[':name'].S;
        polled.set(name, (polled.get(name) ?? 0) + 1);
      }
      // Each poll reads the 5 credentials read at their latest version once each (DB shares one).
      t.deepEqual(
        [...polled.keys()].sort(),
        Array.from({ length: 5 }, (_, i) => `${prefix}.${i}`),
      );
      const counts = [...polled.values()];
      t.true(Math.min(...counts) >= 3, `at least 3 polls in 1.2 s: ${counts.join(',')}`);
      t.true(Math.max(...counts) - Math.min(...counts) <= 1, `whole polls: ${counts.join(',')}`);
    },
  );

  test.serial(
    `${transport} transport: a put and then a rollback by delete each reach the command by a restart`,
    async (t) => {
      const name = `rotate-${transport}`;
      await putSecret(backend, { name, value: 'rotate-one', version: '1' });
      writeFileSync(join(dir, `${name}.env`), `DB=${name}\n`);
      const { started, run } = start(t, `${name}.env`, transport);
      await run.until((seen) => starts(seen).length === 1, 'the start');
      const put = Date.now();
      await putSecret(backend, { name, value: 'rotate-two', version: '2' });
      await run.until((seen) => starts(seen).length === 2, 'the restart');
      t.true(Date.now() - put < 5_000);
      await deleteSecrets(backend, { name, version: '2' });
      const seen = await run.until((lines) => starts(lines).length === 3, 'the rollback');
      t.deepEqual(
        starts(seen).map(({ DB }) => DB),
        ['rotate-one', 'rotate-two', 'rotate-one'],
      );
      started.process.kill('SIGTERM');
      const result = await started.result;
      t.is(result.exitCode, 0);
      t.is(
        result.stderr,
        [
          `credexec: DB: ${name} ${V(1)} -> ${V(2)}; restarting (SIGTERM)`,
          `credexec: DB: ${name} ${V(2)} -> ${V(1)}; restarting (SIGTERM)`,
          '',
        ].join('\n'),
      );
    },
  );
}

test.serial(
  'a new version KMS will not decrypt causes no restart, says so, and is applied once KMS allows it',
  async (t) => {
    const name = 'denied';
    await putSecret(backend, { name, value: 'denied-one', version: '1' });
    writeFileSync(join(dir, 'denied.env'), `DB=${name}\n`);
    const { started, run } = start(t, 'denied.env', 'auto');
    await run.until((seen) => starts(seen).length === 1, 'the start');
    fixture.kms.deny('Decrypt');
    t.teardown(() => fixture.kms.clearFaults());
    await putSecret(backend, { name, value: 'denied-two', version: '2' });
    await run.untilStderr((text) => text.split('\n').length > 2, 'two failed polls');
    t.is(starts(run.lines()).length, 1);
    const [first] = run.stderr.split('\n');
    t.regex(
      first!,
      /^credexec: DB: cannot apply the new version of denied: .*access.*denied.*; the command keeps running; retrying at the next poll$/i,
    );
    fixture.kms.deny('Decrypt', false);
    const seen = await run.until((lines) => starts(lines).length === 2, 'the restart');
    t.is(seen.at(-1)!.DB, 'denied-two');
    started.process.kill('SIGTERM');
    const result = await started.result;
    t.is(result.exitCode, 0);
    t.is(
      result.stderr
        .split('\n')
        .filter((line) => line !== '')
        .at(-1),
      `credexec: DB: denied ${V(1)} -> ${V(2)}; restarting (SIGTERM)`,
    );
    t.false(result.stderr.includes('denied-one'));
    t.false(result.stderr.includes('denied-two'));
  },
);
