import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import type { Backend } from '../../src/backends/backend.js';
import { openBackend } from '../../src/backends/open-backend.js';
import {
  CredentialStoreError,
  SetupRequiredError,
  StoreError,
  VersionExistsError,
} from '../../src/errors.js';
import { deleteSecrets } from '../../src/secrets/manage-secrets.js';
import { putSecret } from '../../src/secrets/put-secret.js';
import { getSecret } from '../../src/secrets/read-secrets.js';

/** SPEC §4: a failure names the credential. A store failure names the table; this adds the name. */
async function backendWithFailingStore(failure: Error): Promise<Backend> {
  const dir = mkdtempSync(join(tmpdir(), 'credexec-store-failure-'));
  const backend = await openBackend({ backend: 'local', localDir: join(dir, 'store') }, {});
  await backend.setup({});
  await putSecret(backend, { name: 'app.kept', value: 'v1' });
  rmSync(dir, { recursive: true, force: true });
  const fail = () => Promise.reject(failure);
  Object.assign(backend.store, {
    get: fail,
    getLatest: fail,
    put: fail,
    versions: fail,
    delete: fail,
  });
  return backend;
}

const throttled = new StoreError('Query on table t in r: DynamoDB is throttling requests');

test('a store failure while reading names the credential and the version asked for', async (t) => {
  const backend = await backendWithFailingStore(throttled);
  const latest = await t.throwsAsync(getSecret(backend, { name: 'app.db' }), {
    instanceOf: CredentialStoreError,
  });
  t.is(latest.message, `cannot read credential "app.db": ${throttled.message}`);
  t.is(latest.code, 'STORE');
  t.is(latest.cause, throttled);
  const pinned = await t.throwsAsync(getSecret(backend, { name: 'app.db', version: '3' }));
  t.is(
    pinned.message,
    `cannot read credential "app.db" version 0000000000000000003: ${throttled.message}`,
  );
});

test('a store failure while storing or deleting names the credential', async (t) => {
  const backend = await backendWithFailingStore(throttled);
  const put = await t.throwsAsync(putSecret(backend, { name: 'app.db', value: 'x' }));
  t.is(
    put.message,
    `cannot store credential "app.db" version 0000000000000000001: ${throttled.message}`,
  );
  const autoversion = await t.throwsAsync(
    putSecret(backend, { name: 'app.db', value: 'x', autoversion: true }),
  );
  t.is(autoversion.message, `cannot store credential "app.db": ${throttled.message}`);
  const deleted = await t.throwsAsync(deleteSecrets(backend, { name: 'app.db' }));
  t.is(deleted.message, `cannot delete credential "app.db": ${throttled.message}`);
});

test('a missing store keeps its SETUP_REQUIRED code, and its advice, when it names the credential', async (t) => {
  const missing = new SetupRequiredError('table t not found in region r — run `credexec setup`');
  const backend = await backendWithFailingStore(missing);
  const error = await t.throwsAsync(getSecret(backend, { name: 'app.db' }), {
    instanceOf: CredentialStoreError,
  });
  t.is(error.code, 'SETUP_REQUIRED');
  t.is(error.message, `cannot read credential "app.db": ${missing.message}`);
});

test('errors that already name the credential pass through unchanged', async (t) => {
  const exists = new VersionExistsError('app.db', '0000000000000000001');
  const backend = await backendWithFailingStore(exists);
  t.is(await t.throwsAsync(putSecret(backend, { name: 'app.db', value: 'x' })), exists);
});
