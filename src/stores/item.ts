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

function stringAttribute(attributes: AttributeMap, name: string): string | undefined {
  const value = attributes[name];
  if (value === undefined) return undefined;
  if ('S' in value && typeof value.S === 'string') return value.S;
  return undefined;
}

function requireString(attributes: AttributeMap, name: string, where: string): string {
  const value = stringAttribute(attributes, name);
  if (value === undefined)
    throw new StoreError(`${where}: attribute "${name}" is missing or not a string`);
  return value;
}

function hmacAttribute(attributes: AttributeMap, where: string): string {
  const value = attributes.hmac;
  if (value !== undefined) {
    if ('S' in value && typeof value.S === 'string') return value.S;
    if ('B' in value && value.B instanceof Uint8Array)
      return Buffer.from(value.B).toString('ascii');
  }
  throw new StoreError(`${where}: attribute "hmac" is missing or neither S nor B`);
}

/** Read any credstash-written item: hmac as S or B, digest defaulting to SHA256, extras ignored. */
export function itemFromAttributes(attributes: AttributeMap, where = 'item'): CredentialItem {
  const name = requireString(attributes, 'name', where);
  const version = requireString(attributes, 'version', `${where} "${name}"`);
  const label = `${where} "${name}" version ${version}`;
  const item: CredentialItem = {
    name,
    version,
    key: requireString(attributes, 'key', label),
    contents: stringAttribute(attributes, 'contents') ?? '',
    hmac: hmacAttribute(attributes, label),
    digest: stringAttribute(attributes, 'digest') ?? DEFAULT_DIGEST,
  };
  const comment = stringAttribute(attributes, 'comment');
  return comment === undefined ? item : { ...item, comment };
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

export function attributesFromWire(wire: WireAttributeMap): AttributeMap {
  const attributes: AttributeMap = {};
  for (const [name, value] of Object.entries(wire)) {
    attributes[name] =
      'B' in value && typeof value.B === 'string' ? { B: Buffer.from(value.B, 'base64') } : value;
  }
  return attributes;
}
