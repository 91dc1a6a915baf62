import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { emitWarningIfUnsupportedVersion } from '@aws-sdk/core/client';
import { TLS_CONNECTIONS_PER_SERVICE, type AwsClientConfig } from './config.js';

/**
 * On Node < 22 the SDK's client constructor emits a NodeVersionSupportWarning through
 * process.emitWarning, which Node prints to stderr. The SDK's own switch turns it off and marks
 * it as handled for the whole process (the nested STS/SSO clients share that state). The switch
 * is set only while the constructor runs so it never reaches a child's environment.
 */
export function withoutNodeVersionWarning<T>(construct: () => T): T {
  const previous = process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  try {
    // Mark the warning handled now: a credential provider may build its nested STS or SSO
    // client much later, when the switch is long gone.
    emitWarningIfUnsupportedVersion(process.version);
    return construct();
  } finally {
    if (previous === undefined) delete process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
    else process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = previous;
  }
}

// The credential providers and the HTTP handler log through this: credexec prints nothing it did
// not decide to print. The clients keep the SDK's own NoOpLogger, which the SDK recognizes: with
// any other logger it copies and filters every request and response for logging (measured at
// about 10% of credexec's CPU time for 100 secrets), even when the logger drops everything.
export const quietLogger = {
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** What every SDK client credexec builds shares: timeouts, keep-alive, retries, quiet logging. */
export function sdkClientOptions(config: AwsClientConfig) {
  return {
    requestHandler: {
      connectionTimeout: config.connectTimeoutMs,
      requestTimeout: config.requestTimeoutMs,
      // Without this the handler only logs a warning when requestTimeout passes.
      throwOnRequestTimeout: true,
      httpAgent: new HttpAgent({ keepAlive: true }),
      httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: TLS_CONNECTIONS_PER_SERVICE }),
      logger: quietLogger,
    },
    // Resolve each command's middleware stack once instead of on every request; credexec never
    // changes a stack after its first request.
    cacheMiddleware: true,
    ...(config.profile === undefined ? {} : { profile: config.profile }),
    ...(config.maxAttempts === undefined ? {} : { maxAttempts: config.maxAttempts }),
    ...(config.retryMode === undefined ? {} : { retryMode: config.retryMode }),
  };
}
