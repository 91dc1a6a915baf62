import { createHash, createHmac } from 'node:crypto';
import test from 'ava';
import { SignatureV4 } from '@smithy/signature-v4';
import { amzDate, signRequest, type AwsCredentials } from '../../src/aws/sigv4.js';

// The AWS SDK's own signer is the reference: credexec's must produce the same Authorization
// header byte for byte for every request shape the read path sends.
type Data = string | ArrayBuffer | ArrayBufferView;
const bytes = (data: Data) =>
  typeof data === 'string'
    ? data
    : data instanceof ArrayBuffer
      ? new Uint8Array(data)
      : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
class Sha256 {
  readonly #hash;
  constructor(secret?: Data) {
    this.#hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: Data): void {
    this.#hash.update(bytes(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.#hash.digest()));
  }
}

interface Case {
  readonly title: string;
  readonly credentials: AwsCredentials;
  readonly region: string;
  readonly service: string;
  readonly hostname: string;
  readonly port?: number;
  readonly path: string;
  readonly target: string;
  readonly contentType: string;
  readonly body: string;
  readonly now: Date;
}

const LONG_TERM: AwsCredentials = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};
const SESSION: AwsCredentials = {
  accessKeyId: 'ASIAEXAMPLE',
  secretAccessKey: 'c2VjcmV0L3dpdGgrc3ltYm9scz0=',
  sessionToken: 'FwoGZXIvYXdzEJr//////////wEaDK3+example/token==',
};

const CASES: readonly Case[] = [
  {
    title: 'DynamoDB Query, long-term keys',
    credentials: LONG_TERM,
    region: 'eu-west-1',
    service: 'dynamodb',
    hostname: 'dynamodb.eu-west-1.amazonaws.com',
    path: '/',
    target: 'DynamoDB_20120810.Query',
    contentType: 'application/x-amz-json-1.0',
    body: '{"TableName":"credential-store","KeyConditionExpression":"#n = :name","ExpressionAttributeNames":{"#n":"name"},"ExpressionAttributeValues":{":name":{"S":"db.password"}},"ScanIndexForward":false,"Limit":1,"ConsistentRead":true}',
    now: new Date('2026-11-28T14:25:52.123Z'),
  },
  {
    title: 'KMS Decrypt, session token, unicode in the encryption context',
    credentials: SESSION,
    region: 'us-east-1',
    service: 'kms',
    hostname: 'kms.us-east-1.amazonaws.com',
    path: '/',
    target: 'TrentService.Decrypt',
    contentType: 'application/x-amz-json-1.1',
    body: '{"CiphertextBlob":"AQIDBAUGBwgJ","EncryptionContext":{"app":"café ☕","env":"prod"}}',
    now: new Date('2027-01-01T00:00:00.000Z'),
  },
  {
    title: 'BatchGetItem through a custom endpoint with a port and a base path',
    credentials: SESSION,
    region: 'cn-north-1',
    service: 'dynamodb',
    hostname: '127.0.0.1',
    port: 4566,
    path: '/proxy/dynamodb/',
    target: 'DynamoDB_20120810.BatchGetItem',
    contentType: 'application/x-amz-json-1.0',
    body: '{"RequestItems":{"t":{"Keys":[{"name":{"S":"a"},"version":{"S":"0000000000000000001"}}],"ConsistentRead":true}}}',
    now: new Date('2026-02-28T23:59:59.999Z'),
  },
  {
    title: 'header values with whitespace to trim and fold (a session token with a tab and spaces)',
    credentials: { ...SESSION, sessionToken: ' Fwo\tGZX  Ivd\u00a0XYz ' },
    region: 'eu-west-1',
    service: 'kms',
    hostname: 'kms.eu-west-1.amazonaws.com',
    path: '/',
    target: 'TrentService.Decrypt',
    contentType: 'application/x-amz-json-1.1 ',
    body: '{}',
    now: new Date('2026-11-28T14:25:52.000Z'),
  },
  {
    title: 'an empty body',
    credentials: LONG_TERM,
    region: 'ap-southeast-2',
    service: 'kms',
    hostname: 'kms.ap-southeast-2.amazonaws.com',
    path: '/',
    target: 'TrentService.Decrypt',
    contentType: 'application/x-amz-json-1.1',
    body: '',
    now: new Date('2026-06-15T08:00:00.000Z'),
  },
];

for (const c of CASES) {
  test(`signs like the AWS SDK: ${c.title}`, async (t) => {
    const host = c.port === undefined ? c.hostname : `${c.hostname}:${c.port}`;
    const headers = {
      'content-type': c.contentType,
      'content-length': String(Buffer.byteLength(c.body)),
      'x-amz-target': c.target,
    };
    const ours = signRequest({
      method: 'POST',
      host,
      path: c.path,
      headers,
      body: c.body,
      service: c.service,
      region: c.region,
      credentials: c.credentials,
      now: c.now,
    });
    const { accessKeyId, secretAccessKey, sessionToken } = c.credentials;
    const reference = await new SignatureV4({
      credentials:
        sessionToken === undefined
          ? { accessKeyId, secretAccessKey }
          : { accessKeyId, secretAccessKey, sessionToken },
      region: c.region,
      service: c.service,
      sha256: Sha256,
    }).sign(
      {
        method: 'POST',
        protocol: 'https:',
        hostname: c.hostname,
        ...(c.port === undefined ? {} : { port: c.port }),
        path: c.path,
        query: {},
        headers: { ...headers, host },
        body: c.body,
      },
      { signingDate: c.now },
    );
    t.is(ours.authorization, reference.headers.authorization);
    t.is(ours['x-amz-date'], reference.headers['x-amz-date']);
    t.is(ours['x-amz-security-token'], reference.headers['x-amz-security-token']);
    t.is(ours['x-amz-content-sha256'], reference.headers['x-amz-content-sha256']);
    t.is(ours.host, host);
  });
}

test('amzDate drops separators and milliseconds, whatever second came before', (t) => {
  t.is(amzDate(new Date('2026-11-28T14:25:52.123Z')), '20261128T142552Z');
  // A burst shares one formatted second; the next second, or a clock set back, is formatted anew.
  t.is(amzDate(new Date('2026-11-28T14:25:52.999Z')), '20261128T142552Z');
  t.is(amzDate(new Date('2026-11-28T14:25:53.000Z')), '20261128T142553Z');
  t.is(amzDate(new Date('2026-11-28T14:25:52.500Z')), '20261128T142552Z');
  t.is(amzDate(new Date('1969-12-31T23:59:59.500Z')), '19691231T235959Z');
  t.throws(() => amzDate(new Date(Number.NaN)), { instanceOf: RangeError });
});

test('a different secret, day or region changes the signature', (t) => {
  const base = {
    method: 'POST',
    host: 'kms.eu-west-1.amazonaws.com',
    path: '/',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'TrentService.Decrypt',
    },
    body: '{}',
    service: 'kms',
    region: 'eu-west-1',
    credentials: LONG_TERM,
    now: new Date('2026-11-28T14:25:52Z'),
  };
  const signature = (input: typeof base) => signRequest(input).authorization;
  const reference = signature(base);
  t.not(signature({ ...base, credentials: { ...LONG_TERM, secretAccessKey: 'other' } }), reference);
  t.not(signature({ ...base, now: new Date('2026-11-29T14:25:52Z') }), reference);
  t.not(signature({ ...base, region: 'eu-west-2' }), reference);
  t.is(signature(base), reference, 'and the cached key gives the same answer again');
});
