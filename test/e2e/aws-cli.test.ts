import test from 'ava';
import { startAwsFixture, type AwsFixture } from '../support/aws-fixture.js';
import { cleanEnv, runCli, type CliResult } from '../support/cli.js';

/** The real bin against dynalite and the test KMS, configured only through the environment. */
let fixture: AwsFixture;
let tables = 0;

test.before(async () => {
  fixture = await startAwsFixture({ setup: false });
});

test.after.always(async () => {
  await fixture?.stop();
});

function cli(args: string[], extra: Record<string, string | undefined> = {}): Promise<CliResult> {
  return runCli(['--backend', 'aws', ...args], {
    env: cleanEnv({ ...fixture.env, HOME: '/nonexistent-home', ...extra }),
  });
}

const CANARY = 'canary-aws-Vb7-never-print-me';

test('setup, put, get, autoversion, list and delete work against DynamoDB and KMS', async (t) => {
  const table = `e2e-${tables++}`;
  const missing = await cli(['get', 'app.db', '-t', table]);
  t.is(missing.exitCode, 1);
  t.is(
    missing.stderr,
    `credexec: cannot read credential "app.db": table ${table} not found in region eu-west-1 — run \`credexec setup\`\n`,
  );

  const setup = await cli(['setup', '-t', table, '--tags', 'team=ops']);
  t.is(setup.exitCode, 0, setup.stderr);
  t.is(setup.stdout, `created table ${table} in eu-west-1\n`);
  t.is(setup.stderr, '');
  const again = await cli(['setup', '-t', table]);
  t.is(again.exitCode, 0);
  t.is(again.stdout, `table ${table} in eu-west-1 is already set up; nothing to do\n`);

  const put = await cli(['put', 'app.db', 'first', 'app=web', '-t', table]);
  t.is(put.exitCode, 0, put.stderr);
  const putValue = await runCli(
    ['--backend', 'aws', 'put', 'app.db', '-', 'app=web', '-t', table, '-a'],
    {
      env: cleanEnv({ ...fixture.env, HOME: '/nonexistent-home' }),
      input: CANARY,
    },
  );
  t.is(putValue.exitCode, 0, putValue.stderr);
  t.regex(putValue.stdout, /0000000000000000002/);

  const get = await cli(['get', 'app.db', 'app=web', '-t', table]);
  t.is(get.exitCode, 0, get.stderr);
  t.is(get.stdout, `${CANARY}\n`);
  t.is(get.stderr, '');

  const wrongContext = await cli(['get', 'app.db', 'app=api', '-t', table]);
  t.is(wrongContext.exitCode, 1);
  t.regex(wrongContext.stderr, /credential "app\.db" version 0000000000000000002/);
  t.regex(wrongContext.stderr, /wrong encryption context/);
  t.false(wrongContext.stderr.includes(CANARY));

  const list = await cli(['list', '-t', table]);
  t.is(list.exitCode, 0);
  t.deepEqual(
    list.stdout
      .trim()
      .split('\n')
      .map((line) => line.replace(/ -- comment.*$/, '')),
    ['app.db -- version 0000000000000000001', 'app.db -- version 0000000000000000002'],
  );
  t.false(list.stdout.includes(CANARY));

  const removed = await cli(['delete', 'app.db', '-t', table]);
  t.is(removed.exitCode, 0, removed.stderr);
  const gone = await cli(['get', 'app.db', 'app=web', '-t', table]);
  t.is(gone.exitCode, 1);
  t.regex(gone.stderr, /not found/);
});

test('the table comes from CREDSTASH_DEFAULT_TABLE and the region from -r', async (t) => {
  const table = `e2e-${tables++}`;
  const setup = await cli(['setup', '-r', 'eu-west-1'], {
    CREDSTASH_DEFAULT_TABLE: table,
    AWS_REGION: undefined,
  });
  t.is(setup.exitCode, 0, setup.stderr);
  t.is(setup.stdout, `created table ${table} in eu-west-1\n`);
});

test('without any region the CLI exits 2 and says how to set one', async (t) => {
  const result = await cli(['list'], { AWS_REGION: undefined });
  t.is(result.exitCode, 2);
  t.is(
    result.stderr,
    'credexec: no AWS region for DynamoDB: pass -r/--region, set AWS_REGION, or set a region in your AWS profile\n',
  );
});

test('a missing KMS key is a key-service failure naming the key', async (t) => {
  const table = `e2e-${tables++}`;
  t.is((await cli(['setup', '-t', table])).exitCode, 0);
  const result = await cli(['put', 'x', 'v', '-k', 'alias/absent', '-t', table]);
  t.is(result.exitCode, 1);
  t.regex(result.stderr, /alias\/absent/);
  t.regex(result.stderr, /does not exist/);
});
