import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { messageOf } from '../../src/errors.js';
import { putSecret } from '../../src/secrets/put-secret.js';
import { getSecret } from '../../src/secrets/read-secrets.js';
import { startAwsFixture, type AwsFixture } from '../support/aws-fixture.js';
import { cleanEnv, runCli } from '../support/cli.js';
import { startStsServer, type StsServer } from '../support/sts-server.js';

/**
 * The two ways of choosing credentials besides the environment, end to end with real SDK clients:
 * `--arn` (STS AssumeRole on top of the base credentials) and `-p/--profile` (a profile from the
 * shared config files). Who signed each request is read from its SigV4 Authorization header by the
 * test servers. Profiles are read by the SDK from process.env, so those tests spawn the CLI.
 */
const BASE_KEY = 'AKIDCREDEXECTEST'; // the fixture's static environment credentials
const PROFILE_KEY = 'AKIDOTHERPROFILE';
const PROFILE_REGION = 'us-west-2';

let fixture: AwsFixture;
let sts: StsServer;
let configDir: string;

test.before(async () => {
  fixture = await startAwsFixture();
  sts = await startStsServer();
  const backend = await fixture.openBackend();
  await putSecret(backend, { name: 'app.db', value: 'role-value', autoversion: true });
  configDir = await mkdtemp(join(tmpdir(), 'credexec-aws-credentials-'));
  await writeFile(
    join(configDir, 'config'),
    `[default]\nregion = eu-west-1\n\n[profile other]\nregion = ${PROFILE_REGION}\n`,
  );
  await writeFile(
    join(configDir, 'credentials'),
    `[default]\naws_access_key_id = AKIDDEFAULTPROFILE\naws_secret_access_key = default-test-secret\n\n` +
      `[other]\naws_access_key_id = ${PROFILE_KEY}\naws_secret_access_key = other-test-secret\n`,
  );
});

test.after.always(async () => {
  await Promise.allSettled([fixture?.stop(), sts?.close()]);
  if (configDir !== undefined) await rm(configDir, { recursive: true, force: true });
});

test.beforeEach(() => {
  fixture.resetCounters();
  fixture.dynamodb.clearFaults();
  fixture.kms.clearFaults();
  sts.reset();
});

/** The access key ids that signed DynamoDB and KMS requests since the last reset. */
function signers() {
  return {
    dynamodb: [...new Set(fixture.dynamodb.callers.map((caller) => caller.accessKeyId))],
    kms: [...new Set(fixture.kms.callers.map((caller) => caller.accessKeyId))],
  };
}

function regions() {
  return {
    dynamodb: [...new Set(fixture.dynamodb.callers.map((caller) => caller.region))],
    kms: [...new Set(fixture.kms.callers.map((caller) => caller.region))],
  };
}

function cli(args: string[], extra: Record<string, string | undefined> = {}) {
  return runCli(['--backend', 'aws', ...args], {
    env: cleanEnv({ ...fixture.env, HOME: '/nonexistent-home', ...extra }),
  });
}

