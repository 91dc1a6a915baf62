import { StoreError } from '../errors.js';
import { DEFAULT_DIGEST } from '../envelope/digests.js';

/**
 * One stored credential version, in credstash's table format (SPEC §3). Every backend stores
 * exactly these attributes, so items can move between the local file and DynamoDB unchanged.
 */
export interface CredentialItem {
  readonly name: string;
  /** Padded to 19 digits when numeric. */
  readonly version: string;
  /** Standard base64 of the wrapped data key (the key service's ciphertext blob). */
  readonly key: string;
  /** Standard base64 of the AES-CTR ciphertext. */
  readonly contents: string;
  /** Hex of the HMAC over the ciphertext (any case as read; written lowercase). */
  readonly hmac: string;
  /** Hash name as stored (`SHA256` when the attribute is absent). */
  readonly digest: string;
  readonly comment?: string;
}

export interface CredentialRef {
  readonly name: string;
  readonly version: string;
}

/** The subset of DynamoDB's AttributeValue that credstash items use (B as raw bytes). */
export type AttributeValue = { S: string } | { B: Uint8Array } | Record<string, unknown>;
export type AttributeMap = Record<string, AttributeValue>;

/** Write form: `hmac` as B whose bytes are the ASCII hex digits, as Python 3 credstash writes. */
export function itemToAttributes(item: CredentialItem): AttributeMap {
  const attributes: AttributeMap = {
    name: { S: item.name },
    version: { S: item.version },
    key: { S: item.key },
    contents: { S: item.contents },
    hmac: { B: Buffer.from(item.hmac.toLowerCase(), 'ascii') },
    digest: { S: item.digest },
  };
  if (item.comment !== undefined && item.comment !== '') attributes.comment = { S: item.comment };
  return attributes;
}

/** A JSON-ish map: not null, not a list, not bytes. */
function isMap(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    !ArrayBuffer.isView(value)
  );
}

/** Own properties only: an attribute named `constructor` or `__proto__` is just an attribute. */
function own(map: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(map, key) ? map[key] : undefined;
}

/** Stored text (a name, a version) quoted on one line and kept short for a message. */
function quoted(text: string): string {
  return JSON.stringify(text.length > 100 ? `${text.slice(0, 100)}…` : text);
}

/** Versions are digits as a rule and shown as they are; anything odd is quoted. */
function shownVersion(version: string): string {
  return /^[\x21\x23-\x7e]{1,100}$/.test(version) ? version : quoted(version);
}

/**
 * Where an attribute was read, for a message: built only when one is needed (a launcher decodes
 * hundreds of items and every one of them is well-formed as a rule).
 */
type Where = string | (() => string);
const place = (where: Where): string => (typeof where === 'string' ? where : where());

function stringAttribute(attributes: AttributeMap, name: string, where: Where): string | undefined {
  const value = own(attributes, name);
  if (value === undefined) return undefined;
  const text = isMap(value) ? own(value, 'S') : undefined;
  if (typeof text !== 'string')
    throw new StoreError(`${place(where)}: attribute "${name}" is not a string`);
  return text;
}

function requireString(attributes: AttributeMap, name: string, where: Where): string {
  const value = stringAttribute(attributes, name, where);
  if (value === undefined) throw new StoreError(`${place(where)}: attribute "${name}" is missing`);
  return value;
}

function hmacAttribute(attributes: AttributeMap, where: Where): string {
  const value = own(attributes, 'hmac');
  if (value === undefined) throw new StoreError(`${place(where)}: attribute "hmac" is missing`);
  if (isMap(value)) {
    const text = own(value, 'S');
    if (typeof text === 'string') return text;
    const bytes = own(value, 'B');
    if (bytes instanceof Uint8Array) return Buffer.from(bytes).toString('ascii');
  }
  throw new StoreError(`${place(where)}: attribute "hmac" is neither a string nor binary`);
}

function requireMap(attributes: unknown, where: string): asserts attributes is AttributeMap {
  if (!isMap(attributes)) throw new StoreError(`${where} is not a map of attributes`);
}

/**
 * Read any credstash-written item: hmac as S or B, digest defaulting to SHA256, extras ignored.
 * Anything else — from a broken answer or a hand-edited file — is a StoreError naming the item
 * and the attribute, never a TypeError.
 */
export function itemFromAttributes(attributes: AttributeMap, where = 'item'): CredentialItem {
  requireMap(attributes, where);
  const name = requireString(attributes, 'name', where);
  const named = () => `${where} ${quoted(name)}`;
  const version = requireString(attributes, 'version', named);
  const label = () => `${named()} version ${shownVersion(version)}`;
  const item: CredentialItem = {
    name,
    version,
    key: requireString(attributes, 'key', label),
    contents: stringAttribute(attributes, 'contents', label) ?? '',
    hmac: hmacAttribute(attributes, label),
    digest: stringAttribute(attributes, 'digest', label) ?? DEFAULT_DIGEST,
  };
  const comment = stringAttribute(attributes, 'comment', label);
  return comment === undefined ? item : { ...item, comment };
}

/** Just the key of an item (a `versions` Query projects nothing else). */
export function refFromAttributes(attributes: AttributeMap, where = 'item'): CredentialRef {
  requireMap(attributes, where);
  const name = requireString(attributes, 'name', where);
  return {
    name,
    version: requireString(attributes, 'version', () => `${where} ${quoted(name)}`),
  };
}

/**
 * Standard padded base64, exactly as DynamoDB and KMS send binary and as the AWS SDK accepts it
 * (Buffer.from alone would decode anything, skipping what is not base64).
 */
export function base64Bytes(text: string): Buffer | undefined {
  return text.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(text)
    ? Buffer.from(text, 'base64')
    : undefined;
}

/** DynamoDB JSON wire form (B as base64 text), used by the local store file and test fixtures. */
export type WireAttributeMap = Record<
  string,
  { S: string } | { B: string } | Record<string, unknown>
>;

export function attributesToWire(attributes: AttributeMap): WireAttributeMap {
  const wire: WireAttributeMap = {};
  for (const [name, value] of Object.entries(attributes)) {
    wire[name] =
      'B' in value && value.B instanceof Uint8Array
        ? { B: Buffer.from(value.B).toString('base64') }
        : value;
  }
  return wire;
}

/** B values from base64 text to bytes; every other value as it is (the item decoder judges it). */
export function attributesFromWire(wire: WireAttributeMap, where = 'item'): AttributeMap {
  requireMap(wire, where);
  return Object.fromEntries(
    Object.entries(wire).map(([name, value]) => {
      const text = isMap(value) ? own(value, 'B') : undefined;
      if (typeof text !== 'string') return [name, value];
      const bytes = base64Bytes(text);
      if (bytes === undefined)
        throw new StoreError(`${where}: attribute ${quoted(name)} is not valid base64`);
      return [name, { B: bytes }];
    }),
  );
}
