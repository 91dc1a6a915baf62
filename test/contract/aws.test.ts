import test from 'ava';
import { TRANSPORT_ENV } from '../../src/backends/aws.js';
import { startAwsFixture, type AwsFixture } from '../support/aws-fixture.js';
import { registerBackendContract } from '../support/backend-contract.js';

let fixture: AwsFixture;

test.before(async () => {
  fixture = await startAwsFixture({ setup: false });
});

test.after.always(async () => {
  await fixture?.stop();
});

// Both transports honour the same contract: by default credexec sends Query, BatchGetItem and
// Decrypt itself; with CREDEXEC_AWS_TRANSPORT=sdk the SDK sends every call.
let next = 0;
registerBackendContract('aws backend (dynalite + test KMS)', () =>
  fixture.openBackend({ table: `contract-${next++}` }),
);
registerBackendContract('aws backend, SDK transport only (dynalite + test KMS)', () =>
  fixture.openBackend({ table: `contract-${next++}` }, { [TRANSPORT_ENV]: 'sdk' }),
);
