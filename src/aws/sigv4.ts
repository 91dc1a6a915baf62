import { createHmac, hash } from 'node:crypto';

/**
 * AWS Signature Version 4 for the JSON-protocol POSTs credexec's read path sends (one path, no
 * query string, a fixed header set). Pure apart from a small cache of derived signing keys.
 * Checked against the AWS SDK's own signer (@smithy/signature-v4) in test/aws/sigv4.test.ts.
 */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string | undefined;
  readonly expiration?: Date | undefined;
}

export interface SignInput {
  readonly method: string;
  /** `host[:port]`, exactly as sent in the Host header. */
  readonly host: string;
  /** Absolute path made only of unreserved characters and `/` (nothing to escape). */
  readonly path: string;
  /** Header names in lower case (content-type, content-length, x-amz-target); the rest is added. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly service: string;
  readonly region: string;
  readonly credentials: AwsCredentials;
  readonly now: Date;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';

/**
 * Derived keys, per credentials object and day/region/service: a process signs with a handful.
 * Keyed by the object (static keys and each refresh from a provider are one object each) so that
 * signing neither re-derives nor hashes the secret per request, and nothing outlives the keys.
 */
const signingKeys = new WeakMap<AwsCredentials, Map<string, Buffer>>();

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

function signingKey(credentials: AwsCredentials, day: string, region: string, service: string) {
  let keys = signingKeys.get(credentials);
  if (keys === undefined) {
    keys = new Map();
    signingKeys.set(credentials, keys);
  }
  const scope = `${day}\0${region}\0${service}`;
  let key = keys.get(scope);
  if (key === undefined) {
    const secret = `AWS4${credentials.secretAccessKey}`;
    key = hmac(hmac(hmac(hmac(secret, day), region), service), 'aws4_request');
    keys.set(scope, key);
  }
  return key;
}

/** The last second formatted, and its text: requests in a burst share it. */
let formatted = { second: Number.NaN, text: '' };

/** `20261128T142552Z` */
export function amzDate(now: Date): string {
  const second = Math.floor(now.getTime() / 1000);
  if (second !== formatted.second) {
    // An invalid date throws here (RangeError), as toISOString does.
    const text = now
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d{3}/, '');
    formatted = { second, text };
  }
  return formatted.text;
}

/** What SigV4's canonical form changes in a value: line breaks, tabs, a space too many. */
const NOT_CANONICAL = /[\r\n\t]|^ | $| {2}/;

/** A header value as the AWS SDK's signer canonicalises it (spaces and tabs only: not NBSP). */
function canonicalValue(value: string): string {
  if (!NOT_CANONICAL.test(value)) return value;
  return value
    .replace(/[\r\n]/g, ' ')
    .replace(/[ \t]+/g, ' ')
    .replace(/^ | $/g, '');
}

/**
 * The request's headers plus `host`, `x-amz-content-sha256`, `x-amz-date`, `x-amz-security-token`
 * (with temporary credentials) and `authorization`.
 */
export function signRequest(input: SignInput): Record<string, string> {
  const date = amzDate(input.now);
  const day = date.slice(0, 8);
  // crypto.hash: one call, no Hash object (about a third of signing's cost in a short run).
  const payloadHash = hash('sha256', input.body, 'hex');
  // The SDK sends and signs the payload hash for these services too; so does credexec.
  const headers: Record<string, string> = {
    ...input.headers,
    host: input.host,
    'x-amz-content-sha256': payloadHash,
    'x-amz-date': date,
  };
  if (input.credentials.sessionToken !== undefined) {
    headers['x-amz-security-token'] = input.credentials.sessionToken;
  }
  const names = Object.keys(headers).sort();
  const signedHeaders = names.join(';');
  let canonicalHeaders = '';
  for (const name of names) canonicalHeaders += `${name}:${canonicalValue(headers[name]!)}\n`;
  const canonicalRequest = `${input.method}\n${input.path}\n\n${canonicalHeaders}\n${signedHeaders}\n${payloadHash}`;
  const scope = `${day}/${input.region}/${input.service}/aws4_request`;
  const stringToSign = `${ALGORITHM}\n${date}\n${scope}\n${hash('sha256', canonicalRequest, 'hex')}`;
  const key = signingKey(input.credentials, day, input.region, input.service);
  const signature = createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');
  headers.authorization = `${ALGORITHM} Credential=${input.credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return headers;
}
