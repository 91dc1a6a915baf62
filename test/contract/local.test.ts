import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { openBackend } from '../../src/backends/open-backend.js';
import { registerBackendContract } from '../support/backend-contract.js';

let root: string;

test.before(async () => {
  root = await mkdtemp(join(tmpdir(), 'credexec-contract-'));
});

test.after.always(async () => {
  await rm(root, { recursive: true, force: true });
});

let next = 0;
registerBackendContract('local backend', () =>
  openBackend({ backend: 'local', localDir: join(root, `store-${next++}`) }, {}),
);
