import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import {
  awsClientConfig,
  directReadPlan,
  PROFILE_KEYS_FOR_SDK,
  TRANSPORT_ENV,
} from '../../src/aws/config.js';
import { keysOfProfile, profileKeys } from '../../src/aws/shared-config.js';
import { resolveSettings } from '../../src/backends/settings.js';
import { UsageError } from '../../src/errors.js';

const KEYS = { AWS_ACCESS_KEY_ID: 'AKID', AWS_SECRET_ACCESS_KEY: 'secret' };
const NO_KEYS = new Set<string>();

function plan(env: Record<string, string>, options = {}, profile = NO_KEYS) {
  const config = awsClientConfig(resolveSettings({ backend: 'aws', ...options }, env), env);
  return directReadPlan(config, env, profile);
}

function endpoints(result: ReturnType<typeof plan>) {
  if ('reason' in result) return result.reason;
  return `${result.dynamodb.endpoint.href} ${result.dynamodb.region} ${result.kms.endpoint.href} ${result.kms.region}`;
}

test('standard endpoints from the region; --kms-region moves KMS only', (t) => {
  t.is(
    endpoints(plan({ ...KEYS, AWS_REGION: 'eu-west-1' })),
    'https://dynamodb.eu-west-1.amazonaws.com/ eu-west-1 https://kms.eu-west-1.amazonaws.com/ eu-west-1',
  );
  t.is(
    endpoints(plan({ ...KEYS }, { region: 'cn-north-1', kmsRegion: 'cn-northwest-1' })),
    'https://dynamodb.cn-north-1.amazonaws.com.cn/ cn-north-1 https://kms.cn-northwest-1.amazonaws.com.cn/ cn-northwest-1',
  );
});

test('custom endpoints are used as given when credexec can sign for them exactly', (t) => {
  const env = {
    AWS_REGION: 'eu-west-1',
    AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:8000',
    AWS_ENDPOINT_URL_KMS: 'https://kms.example.test/prefix',
  };
  t.is(
    endpoints(plan(env)),
    'http://127.0.0.1:8000/ eu-west-1 https://kms.example.test/prefix eu-west-1',
  );
  for (const odd of ['http://h/a%20b', 'http://h/?x=1', 'http://user:pw@h/', 'ftp://h/']) {
    t.regex(
      endpoints(plan({ ...env, AWS_ENDPOINT_URL_KMS: odd })),
      /the kms endpoint URL needs the SDK/,
      odd,
    );
  }
});

test('the SDK keeps every call when it alone knows how to reach or retry the service', (t) => {
  const base = { ...KEYS, AWS_REGION: 'eu-west-1' };
  t.regex(endpoints(plan({ ...KEYS })), /region is not in -r or the environment/);
  t.regex(endpoints(plan({ ...base, [TRANSPORT_ENV]: 'sdk' })), /CREDEXEC_AWS_TRANSPORT=sdk/);
  t.regex(endpoints(plan({ ...base, AWS_USE_FIPS_ENDPOINT: 'true' })), /FIPS/);
  t.regex(endpoints(plan({ ...base, AWS_USE_DUALSTACK_ENDPOINT: 'TRUE' })), /dual-stack/);
  t.regex(endpoints(plan({ ...base, AWS_RETRY_MODE: 'adaptive' })), /adaptive/);
  t.regex(
    endpoints(plan({ ...base, AWS_ACCOUNT_ID_ENDPOINT_MODE: 'required' })),
    /account-based DynamoDB endpoints are required/,
  );
  t.false('reason' in plan({ ...base, AWS_ACCOUNT_ID_ENDPOINT_MODE: 'preferred' }));
  t.regex(endpoints(plan({ ...base, AWS_REGION: 'us-iso-east-1' })), /outside the aws, aws-cn/);
  t.regex(endpoints(plan({ ...base, AWS_REGION: 'local' })), /outside the aws, aws-cn/);
  for (const key of PROFILE_KEYS_FOR_SDK) {
    t.regex(endpoints(plan(base, {}, new Set([key]))), new RegExp(`profile sets ${key}`));
  }
  t.notRegex(endpoints(plan(base, {}, new Set(['region', 'output', 'sso_session']))), /profile/);
  // Credentials never matter: a profile or a role only changes where they come from.
  t.false(
    'reason' in
      plan({ AWS_REGION: 'eu-west-1', AWS_PROFILE: 'dev' }, { roleArn: 'arn:aws:iam::1:role/r' }),
  );
});

