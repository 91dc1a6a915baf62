import test from 'ava';
import { startAwsFixture, type AwsFixture } from '../support/aws-fixture.js';
import { registerBackendContract } from '../support/backend-contract.js';

let fixture: AwsFixture;

test.before(async () => {
  fixture = await startAwsFixture({ setup: false });
});

test.after.always(async () => {
  await fixture?.stop();
});

let next = 0;
registerBackendContract('aws backend (dynalite + test KMS)', () =>
  fixture.openBackend({ table: `contract-${next++}` }),
);
