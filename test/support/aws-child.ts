/**
 * Run in a child process by test/backends/aws.test.ts: opens the aws backend from the child's own
 * environment, puts and gets one credential, and reports on stdout. Its stderr must stay empty.
 */
import { openBackend } from '../../src/backends/open-backend.js';
import { messageOf } from '../../src/errors.js';
import { putSecret } from '../../src/secrets/put-secret.js';
import { getSecret } from '../../src/secrets/read-secrets.js';

const SWITCH = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';

try {
  const backend = await openBackend();
  await putSecret(backend, { name: 'child', value: 'child-value', autoversion: true });
  const value = await getSecret(backend, { name: 'child' });
  process.stdout.write(`value=${value.toString('utf8')}\n`);
  process.stdout.write(`switch=${process.env[SWITCH] ?? '(unset)'}\n`);
} catch (error: unknown) {
  process.stdout.write(
    `error=${error instanceof Error ? error.name : 'unknown'}: ${messageOf(error)}\n`,
  );
}
