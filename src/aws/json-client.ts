import { AWS_THROTTLING_CODES, MalformedResponseError } from '../util/aws-errors.js';
import { TLS_CONNECTIONS_PER_SERVICE } from './config.js';
import { Http1Pool } from './http1-pool.js';
import { responseLimit } from './response-body.js';
import { JsonPostSigner, type AwsCredentials } from './sigv4.js';

/**
 * A minimal client for the AWS JSON protocol (DynamoDB, KMS): sign with SigV4, POST over
 * keep-alive connections of its own (http1-pool.ts: `node:http` costs a fresh process nearly four
 * times the CPU per request), parse JSON, retry like the SDK's standard mode. It exists because the
 * launcher's read path is dominated by the SDK's per-request CPU cost (see the closing notes of
 * the performance work and `npm run bench -- --profile`); everything else uses the SDK.
 *
 * Failures look like the SDK's, so the same mappings apply: service errors have `name` (the AWS
 * error code), `message` and `$metadata.httpStatusCode`; transport failures keep Node's errno
 * `code`; timeouts are named `TimeoutError`. No failure carries a request or response body.
 * Answers are read up to `responseLimit` (a ResponseTooLargeError beyond); a 2xx body that is
 * not a JSON object is a MalformedResponseError, neither of them retried; a body cut short fails
 * like a reset connection (ECONNRESET) and is retried.
 */
export interface JsonClientOptions {
  /** Where requests go: `https://kms.eu-west-1.amazonaws.com` or a custom endpoint. */
  readonly endpoint: URL;
  /** SigV4 signing name and region. */
  readonly signingName: string;
  readonly region: string;
  /** `DynamoDB_20120810` / `TrentService`. */
  readonly targetPrefix: string;
  /** `1.0` for DynamoDB, `1.1` for KMS. */
  readonly jsonVersion: '1.0' | '1.1';
  readonly credentials: () => Promise<AwsCredentials>;
  readonly maxAttempts: number;
  readonly connectTimeoutMs: number;
  readonly requestTimeoutMs: number;
  /**
   * Trusted certificates instead of Node's CA store (for tests). Over TLS the client opens at
   * most `TLS_CONNECTIONS_PER_SERVICE` connections, over plain HTTP as many as asked for.
   */
  readonly ca?: string | Buffer;
  /** For tests: the clock and the pause between attempts. */
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface AwsJsonError extends Error {
  $metadata: { httpStatusCode?: number; requestId?: string; attempts: number };
  $retryable?: boolean;
}

const DEFAULT_RETRY_DELAY_BASE_MS = 100;
const THROTTLING_RETRY_DELAY_BASE_MS = 500;
const MAXIMUM_RETRY_DELAY_MS = 20_000;
const TRANSIENT_STATUS = new Set([500, 502, 503, 504]);
const TRANSIENT_CODES = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);
const RETRYABLE_ERRNO = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
// Answers that mean "your clock is off" when it is (the SDK's list); retried once with the
// server's clock.
const CLOCK_SKEW_CODES = new Set([
  'AuthFailure',
  'InvalidSignatureException',
  'RequestExpired',
  'RequestInTheFuture',
  'RequestTimeTooSkewed',
  'SignatureDoesNotMatch',
]);
const CLOCK_SKEW_TOLERANCE_MS = 5 * 60_000;

/**
 * `value` with every Uint8Array in it as base64 text, as the SDK's JSON protocol sends blobs; the
 * same object when it holds none (a Query), so that only what holds bytes (a Decrypt) is copied.
 */
function blobsAsBase64(value: unknown): unknown {
  if (value instanceof Uint8Array)
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let index = 0; index < value.length; index++) {
      const converted = blobsAsBase64(value[index]);
      if (converted !== value[index]) (copy ??= [...value])[index] = converted;
    }
    return copy ?? value;
  }
  let copy: Record<string, unknown> | undefined;
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const converted = blobsAsBase64(record[key]);
    if (converted !== record[key]) (copy ??= { ...record })[key] = converted;
  }
  return copy ?? value;
}

function serialize(input: object): string {
  return JSON.stringify(blobsAsBase64(input));
}

