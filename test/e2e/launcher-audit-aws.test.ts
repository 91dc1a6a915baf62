import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { auditRecordProblems } from '../../src/audit/audit-schema.js';
import { putSecret } from '../../src/secrets/put-secret.js';
import { startAwsFixture, type AwsFixture } from '../support/aws-fixture.js';
import { cleanEnv } from '../support/cli.js';
import { startCli } from '../support/launcher.js';

// Request counts are per fixture, so these tests share one and run one after another.
let fixture: AwsFixture;
let dir: string;
const VALUE = 'aws-audit-value-canary-Rt55';
const ARGUMENT = 'aws-audit-argument-canary-Wd09';

test.before(async () => {
  fixture = await startAwsFixture();
  const backend = await fixture.openBackend();
  dir = mkdtempSync(join(tmpdir(), 'credexec-audit-aws-'));
  await putSecret(backend, { name: 'app.db', value: 'old-aws-value', version: '1' });
  await putSecret(backend, { name: 'app.db', value: VALUE, version: '2' });
  await putSecret(backend, { name: 'app.api', value: `${VALUE}-api`, version: '1' });
  writeFileSync(join(dir, 'app.env'), 'DB=app.db\nAPI=app.api@1\n');
});

test.after.always(async () => {
  rmSync(dir, { recursive: true, force: true });
  await fixture?.stop();
});

function launch(args: string[]) {
  fixture.resetCounters();
  return startCli(args, { env: cleanEnv(fixture.env), cwd: dir }).result;
}

function readLog(t: import('ava').ExecutionContext, path: string) {
  const text = readFileSync(path, 'utf8');
  for (const canary of [VALUE, ARGUMENT, 'old-aws-value']) t.false(text.includes(canary), canary);
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const record = JSON.parse(line) as Record<string, unknown>;
      t.deepEqual(auditRecordProblems(record), [], line);
      return record;
    });
}

test.serial(
  'an aws run records the table, the KMS region, the configured key and each version',
  async (t) => {
    const log = join(dir, 'start.log');
    const result = await launch([
      '--audit-log',
      log,
      '-m',
      'app.env',
      '--',
      'sh',
      '-c',
      `test "$DB" = ${VALUE} && echo ${ARGUMENT} >/dev/null`,
    ]);
    t.is(result.exitCode, 0, result.stderr);
    const [start, end] = readLog(t, log);
    t.like(start, {
      event: 'start',
      command: 'sh',
      manifests: [join(dir, 'app.env')],
      backend: {
        name: 'aws',
        table: fixture.table,
        store: `table ${fixture.table} in ${fixture.region}`,
        keyService: `KMS in ${fixture.region}`,
        keyId: 'alias/credstash',
      },
    });
    t.deepEqual(
      (start!.entries as Record<string, unknown>[]).map(
        ({ variable, credential, requestedVersion, version, source }) => ({
          variable,
          credential,
          requestedVersion,
          version,
          source,
        }),
      ),
      [
        {
          variable: 'DB',
          credential: 'app.db',
          requestedVersion: null,
          version: '0000000000000000002',
          source: 'store',
        },
        {
          variable: 'API',
          credential: 'app.api',
          requestedVersion: '0000000000000000001',
          version: '0000000000000000001',
          source: 'store',
        },
      ],
    );
    t.like(end, { event: 'end', runId: start!.runId, exit: { code: 0, signal: null } });
  },
);

test.serial(
  'a decrypt KMS refuses is recorded as a failed entry with its reason, and exit 125',
  async (t) => {
    const log = join(dir, 'denied.log');
    fixture.kms.deny('Decrypt');
    t.teardown(() => fixture.kms.clearFaults());
    const result = await launch(['--audit-log', log, '-m', 'app.env', '--', 'true']);
    t.is(result.exitCode, 125);
    const [failed, ...rest] = readLog(t, log);
    t.deepEqual(rest, []);
    t.like(failed, {
      event: 'failed',
      failure: { code: 'RESOLVE' },
      exit: { code: 125, signal: null },
      backend: { name: 'aws', table: fixture.table },
    });
    t.deepEqual(
      (failed!.entries as Record<string, unknown>[]).map(({ variable, status, error }) => ({
        variable,
        status,
        error,
      })),
      [
        {
          variable: 'DB',
          status: 'failed',
          error: { code: 'KEY_SERVICE', reason: 'access-denied' },
        },
        {
          variable: 'API',
          status: 'failed',
          error: { code: 'KEY_SERVICE', reason: 'access-denied' },
        },
      ],
    );
  },
);

test.serial(
  'a log that cannot be opened stops credexec before any DynamoDB or KMS request',
  async (t) => {
    const log = join(dir, 'missing', 'audit.log');
    const result = await launch(['--audit-log', log, '-m', 'app.env', '--', 'true']);
    t.is(result.exitCode, 125);
    t.is(result.stderr, `credexec: cannot open audit log ${log}: ENOENT\n`);
    t.is(fixture.dynamodb.count(), 0);
    t.is(fixture.kms.count(), 0);
  },
);
