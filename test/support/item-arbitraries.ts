import fc from 'fast-check';
import type { CredentialItem } from '../../src/stores/item.js';

/** Well-formed credential items, as credexec or credstash write them. */
export const credentialItems: fc.Arbitrary<CredentialItem> = fc.record(
  {
    name: fc.string({ minLength: 1, unit: 'binary' }),
    version: fc.string({ minLength: 1, unit: 'binary' }),
    key: fc.base64String({ minLength: 4 }),
    contents: fc.base64String(),
    hmac: fc.stringMatching(/^[0-9a-fA-F]{0,128}$/),
    digest: fc.constantFrom('SHA256', 'SHA512', 'MD5', 'SHA'),
    comment: fc.string({ unit: 'binary' }),
  },
  { requiredKeys: ['name', 'version', 'key', 'contents', 'hmac', 'digest'] },
);

/** What reading back a written item gives: hmac lowercase, an empty comment dropped. */
export function asRead(item: CredentialItem): CredentialItem {
  const { comment, ...rest } = item;
  const read = { ...rest, hmac: item.hmac.toLowerCase() };
  return comment === undefined || comment === '' ? read : { ...read, comment };
}

/** Attribute names a decoder must get right, including ones that are Object.prototype's. */
const ATTRIBUTE_NAMES = [
  'name',
  'version',
  'key',
  'contents',
  'hmac',
  'digest',
  'comment',
  '__proto__',
  'constructor',
  'toString',
];

/** Attribute values as a broken or foreign answer might hold them, in the SDK's shape (B as bytes). */
export const attributeValues = fc.oneof(
  fc.record({ S: fc.string() }),
  fc.record({ B: fc.uint8Array({ maxLength: 16 }) }),
  fc.record({ N: fc.string() }),
  fc.record({ S: fc.jsonValue() }),
  fc.record({ B: fc.jsonValue() }),
  fc.dictionary(fc.constantFrom('S', 'B', 'N', 'NULL', 'BOOL'), fc.jsonValue()),
  fc.jsonValue(),
);

function maps<T>(values: fc.Arbitrary<T>): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 5, arbitrary: fc.dictionary(fc.constantFrom(...ATTRIBUTE_NAMES), values) },
    { weight: 2, arbitrary: fc.dictionary(fc.string(), values) },
    { weight: 1, arbitrary: fc.jsonValue() },
  );
}

/** Items (or not) in the SDK's shape. */
export const attributeMaps = maps(attributeValues);

/** The same in DynamoDB JSON (B as base64 text, valid or not). */
export const wireAttributeValues = fc.oneof(
  fc.record({ B: fc.base64String({ maxLength: 24 }) }),
  fc.record({ B: fc.string() }),
  fc.record({ S: fc.string() }),
  fc.record({ N: fc.string() }),
  fc.record({ S: fc.jsonValue() }),
  fc.record({ B: fc.jsonValue() }),
  fc.jsonValue(),
);
export const wireAttributeMaps = maps(wireAttributeValues);

/** A complete credstash item in DynamoDB JSON whose attributes may be broken one by one. */
export const nearlyValidWireItems = fc.record({
  name: fc.oneof(fc.record({ S: fc.string({ minLength: 1 }) }), wireAttributeValues),
  version: fc.oneof(fc.record({ S: fc.stringMatching(/^\d{19}$/) }), wireAttributeValues),
  key: fc.oneof(fc.record({ S: fc.base64String({ minLength: 4 }) }), wireAttributeValues),
  contents: fc.oneof(fc.record({ S: fc.base64String() }), wireAttributeValues),
  hmac: fc.oneof(fc.record({ B: fc.base64String() }), wireAttributeValues),
});
