import { isUtf8 } from 'node:buffer';

/**
 * The forms in which a secret value leaks into logs, as byte strings to look for. Pure: bytes in,
 * bytes out. Which forms exist, and what is deliberately not covered, is documented in
 * docs/launcher.md ("Redaction": what is caught and what is not).
 */
export type FormKind = 'raw' | 'line' | 'base64' | 'base64-embedded' | 'percent' | 'json';

const STANDARD = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const URL_SAFE = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * Base64 of `value` on its own: standard and URL-safe alphabets, each with and without `=`
 * padding (Python's urlsafe_b64encode pads, JWTs and Node's base64url do not).
 */
export function base64Forms(value: Uint8Array): Buffer[] {
  const standard = Buffer.from(value).toString('base64');
  const bare = standard.replace(/=+$/, '');
  const url = toUrlAlphabet(standard);
  return unique([standard, bare, url, toUrlAlphabet(bare)]);
}

/**
 * Base64 of `value` inside a longer encoded blob (`Basic base64(user:password)`, a JSON document
 * or a config file encoded whole). Base64 turns 3 bytes into 4 characters, so how the value's
 * bits fall onto characters depends on its offset in the blob modulo 3. For each of the three
 * alignments this returns the characters that depend on the value's bits alone: the character
 * that straddles the value's first byte and the one that straddles its last byte also carry bits
 * of the neighbouring bytes and are not part of the pattern (at most 6 bits of the value, split
 * over the two ends, can remain next to the marker). Alignment 0 is the start of `base64Forms`
 * without its last character, which the automaton already has as a prefix; it is returned anyway
 * so the set is complete on its own.
 */
export function embeddedBase64Forms(value: Uint8Array): Buffer[] {
  const forms: string[] = [];
  for (const offset of [0, 1, 2]) {
    const text = stableSymbols(value, offset);
    forms.push(text, toUrlAlphabet(text));
  }
  return unique(forms);
}

/** The base64 characters fully determined by `value` when it starts `offset` bytes into a group. */
function stableSymbols(value: Uint8Array, offset: number): string {
  const skipBits = [0, 4, 2][offset]!;
  const totalBits = value.length * 8;
  let text = '';
  for (let bit = skipBits; bit + 6 <= totalBits; bit += 6) {
    text += STANDARD[sixBitsAt(value, bit)];
  }
  return text;
}

function sixBitsAt(value: Uint8Array, bit: number): number {
  const index = bit >> 3;
  const word = (value[index]! << 8) | (value[index + 1] ?? 0);
  return (word >> (10 - (bit & 7))) & 0x3f;
}

