import test from 'ava';
import fc from 'fast-check';
import { StoreError } from '../../src/errors.js';
import {
  attributesFromWire,
  attributesToWire,
  itemFromAttributes,
  itemToAttributes,
  type AttributeMap,
  type CredentialItem,
  type WireAttributeMap,
} from '../../src/stores/item.js';
import {
  asRead,
  attributeMaps,
  credentialItems,
  wireAttributeMaps,
} from '../support/item-arbitraries.js';

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

test('a version that is a number, null or a DynamoDB number is refused as not a string', (t) => {
  for (const version of [{ N: '1' }, 1, null, 'text', [], { S: 1 }]) {
    const attributes = { ...base, hmac: { S: 'ab' }, version } as unknown as AttributeMap;
    t.throws(() => itemFromAttributes(attributes), {
      instanceOf: StoreError,
      message: 'item "db": attribute "version" is not a string',
    });
    t.throws(() => itemFromAttributes(attributesFromWire(attributes as WireAttributeMap)), {
      instanceOf: StoreError,
      message: 'item "db": attribute "version" is not a string',
    });
  }
});

test('a missing attribute and one of the wrong type are told apart', (t) => {
  const { name: _name, ...nameless } = base;
  t.throws(() => itemFromAttributes({ ...nameless, hmac: { S: 'ab' } }), {
    instanceOf: StoreError,
    message: 'item: attribute "name" is missing',
  });
  t.throws(() => itemFromAttributes({ ...base, hmac: { N: '1' } }, 'item 4'), {
    instanceOf: StoreError,
    message:
      'item 4 "db" version 0000000000000000001: attribute "hmac" is neither a string nor binary',
  });
});

test('digest, contents and comment of the wrong type are refused, not replaced by defaults', (t) => {
  for (const name of ['digest', 'contents', 'comment']) {
    t.throws(() => itemFromAttributes({ ...base, hmac: { S: 'ab' }, [name]: { N: '256' } }), {
      instanceOf: StoreError,
      message: `item "db" version 0000000000000000001: attribute "${name}" is not a string`,
    });
  }
});

test('something that is not a map of attributes is refused', (t) => {
  for (const value of [null, 1, 'db', [], [base]]) {
    t.throws(() => itemFromAttributes(value as unknown as AttributeMap), {
      instanceOf: StoreError,
      message: 'item is not a map of attributes',
    });
    t.throws(() => attributesFromWire(value as unknown as WireAttributeMap, 'item 2'), {
      instanceOf: StoreError,
      message: 'item 2 is not a map of attributes',
    });
  }
});

test('binary on the wire must be base64 as DynamoDB sends it', (t) => {
  for (const B of ['!!', 'YWI', 'YW=j', '====', 'YWJj\n']) {
    t.throws(
      () => attributesFromWire({ ...base, hmac: { B } }),
      {
        instanceOf: StoreError,
        message: 'item: attribute "hmac" is not valid base64',
      },
      B,
    );
  }
  t.deepEqual(attributesFromWire({ hmac: { B: 'YWI=' } }).hmac, { B: Buffer.from('ab') });
  t.deepEqual(attributesFromWire({ hmac: { B: '' } }).hmac, { B: Buffer.alloc(0) });
});

test('names and versions from a response are quoted on one line', (t) => {
  t.throws(() => itemFromAttributes({ ...base, name: { S: 'a\nb' }, version: { N: '1' } }), {
    instanceOf: StoreError,
    message: 'item "a\\nb": attribute "version" is not a string',
  });
  const long = 'x'.repeat(500);
  const error = t.throws(() =>
    itemFromAttributes({ ...base, version: { S: `1\r${long}` }, hmac: { S: 'ab' }, key: {} }),
  );
  t.is(
    error?.message,
    `item "db" version "1\\r${'x'.repeat(98)}…": attribute "key" is not a string`,
  );
});

test('an attribute named __proto__ is an attribute like any other', (t) => {
  const wire = JSON.parse(
    '{"__proto__":{"name":{"S":"evil"}},"version":{"S":"1"},"key":{"S":"k"},"hmac":{"S":"ab"}}',
  ) as WireAttributeMap;
  t.throws(() => itemFromAttributes(attributesFromWire(wire)), {
    instanceOf: StoreError,
    message: 'item: attribute "name" is missing',
  });
});

function isCredentialItem(item: CredentialItem): boolean {
  const strings = [item.name, item.version, item.key, item.contents, item.hmac, item.digest];
  return (
    strings.every((value) => typeof value === 'string') &&
    (item.comment === undefined || typeof item.comment === 'string')
  );
}

/** Either a valid CredentialItem or a one-line StoreError; any other outcome fails the property. */
function decodesOrRefuses(decode: () => CredentialItem): boolean {
  try {
    return isCredentialItem(decode());
  } catch (error: unknown) {
    return (
      error instanceof StoreError && !error.message.includes('\n') && error.message.length < 400
    );
  }
}

test('any attribute map decodes to a credential item or is refused with a StoreError', (t) => {
  fc.assert(
    fc.property(attributeMaps, (attributes) =>
      decodesOrRefuses(() => itemFromAttributes(attributes as AttributeMap, 'item')),
    ),
    { seed: 91_001, numRuns: 5_000 },
  );
  t.pass();
});

test('any wire item, base64 or not, decodes or is refused with a StoreError', (t) => {
  fc.assert(
    fc.property(wireAttributeMaps, (wire) =>
      decodesOrRefuses(() => itemFromAttributes(attributesFromWire(wire as WireAttributeMap))),
    ),
    { seed: 91_002, numRuns: 5_000 },
  );
  t.pass();
});

test('a well-formed item survives the wire form and JSON unchanged', (t) => {
  fc.assert(
    fc.property(credentialItems, (item) => {
      const wire = JSON.parse(
        JSON.stringify(attributesToWire(itemToAttributes(item))),
      ) as WireAttributeMap;
      t.deepEqual(itemFromAttributes(attributesFromWire(wire)), asRead(item));
    }),
    { seed: 91_003, numRuns: 3_000 },
  );
});
