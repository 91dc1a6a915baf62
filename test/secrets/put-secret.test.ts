import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { openBackend } from '../../src/backends/open-backend.js';
import { getSecret } from '../../src/secrets/read-secrets.js';
import { putSecret } from '../../src/secrets/put-secret.js';

test('a value given as a string is encoded into a buffer that is zeroed once sealed', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'credexec-put-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const backend = await openBackend({ backend: 'local', localDir: join(dir, 'store') }, {});
  await backend.setup({});
  const value = 'a string value from putall';
  const from = Buffer.from;
  const encoded: Buffer[] = [];
  Buffer.from = ((...args: Parameters<typeof Buffer.from>) => {
    const buffer = (from as (...a: unknown[]) => Buffer)(...args);
    if (args[0] === value) encoded.push(buffer);
    return buffer;
  }) as typeof Buffer.from;
  try {
    await putSecret(backend, { name: 'c', value });
  } finally {
    Buffer.from = from;
  }
  t.is(encoded.length, 1);
  t.true(encoded.every((buffer) => buffer.every((byte) => byte === 0)));
  t.is((await getSecret(backend, { name: 'c' })).toString('utf8'), value);
});
