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
