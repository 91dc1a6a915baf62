import { execFile } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import test from 'ava';
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  awsClientConfig,
} from '../../src/backends/aws.js';
import { resolveSettings } from '../../src/backends/settings.js';
import { UsageError } from '../../src/errors.js';
import { startAwsFixture, type AwsFixture } from '../support/aws-fixture.js';

const run = promisify(execFile);
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const settings = (options = {}) => resolveSettings({ backend: 'aws', ...options }, {});

test('region comes from -r, then AWS_REGION, then AWS_DEFAULT_REGION', (t) => {
  const env = { AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'us-east-1' };
  t.is(awsClientConfig(settings({ region: 'ap-south-1' }), env).region, 'ap-south-1');
  t.is(awsClientConfig(settings(), env).region, 'eu-west-1');
  t.is(awsClientConfig(settings(), { AWS_DEFAULT_REGION: 'us-east-1' }).region, 'us-east-1');
  t.is(awsClientConfig(settings(), {}).region, undefined);
  t.is(awsClientConfig(settings({ kmsRegion: 'us-west-2' }), env).kmsRegion, 'us-west-2');
});

test('service endpoints win over AWS_ENDPOINT_URL, unless configured endpoints are ignored', (t) => {
  const env = {
    AWS_ENDPOINT_URL: 'http://127.0.0.1:1000',
    AWS_ENDPOINT_URL_KMS: 'http://127.0.0.1:2000',
  };
  t.deepEqual(awsClientConfig(settings(), env).endpoints, {
    dynamodb: 'http://127.0.0.1:1000',
    kms: 'http://127.0.0.1:2000',
    sts: 'http://127.0.0.1:1000',
  });
  t.deepEqual(
    awsClientConfig(settings(), { ...env, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' }).endpoints,
    { dynamodb: undefined, kms: undefined, sts: undefined },
  );
});

test('static credentials from the environment are used unless a profile is selected', (t) => {
  const env = {
    AWS_ACCESS_KEY_ID: 'AKID',
    AWS_SECRET_ACCESS_KEY: 'secret',
    AWS_SESSION_TOKEN: 'token',
  };
  t.deepEqual(awsClientConfig(settings(), env).credentials, {
    accessKeyId: 'AKID',
    secretAccessKey: 'secret',
    sessionToken: 'token',
  });
  t.is(awsClientConfig(settings({ profile: 'prod' }), env).credentials, undefined);
  t.is(awsClientConfig(settings(), { ...env, AWS_PROFILE: 'dev' }).credentials, undefined);
  t.is(awsClientConfig(settings(), { ...env, AWS_PROFILE: 'dev' }).profile, 'dev');
  t.is(awsClientConfig(settings(), { AWS_ACCESS_KEY_ID: 'AKID' }).credentials, undefined);
});

test('timeouts and retries have defaults and can be set from the environment', (t) => {
  const defaults = awsClientConfig(settings(), {});
  t.is(defaults.requestTimeoutMs, DEFAULT_REQUEST_TIMEOUT_MS);
  t.is(defaults.connectTimeoutMs, DEFAULT_CONNECT_TIMEOUT_MS);
  t.is(defaults.maxAttempts, undefined);
  const tuned = awsClientConfig(settings(), {
    CREDEXEC_AWS_TIMEOUT_MS: '2500',
    CREDEXEC_AWS_CONNECT_TIMEOUT_MS: '500',
    AWS_MAX_ATTEMPTS: '5',
    AWS_RETRY_MODE: 'adaptive',
  });
  t.like(tuned, {
    requestTimeoutMs: 2500,
    connectTimeoutMs: 500,
    maxAttempts: 5,
    retryMode: 'adaptive',
  });
});

test('malformed timeout, attempt and retry settings are usage errors', (t) => {
  t.throws(() => awsClientConfig(settings(), { CREDEXEC_AWS_TIMEOUT_MS: 'soon' }), {
    instanceOf: UsageError,
    message: 'CREDEXEC_AWS_TIMEOUT_MS must be a positive whole number, not "soon"',
  });
  t.throws(() => awsClientConfig(settings(), { AWS_MAX_ATTEMPTS: '0' }), {
    instanceOf: UsageError,
    message: 'AWS_MAX_ATTEMPTS must be a positive whole number, not "0"',
  });
  t.throws(() => awsClientConfig(settings(), { AWS_RETRY_MODE: 'eager' }), {
    instanceOf: UsageError,
    message: 'AWS_RETRY_MODE must be standard or adaptive, not "eager"',
  });
});

let fixture: AwsFixture;

test.before(async () => {
  fixture = await startAwsFixture();
});

test.after.always(async () => {
  await fixture?.stop();
});

function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: '/nonexistent-home',
    ...fixture.env,
    ...extra,
  };
}

async function runChild(env: Record<string, string>) {
  return run(process.execPath, ['--import', 'tsx', join(repoRoot, 'test/support/aws-child.ts')], {
    cwd: repoRoot,
    env,
  });
}

const nodeMajor = Number(process.versions.node.split('.')[0]);

test('without credexec, this SDK prints a NodeVersionSupportWarning on Node < 22', async (t) => {
  if (nodeMajor >= 22) {
    t.pass('the SDK only warns on Node < 22');
    return;
  }
  const { stderr } = await run(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      "import { KMSClient } from '@aws-sdk/client-kms'; new KMSClient({ region: 'eu-west-1' });",
    ],
    { cwd: repoRoot, env: { PATH: process.env.PATH ?? '' } },
  );
  t.regex(stderr, /NodeVersionSupportWarning/);
});

test('a process using the aws backend prints nothing on stderr and leaks no SDK switch', async (t) => {
  const { stdout, stderr } = await runChild(childEnv());
  t.is(stdout, 'value=child-value\nswitch=(unset)\n');
  t.is(stderr, '');
});

test('other process warnings are still printed', async (t) => {
  const { stderr } = await run(
    process.execPath,
    [
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      "const { openBackend } = await import('./src/backends/open-backend.ts'); await openBackend(); process.emitWarning('still visible');",
    ],
    { cwd: repoRoot, env: childEnv() },
  );
  t.regex(stderr, /Warning: still visible/);
  t.notRegex(stderr, /NodeVersionSupportWarning/);
});

test('no region anywhere is a usage error that says how to set one', async (t) => {
  const env = childEnv();
  delete env.AWS_REGION;
  const { stdout, stderr } = await runChild(env);
  t.is(
    stdout,
    'error=UsageError: no AWS region for DynamoDB: pass -r/--region, set AWS_REGION, or set a region in your AWS profile\n',
  );
  t.is(stderr, '');
});

test('a region from the selected profile in AWS_CONFIG_FILE is used', async (t) => {
  const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const dir = await mkdtemp(join(tmpdir(), 'credexec-aws-config-'));
  try {
    await writeFile(join(dir, 'config'), '[profile fixture]\nregion = eu-west-1\n');
    await writeFile(
      join(dir, 'credentials'),
      `[fixture]\naws_access_key_id = ${fixture.env.AWS_ACCESS_KEY_ID}\naws_secret_access_key = ${fixture.env.AWS_SECRET_ACCESS_KEY}\n`,
    );
    const env = childEnv({
      AWS_CONFIG_FILE: join(dir, 'config'),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'),
      AWS_PROFILE: 'fixture',
    });
    delete env.AWS_REGION;
    delete env.AWS_ACCESS_KEY_ID;
    delete env.AWS_SECRET_ACCESS_KEY;
    const { stdout, stderr } = await runChild(env);
    t.is(stdout, 'value=child-value\nswitch=(unset)\n');
    t.is(stderr, '');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
