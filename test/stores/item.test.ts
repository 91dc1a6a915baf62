import test from 'ava';
import { StoreError } from '../../src/errors.js';
import {
  attributesFromWire,
  attributesToWire,
  itemFromAttributes,
  itemToAttributes,
} from '../../src/stores/item.js';

const base = {
  name: { S: 'db' },
  version: { S: '0000000000000000001' },
  key: { S: 'a2V5' },
  contents: { S: 'Y29udGVudHM=' },
};

test('hmac is read from B holding ASCII hex, as Python 3 credstash writes it', (t) => {
  const item = itemFromAttributes({
    ...base,
    hmac: { B: Buffer.from('abcd', 'ascii') },
    digest: { S: 'SHA' },
  });
  t.is(item.hmac, 'abcd');
  t.is(item.digest, 'SHA');
});

test('hmac is read from S in any case, and a missing digest means SHA256', (t) => {
  const item = itemFromAttributes({ ...base, hmac: { S: 'ABCD' } });
  t.is(item.hmac, 'ABCD');
  t.is(item.digest, 'SHA256');
});

test('unknown attributes are ignored and a comment is kept', (t) => {
  const item = itemFromAttributes({
    ...base,
    hmac: { S: 'ab' },
    comment: { S: 'note' },
    created_at: { N: '1' },
  });
  t.deepEqual(item, {
    name: 'db',
    version: '0000000000000000001',
    key: 'a2V5',
    contents: 'Y29udGVudHM=',
    hmac: 'ab',
    digest: 'SHA256',
    comment: 'note',
  });
});

test('items are written with hmac as B of lowercase ASCII hex and exactly the credstash attributes', (t) => {
  const attributes = itemToAttributes({
    name: 'db',
    version: '0000000000000000001',
    key: 'a2V5',
    contents: '',
    hmac: 'ABCD',
    digest: 'SHA256',
  });
  t.deepEqual(Object.keys(attributes).sort(), [
    'contents',
    'digest',
    'hmac',
    'key',
    'name',
    'version',
  ]);
  t.deepEqual(attributes.hmac, { B: Buffer.from('abcd', 'ascii') });
  t.deepEqual(attributesToWire(attributes).hmac, { B: Buffer.from('abcd').toString('base64') });
});

test('the wire form round-trips B through base64', (t) => {
  const attributes = itemToAttributes({
    name: 'n',
    version: 'v',
    key: 'k',
    contents: 'c',
    hmac: 'ff',
    digest: 'MD5',
    comment: 'c',
  });
  t.deepEqual(itemFromAttributes(attributesFromWire(attributesToWire(attributes))).comment, 'c');
});

test('an item without a key or hmac is a store error naming the credential', (t) => {
  t.throws(() => itemFromAttributes({ ...base, key: { N: '1' }, hmac: { S: 'ab' } }), {
    instanceOf: StoreError,
    message: /"db".*"key"/,
  });
  t.throws(() => itemFromAttributes({ ...base }), { instanceOf: StoreError, message: /hmac/ });
});
