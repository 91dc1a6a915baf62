import test from 'ava';
import {
  awsErrorCode,
  awsErrorMessage,
  isNetworkError,
  MalformedResponseError,
  networkFailure,
  RESPONSE_CUT_SHORT,
  ResponseTooLargeError,
  responseFailureMessage,
} from '../../src/util/aws-errors.js';

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

test('responseFailureMessage: malformed and oversized answers, from either transport', (t) => {
  const subject = 'DynamoDB Query on table t in r';
  t.is(
    responseFailureMessage(new MalformedResponseError('Items is not a list'), subject),
    'malformed response from DynamoDB Query on table t in r: Items is not a list',
  );
  t.is(
    responseFailureMessage(new ResponseTooLargeError(32 * 1024 * 1024), subject),
    'response from DynamoDB Query on table t in r exceeds 32 MiB; refusing it',
  );
  // What the SDK throws when it cannot deserialize a 200: the parser's error, with the raw
  // response hidden on it. Its message quotes the body, so only its kind is reported.
  const sdkFailure = (error: Error, status = 200) => {
    Object.defineProperty(error, '$response', { value: { statusCode: status }, enumerable: false });
    return Object.assign(error, { $metadata: { httpStatusCode: status } });
  };
  t.is(
    responseFailureMessage(
      sdkFailure(new SyntaxError('Unexpected token < in "<html>c2Vj"')),
      subject,
    ),
    'malformed response from DynamoDB Query on table t in r: not valid JSON',
  );
  t.is(
    responseFailureMessage(
      sdkFailure(new TypeError('Incorrect padding on base64 string.')),
      subject,
    ),
    'malformed response from DynamoDB Query on table t in r: a binary value is not valid base64',
  );
  t.is(
    responseFailureMessage(sdkFailure(new RangeError('whatever c2Vj')), subject),
    'malformed response from DynamoDB Query on table t in r: cannot be decoded (RangeError)',
  );
  const httpGarbage = Object.assign(new Error('Parse Error: Expected HTTP/'), {
    code: 'HPE_INVALID_CONSTANT',
  });
  t.is(
    responseFailureMessage(httpGarbage, subject),
    'malformed response from DynamoDB Query on table t in r: not a valid HTTP response (HPE_INVALID_CONSTANT)',
  );
  // A body cut short is a network failure; a service error is a service error.
  const aborted = sdkFailure(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
  t.is(responseFailureMessage(aborted, subject), undefined);
  const service = sdkFailure(
    Object.assign(new Error('denied'), { name: 'AccessDeniedException', $fault: 'client' }),
    400,
  );
  t.is(responseFailureMessage(service, subject), undefined);
  t.is(responseFailureMessage(new Error('plain'), subject), undefined);
});

test('networkFailure says what went wrong on the way: refused, no answer in time, closed, cut short', (t) => {
  const errno = (code: string, message: string) => Object.assign(new Error(message), { code });
  t.is(
    networkFailure('DynamoDB', errno('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:9')),
    'cannot reach DynamoDB (connect ECONNREFUSED 127.0.0.1:9)',
  );
  const timeout = Object.assign(new Error('no answer from kms:443 within 2000 ms'), {
    name: 'TimeoutError',
  });
  t.is(
    networkFailure('KMS', timeout),
    'no answer from KMS in time (no answer from kms:443 within 2000 ms)',
  );
  // The SDK wraps the transport's error; the cause still decides.
  t.is(
    networkFailure('KMS', new Error('socket hang up', { cause: errno('ECONNRESET', 'reset') })),
    'KMS closed the connection (socket hang up)',
  );
  const cut = Object.assign(errno('ECONNRESET', 'the connection closed after 3 of 9 bytes'), {
    name: RESPONSE_CUT_SHORT,
  });
  t.is(
    networkFailure('DynamoDB', cut),
    'the answer from DynamoDB was cut short (the connection closed after 3 of 9 bytes)',
  );
});
