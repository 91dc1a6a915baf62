import { createHash, createHmac } from 'node:crypto';
import test from 'ava';
import { SignatureV4 } from '@smithy/signature-v4';
import fc from 'fast-check';
import { amzDate, JsonPostSigner, type AwsCredentials } from '../../src/aws/sigv4.js';

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
  readonly port?: number | undefined;
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
    credentials: { ...SESSION, sessionToken: ' Fwo\tGZX  Ivd XYz ' },
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

/** The header lines JsonPostSigner makes, as a map; every line must be `name: value` + CRLF. */
function parseLines(lines: string): Record<string, string> {
  if (!lines.endsWith('\r\n')) throw new Error('the last line does not end in CRLF');
  const headers: Record<string, string> = {};
  for (const line of lines.slice(0, -2).split('\r\n')) {
    const match = /^([a-z0-9-]+): (.*)$/s.exec(line);
    if (match === null || match[2]!.includes('\n')) throw new Error(`not a header line: ${line}`);
    headers[match[1]!] = match[2]!;
  }
  return headers;
}

type Signed = Pick<Case, 'credentials' | 'region' | 'service' | 'hostname' | 'port' | 'path'> &
  Pick<Case, 'target' | 'contentType' | 'body' | 'now'>;

function ours(c: Signed): Record<string, string> {
  const host = c.port === undefined ? c.hostname : `${c.hostname}:${c.port}`;
  const signer = new JsonPostSigner({
    host,
    path: c.path,
    contentType: c.contentType,
    service: c.service,
    region: c.region,
  });
  return parseLines(signer.headerLines(c.target, c.body, c.credentials, c.now));
}

/** What the AWS SDK's signer sends for the same request: the headers it signs, Authorization included. */
async function reference(c: Signed): Promise<Record<string, string>> {
  const host = c.port === undefined ? c.hostname : `${c.hostname}:${c.port}`;
  const { accessKeyId, secretAccessKey, sessionToken } = c.credentials;
  const signed = await new SignatureV4({
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
      headers: {
        'content-type': c.contentType,
        'content-length': String(Buffer.byteLength(c.body)),
        'x-amz-target': c.target,
        host,
      },
      body: c.body,
    },
    { signingDate: c.now },
  );
  return signed.headers;
}

for (const c of CASES) {
  test(`signs like the AWS SDK: ${c.title}`, async (t) => {
    // Every header the SDK signs is sent, with the SDK's value, and nothing else but Authorization.
    t.deepEqual(ours(c), await reference(c));
  });
}

test('for any request of the read path, the signature is the AWS SDK’s', async (t) => {
  const text = fc.string({ unit: 'grapheme', maxLength: 40 });
  const headerValue = fc
    .string({ unit: fc.constantFrom('a', 'Z', '0', '/', '+', '=', ' ', '\t', '.'), maxLength: 24 })
    .filter((value) => value.trim() !== '');
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        credentials: fc.record(
          {
            accessKeyId: fc.stringMatching(/^[A-Z0-9]{4,20}$/),
            secretAccessKey: fc.string({ minLength: 1, maxLength: 40 }),
            sessionToken: headerValue,
          },
          { requiredKeys: ['accessKeyId', 'secretAccessKey'] },
        ),
        region: fc.constantFrom('eu-west-1', 'us-east-1', 'cn-north-1', 'us-gov-west-1'),
        service: fc.constantFrom('dynamodb', 'kms'),
        hostname: fc.constantFrom('dynamodb.eu-west-1.amazonaws.com', '127.0.0.1', 'localhost'),
        port: fc.option(fc.integer({ min: 1, max: 65_535 }), { nil: undefined }),
        path: fc.constantFrom('/', '/base/', '/a/b-c_d.e~f/'),
        target: fc.constantFrom('DynamoDB_20120810.Query', 'TrentService.Decrypt', ' X  Y\tZ '),
        contentType: fc.constantFrom('application/x-amz-json-1.0', 'application/x-amz-json-1.1'),
        body: fc.oneof(text, fc.json()),
        now: fc.date({
          min: new Date('1970-01-01T00:00:00Z'),
          max: new Date('2199-12-31T23:59:59Z'),
          noInvalidDate: true,
        }),
      }),
      async (c) => {
        t.deepEqual(ours(c), await reference(c));
      },
    ),
    { seed: 20_261_130, numRuns: 300, interruptAfterTimeLimit: 20_000 },
  );
});

test('a target or credentials that would split the request are refused before anything is signed', (t) => {
  const signer = new JsonPostSigner({
    host: 'kms.eu-west-1.amazonaws.com',
    path: '/',
    contentType: 'application/x-amz-json-1.1',
    service: 'kms',
    region: 'eu-west-1',
  });
  const now = new Date('2026-11-28T14:25:52Z');
  for (const bad of ['a\r\nx-injected: 1', 'a\nb', 'a\0b', 'caf\u00e9']) {
    t.throws(
      () =>
        signer.headerLines('TrentService.Decrypt', '{}', { ...SESSION, sessionToken: bad }, now),
      {
        message: 'the x-amz-security-token header has invalid characters',
      },
    );
    t.throws(
      () =>
        signer.headerLines('TrentService.Decrypt', '{}', { ...LONG_TERM, accessKeyId: bad }, now),
      {
        message: 'the authorization header has invalid characters',
      },
    );
    t.throws(() => signer.headerLines(bad, '{}', LONG_TERM, now), {
      message: 'the x-amz-target header has invalid characters',
    });
  }
});

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
    credentials: LONG_TERM,
    region: 'eu-west-1',
    service: 'kms',
    hostname: 'kms.eu-west-1.amazonaws.com',
    path: '/',
    target: 'TrentService.Decrypt',
    contentType: 'application/x-amz-json-1.1',
    body: '{}',
    now: new Date('2026-11-28T14:25:52Z'),
  };
  const signature = (input: typeof base) => ours(input).authorization;
  const first = signature(base);
  t.not(signature({ ...base, credentials: { ...LONG_TERM, secretAccessKey: 'other' } }), first);
  t.not(signature({ ...base, now: new Date('2026-11-29T14:25:52Z') }), first);
  t.not(signature({ ...base, region: 'eu-west-2' }), first);
  t.is(signature(base), first, 'and the cached key gives the same answer again');
});