test('CREDEXEC_AWS_TRANSPORT takes auto or sdk', (t) => {
  t.false('reason' in plan({ ...KEYS, AWS_REGION: 'eu-west-1', [TRANSPORT_ENV]: 'auto' }));
  t.throws(() => plan({ ...KEYS, AWS_REGION: 'eu-west-1', [TRANSPORT_ENV]: 'fast' }), {
    instanceOf: UsageError,
    message: /CREDEXEC_AWS_TRANSPORT must be auto or sdk/,
  });
});

test('every region of the aws, aws-cn and aws-us-gov partitions gets the SDK’s endpoints', (t) => {
  // The SDK's partition table (2026-11): every region of the three partitions, plus future-looking
  // names the partitions' patterns accept.
  const regions = [
    ...[
      'af-south-1',
      'ap-east-1',
      'ap-east-2',
      'ap-northeast-1',
      'ap-northeast-2',
      'ap-northeast-3',
    ],
    ...['ap-south-1', 'ap-south-2', 'ap-southeast-1', 'ap-southeast-2', 'ap-southeast-3'],
    ...['ap-southeast-4', 'ap-southeast-5', 'ap-southeast-6', 'ap-southeast-7', 'ca-central-1'],
    ...['ca-west-1', 'eu-central-1', 'eu-central-2', 'eu-north-1', 'eu-south-1', 'eu-south-2'],
    ...['eu-west-1', 'eu-west-2', 'eu-west-3', 'il-central-1', 'me-central-1', 'me-south-1'],
    ...['me-west-1', 'mx-central-1', 'sa-east-1', 'sa-west-1', 'us-east-1', 'us-east-2'],
    ...['us-west-1', 'us-west-2', 'cn-north-1', 'cn-northwest-1', 'us-gov-east-1', 'us-gov-west-1'],
    ...['eu-west-9', 'cn-south-1', 'us-gov-north-2'],
  ];
  t.true(regions.length > 30, String(regions.length));
  const credentials = { accessKeyId: 'a', secretAccessKey: 'b' };
  const parameters = (region: string) => ({ Region: region, UseFIPS: false, UseDualStack: false });
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  for (const region of regions) {
    const result = plan({ ...KEYS, AWS_REGION: region });
    if ('reason' in result) {
      t.fail(`${region}: ${result.reason}`);
      continue;
    }
    const dynamodb = new DynamoDBClient({ region, credentials });
    const kms = new KMSClient({ region, credentials });
    t.is(
      result.dynamodb.endpoint.href,
      dynamodb.config.endpointProvider(parameters(region)).url.href,
      region,
    );
    t.is(
      result.kms.endpoint.href,
      kms.config.endpointProvider(parameters(region)).url.href,
      region,
    );
    dynamodb.destroy();
    kms.destroy();
  }
});

test('profile keys: [default] or [profile NAME], top-level keys only, no values kept', (t) => {
  const text = [
    '# comment',
    '[default]',
    'region = eu-west-1',
    'endpoint_url=https://proxy.example',
    '[profile dev]   ; trailing comment',
    'Retry_Mode = adaptive',
    's3 =',
    '  max_attempts = 9',
    '[services dev-services]',
    'dynamodb =',
    '  endpoint_url = http://x',
    '[profile default]',
    'use_fips_endpoint = true',
  ].join('\n');
  t.deepEqual([...keysOfProfile(text, 'default')].sort(), [
    'endpoint_url',
    'region',
    'use_fips_endpoint',
  ]);
  t.deepEqual([...keysOfProfile(text, 'dev')].sort(), ['retry_mode', 's3']);
  t.deepEqual([...keysOfProfile(text, 'missing')], []);
});

test('profileKeys reads AWS_CONFIG_FILE; a missing file has no keys', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'credexec-profile-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'config');
  writeFileSync(path, '[profile ci]\nservices = local\n');
  t.deepEqual(await profileKeys({ AWS_CONFIG_FILE: path }, 'ci'), { keys: new Set(['services']) });
  t.deepEqual(await profileKeys({ AWS_CONFIG_FILE: join(dir, 'none') }, 'ci'), { keys: new Set() });
  t.deepEqual(await profileKeys({ HOME: dir }, undefined), { keys: new Set() });
});