interface Response {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

const isSuccess = (status: number) => status >= 200 && status < 300;

/** A 2xx body: a JSON object, or nothing (an empty answer, as the SDK reads it). */
function parseAnswer(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  const text = body.toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    if (text.trim() === '') return {};
    // The parser's message quotes the body: it is not kept.
    throw new MalformedResponseError('not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new MalformedResponseError('not a JSON object');
  return value as Record<string, unknown>;
}

function header(response: Response, name: string): string | undefined {
  const value = response.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function serviceError(response: Response, attempts: number): AwsJsonError {
  let parsed: Record<string, unknown> = {};
  try {
    const text = response.body.toString('utf8');
    if (text.trim() !== '') parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = {};
  }
  const rawType =
    (typeof parsed.__type === 'string' ? parsed.__type : undefined) ??
    header(response, 'x-amzn-errortype') ??
    (typeof parsed.code === 'string' ? parsed.code : undefined);
  // `com.amazonaws.dynamodb.v20120810#ResourceNotFoundException`, `ThrottlingException:http://…`
  const code = rawType?.split(':')[0]?.replace(/^.*#/, '') || `HTTP${response.status}`;
  const text = [parsed.message, parsed.Message].find(
    (value): value is string => typeof value === 'string',
  );
  const error = new Error(text ?? `${code} (HTTP ${response.status})`) as AwsJsonError;
  error.name = code;
  const requestId = header(response, 'x-amzn-requestid');
  error.$metadata = {
    httpStatusCode: response.status,
    ...(requestId === undefined ? {} : { requestId }),
    attempts,
  };
  return error;
}

export class AwsJsonClient {
  readonly #options: JsonClientOptions;
  /** Keep-alive connections to the endpoint (`node:net` / `node:tls`, see http1-pool.ts). */
  readonly #pool: Http1Pool;
  readonly #signer: JsonPostSigner;
  readonly #path: string;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  /** Server time minus local time, learned from a clock-skew answer. */
  #clockOffsetMs = 0;

  constructor(options: JsonClientOptions) {
    const { endpoint } = options;
    if (endpoint.protocol !== 'http:' && endpoint.protocol !== 'https:') {
      throw new Error(`unsupported endpoint protocol ${endpoint.protocol}`);
    }
    this.#options = options;
    // JSON-protocol requests go to the endpoint's path plus "/" (as the SDK sends them).
    this.#path = `${endpoint.pathname.replace(/\/$/, '')}/`;
    this.#signer = new JsonPostSigner({
      host: endpoint.host,
      path: this.#path,
      contentType: `application/x-amz-json-${options.jsonVersion}`,
      service: options.signingName,
      region: options.region,
    });
    this.#now = options.now ?? Date.now;
    this.#sleep =
      // A backoff may be the only thing pending (one secret, throttled): it keeps the process up.
      options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#pool = new Http1Pool({
      endpoint,
      maxSockets: endpoint.protocol === 'https:' ? TLS_CONNECTIONS_PER_SERVICE : Infinity,
      ca: options.ca,
    });
  }

  /** `operation` is the X-Amz-Target suffix: `Query`, `BatchGetItem`, `Decrypt`. */
  async call(operation: string, input: object): Promise<Record<string, unknown>> {
    const body = serialize(input);
    const { maxAttempts } = this.#options;
    for (let attempt = 1; ; attempt++) {
      let response: Response;
      try {
        response = await this.#send(operation, body);
      } catch (error: unknown) {
        const code = (error as { code?: unknown }).code;
        const transient =
          (error as Error).name === 'TimeoutError' ||
          (typeof code === 'string' && RETRYABLE_ERRNO.has(code));
        if (!transient || attempt >= maxAttempts) throw error;
        await this.#sleep(this.#backoff(attempt, false));
        continue;
      }
      if (isSuccess(response.status)) return parseAnswer(response.body);
      const error = serviceError(response, attempt);
      const throttled = AWS_THROTTLING_CODES.has(error.name) || response.status === 429;
      const skewed = CLOCK_SKEW_CODES.has(error.name) && this.#learnClock(response);
      const retryable =
        throttled ||
        skewed ||
        TRANSIENT_STATUS.has(response.status) ||
        TRANSIENT_CODES.has(error.name);
      if (!retryable || attempt >= maxAttempts) throw error;
      if (!skewed) await this.#sleep(this.#backoff(attempt, throttled));
    }
  }

  /**
   * Open up to `count` connections now for requests about to come (see Http1Pool#preconnect).
   * Never fails: a connection that cannot be opened fails the request that would have used it.
   */
  preconnect(count: number): void {
    this.#pool.preconnect(count, this.#options.connectTimeoutMs).catch(() => {});
  }

  destroy(): void {
    this.#pool.destroy();
  }

  /** Full jitter, as the SDK's standard retry mode: random × 2^retry × base, at most 20 s. */
  #backoff(attempt: number, throttled: boolean): number {
    const base = throttled ? THROTTLING_RETRY_DELAY_BASE_MS : DEFAULT_RETRY_DELAY_BASE_MS;
    return Math.floor(Math.min(MAXIMUM_RETRY_DELAY_MS, Math.random() * 2 ** (attempt - 1) * base));
  }

  /** True when the server's Date shows a skew worth retrying with (and records it). */
  #learnClock(response: Response): boolean {
    const date = header(response, 'date');
    const server = date === undefined ? Number.NaN : Date.parse(date);
    if (Number.isNaN(server)) return false;
    const offset = server - this.#now();
    if (Math.abs(offset - this.#clockOffsetMs) < CLOCK_SKEW_TOLERANCE_MS) return false;
    this.#clockOffsetMs = offset;
    return true;
  }

  async #send(operation: string, body: string): Promise<Response> {
    const options = this.#options;
    const credentials = await options.credentials();
    const lines = this.#signer.headerLines(
      `${options.targetPrefix}.${operation}`,
      body,
      credentials,
      new Date(this.#now() + this.#clockOffsetMs),
    );
    return this.#pool.request({
      path: this.#path,
      headers: `${lines}user-agent: credexec\r\n`,
      body,
      maxBodyBytes: responseLimit(options.signingName, operation),
      requestTimeoutMs: options.requestTimeoutMs,
      connectTimeoutMs: options.connectTimeoutMs,
    });
  }
}
