import { createHmac, hash } from 'node:crypto';

/**
 * AWS Signature Version 4 for the JSON-protocol POSTs credexec's read path sends (one path, no
 * query string, a fixed header set). Pure apart from small caches: derived signing keys and
 * checked credentials (per credentials object), the last formatted second. Checked against the
 * AWS SDK's own signer (@smithy/signature-v4) in test/aws/sigv4.test.ts.
 */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string | undefined;
  readonly expiration?: Date | undefined;
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

/** What an HTTP/1.1 header value may hold here: tabs and printable ASCII, never a line break. */
const HEADER_TEXT = /^[\t\x20-\x7e]*$/;

function headerText(what: string, value: string): string {
  if (!HEADER_TEXT.test(value)) throw new Error(`the ${what} header has invalid characters`);
  return value;
}

export interface JsonPostEndpoint {
  /** `host[:port]`, exactly as sent in the Host header. */
  readonly host: string;
  /** Absolute path made only of unreserved characters and `/` (nothing to escape). */
  readonly path: string;
  /** `application/x-amz-json-1.0` (DynamoDB) or `-1.1` (KMS). */
  readonly contentType: string;
  readonly service: string;
  readonly region: string;
}

/** Per credentials object: the checked access key id and session token, and their header forms. */
interface CheckedCredentials {
  /** `x-amz-security-token:VALUE\n` for the canonical request, or ''. */
  readonly canonicalToken: string;
  /** `x-amz-security-token: VALUE\r\n` for the request, or ''. */
  readonly tokenLine: string;
  /** `;x-amz-security-token` in the signed header list, or ''. */
  readonly signedToken: string;
}

const checkedCredentials = new WeakMap<AwsCredentials, CheckedCredentials>();

function checked(credentials: AwsCredentials): CheckedCredentials {
  let found = checkedCredentials.get(credentials);
  if (found === undefined) {
    // The key id goes into Authorization, the token into a header of its own: neither may
    // split the request.
    headerText('authorization', credentials.accessKeyId);
    const token = credentials.sessionToken;
    found =
      token === undefined
        ? { canonicalToken: '', tokenLine: '', signedToken: '' }
        : {
            canonicalToken: `x-amz-security-token:${canonicalValue(token)}\n`,
            tokenLine: `x-amz-security-token: ${headerText('x-amz-security-token', token)}\r\n`,
            signedToken: ';x-amz-security-token',
          };
    checkedCredentials.set(credentials, found);
  }
  return found;
}

/**
 * SigV4 for the JSON-protocol POSTs of the read path, to one endpoint, with the header set they
 * send: content-length, content-type, host, x-amz-content-sha256, x-amz-date,
 * x-amz-security-token (temporary credentials), x-amz-target, signed in that (sorted) order. The
 * constant parts are checked and put in canonical form once, so a request costs two SHA-256s,
 * one HMAC and a few strings, and no header map. What it signs and sends is what the AWS SDK's
 * own signer (@smithy/signature-v4) computes for the same request (test/aws/sigv4.test.ts).
 */
export class JsonPostSigner {
  readonly #endpoint: JsonPostEndpoint;
  /** `content-type:…\nhost:…\n`, canonical. */
  readonly #canonicalFixed: string;
  /** `content-type: …\r\nhost: …\r\n`, as sent. */
  readonly #fixedLines: string;
  /** Per X-Amz-Target: its canonical line and its header line. */
  readonly #targets = new Map<string, { readonly canonical: string; readonly line: string }>();

  constructor(endpoint: JsonPostEndpoint) {
    this.#endpoint = endpoint;
    const { contentType, host } = endpoint;
    this.#canonicalFixed = `content-type:${canonicalValue(contentType)}\nhost:${canonicalValue(host)}\n`;
    this.#fixedLines = `content-type: ${headerText('content-type', contentType)}\r\nhost: ${headerText('host', host)}\r\n`;
  }

  /**
   * The header lines of one POST of `body` to `target` (`DynamoDB_20120810.Query`), each ending
   * in CRLF: the signed headers above, then Authorization. Throws, before anything is signed, when
   * the target or the credentials would not make valid header text.
   */
  headerLines(target: string, body: string, credentials: AwsCredentials, now: Date): string {
    const { path, region, service } = this.#endpoint;
    const { canonicalToken, tokenLine, signedToken } = checked(credentials);
    let forTarget = this.#targets.get(target);
    if (forTarget === undefined) {
      forTarget = {
        canonical: `x-amz-target:${canonicalValue(target)}\n`,
        line: `x-amz-target: ${headerText('x-amz-target', target)}\r\n`,
      };
      this.#targets.set(target, forTarget);
    }
    const date = amzDate(now);
    const day = date.slice(0, 8);
    const length = Buffer.byteLength(body);
    // crypto.hash: one call, no Hash object (about a third of signing's cost in a short run).
    const payloadHash = hash('sha256', body, 'hex');
    const signedHeaders = `content-length;content-type;host;x-amz-content-sha256;x-amz-date${signedToken};x-amz-target`;
    const canonicalRequest = `POST\n${path}\n\ncontent-length:${length}\n${this.#canonicalFixed}x-amz-content-sha256:${payloadHash}\nx-amz-date:${date}\n${canonicalToken}${forTarget.canonical}\n${signedHeaders}\n${payloadHash}`;
    const scope = `${day}/${region}/${service}/aws4_request`;
    const stringToSign = `${ALGORITHM}\n${date}\n${scope}\n${hash('sha256', canonicalRequest, 'hex')}`;
    const key = signingKey(credentials, day, region, service);
    const signature = createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');
    return `${this.#fixedLines}content-length: ${length}\r\n${forTarget.line}x-amz-content-sha256: ${payloadHash}\r\nx-amz-date: ${date}\r\n${tokenLine}authorization: ${ALGORITHM} Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}\r\n`;
  }
}