function toUrlAlphabet(text: string): string {
  let out = '';
  for (const char of text) {
    const index = STANDARD.indexOf(char);
    out += index < 0 ? char : URL_SAFE[index];
  }
  return out;
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * Which bytes stay literal under the percent-encoders found in practice; every other byte becomes
 * `%XX`. Each set is also tried with a space as `+` (forms, Python's quote_plus, Go's QueryEscape)
 * and with lower-case hex digits.
 */
const PERCENT_KEEP: readonly string[] = [
  // RFC 3986 unreserved: Python quote(safe=''), Go PathEscape/QueryEscape, most libraries.
  `${ALPHANUMERIC}-._~`,
  // JavaScript encodeURIComponent.
  `${ALPHANUMERIC}-._~!'()*`,
  // WHATWG application/x-www-form-urlencoded (URLSearchParams).
  `${ALPHANUMERIC}*-._`,
  // Python quote() with its default safe='/'.
  `${ALPHANUMERIC}-._~/`,
  // JavaScript encodeURI: reserved characters stay.
  `${ALPHANUMERIC}-._~!'()*;,/?:@&=+$#`,
];

const PERCENT_KEEP_SETS = PERCENT_KEEP.map(
  (keep) => new Set([...keep].map((char) => char.charCodeAt(0))),
);
/** Bytes that every encoder keeps: a value made of these alone has no percent form of its own. */
const ALWAYS_KEPT = PERCENT_KEEP_SETS.reduce(
  (common, set) => new Set([...common].filter((byte) => set.has(byte))),
);

export function percentForms(value: Uint8Array): Buffer[] {
  if (value.every((byte) => ALWAYS_KEPT.has(byte))) return [];
  const hasSpace = value.includes(0x20);
  const forms: string[] = [];
  for (const keep of PERCENT_KEEP_SETS) {
    for (const spacePlus of hasSpace ? [false, true] : [false]) {
      for (const upper of [true, false]) {
        forms.push(percentEncode(value, keep, spacePlus, upper));
      }
    }
  }
  return unique(forms);
}

function percentEncode(
  value: Uint8Array,
  keep: ReadonlySet<number>,
  spacePlus: boolean,
  upper: boolean,
): string {
  let out = '';
  for (const byte of value) {
    if (keep.has(byte)) out += String.fromCharCode(byte);
    else if (byte === 0x20 && spacePlus) out += '+';
    else out += `%${hex2(byte, upper)}`;
  }
  return out;
}

function hex2(byte: number, upper: boolean): string {
  const text = byte.toString(16).padStart(2, '0');
  return upper ? text.toUpperCase() : text;
}

interface JsonStyle {
  /** Non-ASCII as `\uXXXX` (Python's ensure_ascii, PHP, Java's ASCII writers). */
  readonly ascii: boolean;
  /** `/` as `\/` (PHP's json_encode). */
  readonly slash: boolean;
  /** Extra characters as `\u00XX`: Go escapes `<>&`, Gson also `='`. */
  readonly html: string;
  readonly upperHex: boolean;
}

/**
 * The value inside a JSON string literal (without the quotes), as the common encoders write it:
 * JSON.stringify, Python json.dumps (ensure_ascii), Go encoding/json (HTML-safe), Gson, PHP,
 * Jackson (upper-case hex). Only for values that are text: a JSON string cannot hold other bytes.
 */
export function jsonForms(value: Uint8Array): Buffer[] {
  if (!isUtf8(value)) return [];
  const text = Buffer.from(value).toString('utf8');
  // Only the choices that change something for this text are tried.
  const codes = [...text].map((char) => char.codePointAt(0)!);
  const nonAscii = codes.some((code) => code > 0x7e);
  const html = /[<>&='\u2028\u2029]/.test(text);
  // Upper- or lower-case hex digits only show in \u escapes.
  const unicodeEscapes = html || nonAscii || codes.some((code) => code < 0x20);
  const forms: string[] = [];
  for (const ascii of nonAscii ? [false, true] : [false]) {
    for (const slash of text.includes('/') ? [false, true] : [false]) {
      for (const extra of html ? ['', '<>&', `<>&='`] : ['']) {
        for (const upperHex of unicodeEscapes ? [false, true] : [false]) {
          forms.push(jsonEscape(text, { ascii, slash, html: extra, upperHex }));
        }
      }
    }
  }
  return unique(forms, 'utf8');
}

const SHORT_ESCAPES: Readonly<Record<string, string>> = {
  '"': '\\"',
  '\\': '\\\\',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
};

function jsonEscape(text: string, style: JsonStyle): string {
  const unicode = (code: number) => {
    const digits = code.toString(16).padStart(4, '0');
    return `\\u${style.upperHex ? digits.toUpperCase() : digits}`;
  };
  let out = '';
  for (let index = 0; index < text.length; index += 1) {
    const char = text[index]!;
    const code = text.charCodeAt(index);
    const short = SHORT_ESCAPES[char];
    if (short !== undefined) out += short;
    else if (code < 0x20) out += unicode(code);
    else if (char === '/' && style.slash) out += '\\/';
    else if (style.html.includes(char)) out += unicode(code);
    // Go and Gson also escape the JavaScript line terminators U+2028 and U+2029.
    else if ((code === 0x2028 || code === 0x2029) && style.html !== '') out += unicode(code);
    else if (code > 0x7e && style.ascii) out += unicode(code);
    else out += char;
  }
  return out;
}

/** PEM armour (`-----BEGIN PRIVATE KEY-----`): the same in every key, so it is no secret. */
const PEM_ARMOUR = /^-----(BEGIN|END) [^-]+-----$/;

/**
 * The lines of a multi-line text value (a PEM key, a certificate, a service-account JSON file),
 * each trimmed of surrounding white space, without PEM armour lines. Programs print such values
 * line by line, re-indented or with other line endings, where the whole value no longer matches.
 */
export function lineForms(value: Uint8Array): Buffer[] {
  if (!value.includes(0x0a) || !isUtf8(value)) return [];
  const lines = Buffer.from(value)
    .toString('utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !PEM_ARMOUR.test(line));
  return unique(lines, 'utf8');
}

/** A value stored with a trailing newline (`echo "$TOKEN" > file`) is printed without it. */
export function withoutTrailingNewline(value: Uint8Array): Uint8Array {
  let end = value.length;
  while (end > 0 && (value[end - 1] === 0x0a || value[end - 1] === 0x0d)) end -= 1;
  return value.subarray(0, end);
}

function unique(texts: readonly string[], encoding: 'latin1' | 'utf8' = 'latin1'): Buffer[] {
  return [...new Set(texts)].map((text) => Buffer.from(text, encoding));
}