function profileEnv(extra: Record<string, string | undefined> = {}) {
  return {
    AWS_CONFIG_FILE: join(configDir, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: join(configDir, 'credentials'),
    ...extra,
  };
}

// The servers' recordings are shared, so the tests run one at a time.

test.serial(
  'with a role ARN the backend assumes the role once with the base key and signs with the assumed key',
  async (t) => {
    const roleArn = 'arn:aws:iam::123456789012:role/reader';
    const backend = await fixture.openBackend({ roleArn }, { AWS_ENDPOINT_URL_STS: sts.endpoint });
    t.is((await getSecret(backend, { name: 'app.db' })).toString('utf8'), 'role-value');
    t.is((await getSecret(backend, { name: 'app.db' })).toString('utf8'), 'role-value');

    t.is(sts.calls.length, 1);
    t.like(sts.calls[0], { roleArn, accessKeyId: BASE_KEY, region: 'eu-west-1' });
    t.regex(sts.calls[0]?.sessionName ?? '', /^credexec-\d+$/);
    t.deepEqual(sts.issuedKeys, ['ASIA0001ASSUMED']);
    t.is(fixture.dynamodb.count('Query'), 2);
    t.is(fixture.kms.count('Decrypt'), 2);
    t.deepEqual(signers(), { dynamodb: ['ASIA0001ASSUMED'], kms: ['ASIA0001ASSUMED'] });
  },
);

test.serial(
  'role credentials are renewed by one AssumeRole shared by both clients once they near expiry',
  async (t) => {
    const roleArn = 'arn:aws:iam::123456789012:role/short-lived';
    // Valid for just over the five-minute refresh margin: fresh now, due for renewal 1.5 s later.
    sts.setLifetime(5 * 60_000 + 1500);
    const backend = await fixture.openBackend({ roleArn }, { AWS_ENDPOINT_URL_STS: sts.endpoint });
    t.is((await getSecret(backend, { name: 'app.db' })).toString('utf8'), 'role-value');
    await new Promise((resolve) => setTimeout(resolve, 1600));
    t.is((await getSecret(backend, { name: 'app.db' })).toString('utf8'), 'role-value');
    t.deepEqual(sts.issuedKeys, ['ASIA0001ASSUMED', 'ASIA0002ASSUMED']);
    t.deepEqual(
      fixture.dynamodb.callers.map((caller) => caller.accessKeyId),
      ['ASIA0001ASSUMED', 'ASIA0002ASSUMED'],
    );
    t.deepEqual(
      fixture.kms.callers.map((caller) => caller.accessKeyId),
      ['ASIA0001ASSUMED', 'ASIA0002ASSUMED'],
    );
  },
);

test.serial('without a role ARN no role is assumed and the base key signs', async (t) => {
  const backend = await fixture.openBackend({}, { AWS_ENDPOINT_URL_STS: sts.endpoint });
  t.is((await getSecret(backend, { name: 'app.db' })).toString('utf8'), 'role-value');
  t.deepEqual(sts.calls, []);
  t.deepEqual(signers(), { dynamodb: [BASE_KEY], kms: [BASE_KEY] });
});

test.serial(
  'the CLI with --arn assumes that role once and reads with the assumed key',
  async (t) => {
    const roleArn = 'arn:aws:iam::123456789012:role/cli-reader';
    const result = await cli(['--arn', roleArn, 'get', 'app.db'], {
      AWS_ENDPOINT_URL_STS: sts.endpoint,
    });
    t.is(result.stderr, '');
    t.is(result.stdout, 'role-value\n');
    t.is(result.exitCode, 0);
    t.is(sts.calls.length, 1);
    t.like(sts.calls[0], { roleArn, accessKeyId: BASE_KEY, region: 'eu-west-1' });
    t.deepEqual(signers(), { dynamodb: ['ASIA0001ASSUMED'], kms: ['ASIA0001ASSUMED'] });
  },
);

test.serial('a role STS refuses to assume is a clear error naming the role', async (t) => {
  const roleArn = 'arn:aws:iam::123456789012:role/forbidden';
  const refusal = `AWS credentials were rejected or not found (cannot assume role ${roleArn}: access denied; the base credentials need sts:AssumeRole on it and the role must trust them)`;
  sts.deny(roleArn);
  const backend = await fixture.openBackend({ roleArn }, { AWS_ENDPOINT_URL_STS: sts.endpoint });
  const readError = await t.throwsAsync(getSecret(backend, { name: 'app.db' }));
  t.is(
    messageOf(readError),
    `cannot read credential "app.db": Query on table credential-store in eu-west-1: ${refusal}`,
  );
  const keyError = await t.throwsAsync(backend.keys.generateDataKey('alias/credstash', {}));
  t.is(
    messageOf(keyError),
    `kms:GenerateDataKey (key alias/credstash, KMS in eu-west-1): ${refusal}`,
  );
  t.deepEqual(
    sts.calls.map((call) => [call.roleArn, call.accessKeyId]),
    [
      [roleArn, BASE_KEY],
      [roleArn, BASE_KEY],
    ],
  );
  t.is(fixture.kms.count(), 0);
  t.is(fixture.dynamodb.count(), 0);

  const result = await cli(['--arn', roleArn, 'get', 'app.db'], {
    AWS_ENDPOINT_URL_STS: sts.endpoint,
  });
  t.is(result.stdout, '');
  t.is(
    result.stderr,
    `credexec: cannot read credential "app.db": Query on table credential-store in eu-west-1: ${refusal}\n`,
  );
  t.is(result.exitCode, 1);
});

test.serial(
  'the CLI with --profile signs with that profile key and goes to its region, over static env keys',
  async (t) => {
    const result = await cli(
      ['--profile', 'other', 'get', 'app.db'],
      profileEnv({ AWS_REGION: undefined }),
    );
    t.is(result.stderr, '');
    t.is(result.stdout, 'role-value\n');
    t.is(result.exitCode, 0);
    t.deepEqual(signers(), { dynamodb: [PROFILE_KEY], kms: [PROFILE_KEY] });
    t.deepEqual(regions(), { dynamodb: [PROFILE_REGION], kms: [PROFILE_REGION] });
  },
);

test.serial('-p and AWS_PROFILE select a profile the same way', async (t) => {
  const short = await cli(['-p', 'other', 'get', 'app.db'], profileEnv());
  t.is(short.stdout, 'role-value\n');
  const fromEnv = await cli(['get', 'app.db'], profileEnv({ AWS_PROFILE: 'other' }));
  t.is(fromEnv.stdout, 'role-value\n');
  t.deepEqual(signers(), { dynamodb: [PROFILE_KEY], kms: [PROFILE_KEY] });
  // AWS_REGION from the environment still wins over the profile's region.
  t.deepEqual(regions(), { dynamodb: ['eu-west-1'], kms: ['eu-west-1'] });
});

test.serial('without a profile the static env keys sign, not the default profile', async (t) => {
  const result = await cli(['get', 'app.db'], profileEnv());
  t.is(result.stdout, 'role-value\n');
  t.deepEqual(signers(), { dynamodb: [BASE_KEY], kms: [BASE_KEY] });
});

test.serial('a profile and a role ARN together assume the role with the profile key', async (t) => {
  const roleArn = 'arn:aws:iam::123456789012:role/profile-reader';
  const result = await cli(
    ['--profile', 'other', '--arn', roleArn, 'get', 'app.db'],
    profileEnv({ AWS_REGION: undefined, AWS_ENDPOINT_URL_STS: sts.endpoint }),
  );
  t.is(result.stderr, '');
  t.is(result.stdout, 'role-value\n');
  t.is(sts.calls.length, 1);
  t.like(sts.calls[0], { roleArn, accessKeyId: PROFILE_KEY, region: PROFILE_REGION });
  t.deepEqual(signers(), { dynamodb: ['ASIA0001ASSUMED'], kms: ['ASIA0001ASSUMED'] });
});
