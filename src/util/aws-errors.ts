/**
 * Structural inspection of AWS SDK v3 errors (service exceptions carry `name` and `$metadata`;
 * transport failures carry a Node errno `code`), without importing the SDK.
 */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
]);

const NETWORK_NAMES = new Set(['TimeoutError', 'RequestTimeout', 'AbortError']);

function field(error: unknown, key: string): unknown {
  return typeof error === 'object' && error !== null && key in error
    ? (error as Record<string, unknown>)[key]
    : undefined;
}

/**
 * The AWS error code (`ConditionalCheckFailedException`, …), the SDK error class name, or for a
 * plain Node error its code (`ECONNRESET`, `DEPTH_ZERO_SELF_SIGNED_CERT`, …).
 */
export function awsErrorCode(error: unknown): string | undefined {
  const name = field(error, 'name');
  if (typeof name === 'string' && name !== '' && name !== 'Error') return name;
  const code = field(error, 'Code') ?? field(error, '__type') ?? field(error, 'code');
  return typeof code === 'string' && code !== '' ? code.replace(/^.*#/, '') : undefined;
}

/** HTTP status of a service response; undefined when no response arrived. */
export function awsHttpStatus(error: unknown): number | undefined {
  const status = field(field(error, '$metadata'), 'httpStatusCode');
  return typeof status === 'number' ? status : undefined;
}

/** The service's message, shortened to one line. */
export function awsErrorMessage(error: unknown): string | undefined {
  const message = field(error, 'message');
  if (typeof message !== 'string' || message === '' || message === 'UnknownError') return undefined;
  const line = message.split('\n', 1)[0]!.trim();
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

/** True when the request never got a service response (refused, reset, DNS, timeout). */
export function isNetworkError(error: unknown): boolean {
  const code = field(error, 'code');
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
  const name = field(error, 'name');
  if (typeof name === 'string' && NETWORK_NAMES.has(name)) return true;
  const cause = field(error, 'cause');
  if (cause !== undefined && cause !== error && isNetworkError(cause)) return true;
  const errors = field(error, 'errors');
  if (Array.isArray(errors)) return errors.some((inner) => isNetworkError(inner));
  return false;
}

/** Every error in `error`'s cause chain and aggregate (the SDK wraps, AggregateError lists). */
function errorChain(error: unknown, seen = new Set<unknown>()): unknown[] {
  if (error === undefined || error === null || seen.has(error)) return [];
  seen.add(error);
  const errors = field(error, 'errors');
  return [
    error,
    ...errorChain(field(error, 'cause'), seen),
    ...(Array.isArray(errors) ? errors.flatMap((inner) => errorChain(inner, seen)) : []),
  ];
}

/**
 * What went wrong on the way to `service` and back, in words, for a network error: the request
 * got no answer in time, the answer was cut short, the connection was closed, or the service
 * could not be reached at all. Followed by the transport's own detail.
 */
export function networkFailure(service: string, error: unknown): string {
  const chain = errorChain(error);
  const has = (test: (name: unknown, code: unknown) => boolean) =>
    chain.some((link) => test(field(link, 'name'), field(link, 'code')));
  const detail = awsErrorMessage(error);
  const what = has((name) => name === RESPONSE_CUT_SHORT)
    ? `the answer from ${service} was cut short`
    : has(
          (name, code) =>
            name === 'TimeoutError' || name === 'RequestTimeout' || code === 'ETIMEDOUT',
        )
      ? `no answer from ${service} in time`
      : has((_, code) => code === 'ECONNRESET' || code === 'EPIPE' || code === 'ECONNABORTED')
        ? `${service} closed the connection`
        : `cannot reach ${service}`;
  return detail === undefined ? what : `${what} (${detail})`;
}

/** The name of the error for an answer whose connection closed before all of it arrived. */
export const RESPONSE_CUT_SHORT = 'ResponseCutShortError';

export const AWS_THROTTLING_CODES: ReadonlySet<string> = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ProvisionedThroughputExceededException',
  'LimitExceededException',
  'SlowDown',
]);

/**
 * An answer that is not a well-formed answer of its operation: a body that is not JSON, the
 * wrong shape, binary that is not base64. `problem` says what is wrong without quoting the
 * response, which may hold ciphertext. The same answer would come again: never retried.
 */
export class MalformedResponseError extends Error {
  readonly problem: string;

  constructor(problem: string) {
    super(`malformed response: ${problem}`);
    this.name = 'MalformedResponseError';
    this.problem = problem;
  }
}

/** A response body larger than any real answer of its operation: refused unread, not retried. */
export class ResponseTooLargeError extends Error {
  readonly limitBytes: number;

  constructor(limitBytes: number) {
    super(`response exceeds ${formatSize(limitBytes)}; refusing it`);
    this.name = 'ResponseTooLargeError';
    this.limitBytes = limitBytes;
  }
}

function formatSize(bytes: number): string {
  if (bytes % 1_048_576 === 0) return `${bytes / 1_048_576} MiB`;
  if (bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}

/**
 * The SDK's deserializer throws its parser's own error for a 2xx body it cannot read (with the
 * raw response hidden on it as `$response`): a SyntaxError quoting the body, or a TypeError for
 * binary that is not base64. Only the kind is kept.
 */
function sdkDeserializationProblem(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('$response' in error)) return undefined;
  const status = awsHttpStatus(error);
  if (status === undefined || status < 200 || status > 299) return undefined;
  if (field(error, '$fault') !== undefined || isNetworkError(error)) return undefined;
  if (error instanceof SyntaxError) return 'not valid JSON';
  const message = field(error, 'message');
  if (error instanceof TypeError && typeof message === 'string' && /base64/i.test(message))
    return 'a binary value is not valid base64';
  const name = field(error, 'name');
  return `cannot be decoded (${typeof name === 'string' && /^\w{1,64}$/.test(name) ? name : 'error'})`;
}

/** What is wrong with an answer that came but cannot be used; undefined for other failures. */
function malformedProblem(error: unknown): string | undefined {
  if (error instanceof MalformedResponseError) return error.problem;
  const code = field(error, 'code');
  // Node's HTTP parser refused the answer (not HTTP, a bad Content-Length, …).
  if (typeof code === 'string' && /^HPE_[A-Z_]{1,64}$/.test(code))
    return `not a valid HTTP response (${code})`;
  return sdkDeserializationProblem(error);
}

/**
 * The message for an answer that cannot be used, from either transport, about `subject`
 * (`DynamoDB Query on table T in R`, `KMS Decrypt (KMS in R)`); undefined for every other
 * failure (service errors, network errors, timeouts), which keep their own mapping.
 */
export function responseFailureMessage(error: unknown, subject: string): string | undefined {
  if (error instanceof ResponseTooLargeError)
    return `response from ${subject} exceeds ${formatSize(error.limitBytes)}; refusing it`;
  const problem = malformedProblem(error);
  return problem === undefined ? undefined : `malformed response from ${subject}: ${problem}`;
}
