import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { openBackend } from '../../src/backends/open-backend.js';
import { StoreError } from '../../src/errors.js';
import { putSecret } from '../../src/secrets/put-secret.js';
import { getSecret } from '../../src/secrets/read-secrets.js';

function tempDir(t: { teardown: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'credexec-local-backend-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test("close() zeroes the backend's cached master key; a later use reads it again", async (t) => {
  const localDir = join(tempDir(t), 'store');
  const backend = await openBackend({ backend: 'local', localDir }, {});
  await backend.setup({});
  await putSecret(backend, { name: 'api', value: 'v1' });
  const key = readFileSync(join(localDir, 'master.key'));
  const zeroed: Buffer[] = [];
  const fill = Buffer.prototype.fill;
  t.teardown(() => (Buffer.prototype.fill = fill));
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- fill has many overloads
  Buffer.prototype.fill = function (this: Buffer, ...args: any[]) {
    if (args[0] === 0 && this.length === 32 && this.equals(key)) zeroed.push(this);
    return fill.apply(this, args as Parameters<typeof fill>);
  };
  backend.close?.();
  await new Promise((resolve) => setImmediate(resolve));
  Buffer.prototype.fill = fill;
  t.is(zeroed.length, 1);
  t.is((await getSecret(backend, { name: 'api' })).toString('utf8'), 'v1');
});

test('setup refuses a local directory that group or others can write to, naming the fix', async (t) => {
  const localDir = join(tempDir(t), 'store');
  mkdirSync(localDir);
  chmodSync(localDir, 0o775);
  const backend = await openBackend({ backend: 'local', localDir }, {});
  await t.throwsAsync(backend.setup({}), {
    instanceOf: StoreError,
    message: `local directory ${localDir} is writable by group or others (mode 0775); refusing to use it — run \`chmod go-w ${localDir}\``,
  });
  chmodSync(localDir, 0o700);
  await backend.setup({});
  await putSecret(backend, { name: 'api', value: 'v1' });
  t.is((await getSecret(backend, { name: 'api' })).toString('utf8'), 'v1');
});
