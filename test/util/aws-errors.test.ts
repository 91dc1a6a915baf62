import test from 'ava';
import { awsErrorCode, awsErrorMessage, isNetworkError } from '../../src/util/aws-errors.js';

test('awsErrorCode: the service code, the SDK class name, or a Node error code', (t) => {
  const service = Object.assign(new Error('gone'), { name: 'ResourceNotFoundException' });
  t.is(awsErrorCode(service), 'ResourceNotFoundException');
  t.is(awsErrorCode({ __type: 'com.amazonaws.kms#DisabledException' }), 'DisabledException');
  const tls = Object.assign(new Error('self-signed certificate'), {
    code: 'DEPTH_ZERO_SELF_SIGNED_CERT',
  });
  t.is(awsErrorCode(tls), 'DEPTH_ZERO_SELF_SIGNED_CERT');
  t.is(awsErrorMessage(tls), 'self-signed certificate');
  t.false(isNetworkError(tls), 'a certificate problem is not a reachability problem');
  t.is(awsErrorCode(new Error('plain')), undefined);
});
