/**
 * Run in a child process by test/launch/secret-files.test.ts: writes one secret file the way a
 * launch does, prints the directory and waits to be killed.
 */
import { SecretFiles } from '../../src/launch/secret-files.js';

const [base] = process.argv.slice(2);
const files = new SecretFiles(base!);
await files.write('KEY_FILE', Buffer.from('secret-bytes'));
process.stdout.write(`${files.directory}\n`);
setInterval(() => undefined, 1_000);
