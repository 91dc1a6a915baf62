import { UsageError } from '../errors.js';

/** Output formats of `get` with a wildcard and of `getall`. Pure: data in, text out. */
export const OUTPUT_FORMATS = ['json', 'csv', 'dotenv', 'yaml'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export type SecretEntries = ReadonlyArray<readonly [name: string, value: string]>;

/**
 * Keys in the order given (sorted by the caller), 4-space indent: what `credstash getall` prints.
 * Written by hand: an object would move integer-like names first and treat `__proto__` apart.
 */
export function toJson(entries: SecretEntries): string {
  if (entries.length === 0) return '{}\n';
  const members = entries.map(
    ([name, value]) => `    ${JSON.stringify(name)}: ${JSON.stringify(value)}`,
  );
  return `{\n${members.join(',\n')}\n}\n`;
}

function csvField(field: string): string {
  return /[",\r\n]/.test(field) ? `"${field.replaceAll('"', '""')}"` : field;
}

/** One `name,value` row per credential, RFC 4180 quoting, no header (as credstash). */
export function toCsv(entries: SecretEntries): string {
  return entries.map(([name, value]) => `${csvField(name)},${csvField(value)}\r\n`).join('');
}

/** `a.b-c` → `A_B_C`: a name a shell and dotenv accept. */
export function dotenvName(name: string): string {
  return name.toUpperCase().replace(/[^A-Za-z0-9_]/g, '_');
}

/** A name in a message: JSON-quoted, so that even a control character keeps the message one line. */
function quoted(name: string): string {
  return JSON.stringify(name);
}

function cannotQuote(name: string, why: string): UsageError {
  return new UsageError(
    `credential ${quoted(name)} holds a value that cannot be written in dotenv form for both shells and dotenv (${why}); use -f json`,
  );
}

/**
 * Quote a value so that both `sh` (`. file`) and the dotenv package read back exactly `value`.
 * Single quotes are literal in both. A value containing `'` can use double quotes only when it
 * has nothing either reader would expand; otherwise no quoting works for both. Some characters
 * no quoting carries: NUL (a shell variable cannot hold it), CR (dotenv reads it as a line
 * break), and a final backslash (dotenv takes `\'` for an escaped quote and reads on into the
 * next line).
 */
export function dotenvValue(name: string, value: string): string {
  if (value.includes('\0')) throw cannotQuote(name, 'it contains a NUL character');
  if (value.includes('\r')) throw cannotQuote(name, 'it contains a carriage return');
  if (value.endsWith('\\')) throw cannotQuote(name, 'it ends with a backslash');
  if (!value.includes("'")) return `'${value}'`;
  if (!/["\\$`\n]/.test(value)) return `"${value}"`;
  throw cannotQuote(name, 'it mixes \' with " \\ $ ` or newlines');
}

export function toDotenv(entries: SecretEntries): string {
  const seen = new Map<string, string>();
  const lines: string[] = [];
  for (const [name, value] of entries) {
    const variable = dotenvName(name);
    const previous = seen.get(variable);
    if (previous !== undefined) {
      throw new UsageError(
        `credentials ${quoted(previous)} and ${quoted(name)} would both be written as ${variable}; use -f json`,
      );
    }
    // `_` alone is the shell's last-argument parameter, which bash overwrites after every command.
    if (!/^[A-Za-z_]/.test(variable) || variable === '_') {
      throw new UsageError(
        `credential ${quoted(name)} would become ${variable === '' ? 'an empty name' : variable}, which is not a valid variable name; use -f json`,
      );
    }
    seen.set(variable, name);
    lines.push(`${variable}=${dotenvValue(name, value)}\n`);
  }
  return lines.join('');
}

/** Plain scalars that YAML 1.1 and 1.2 readers both take for exactly this string. */
const PLAIN_YAML = /^[A-Za-z_/][A-Za-z0-9_./-]*$/;
/** … except the words YAML 1.1 (y, yes, on, …) or 1.2 read as booleans or null. */
const YAML_KEYWORDS = /^(?:true|false|yes|no|on|off|null|y|n|~)$/i;

const YAML_ESCAPES: Readonly<Record<string, string>> = {
  '"': '\\"',
  '\\': '\\\\',
  '\0': '\\0',
  '\t': '\\t',
  '\n': '\\n',
  '\r': '\\r',
};

/**
 * Printable in a double-quoted scalar for every reader: YAML's printable set without NEL, the
 * line and paragraph separators (line breaks to a YAML 1.1 reader) and the byte order mark.
 */
function yamlPrintable(code: number): boolean {
  return (
    (code >= 0x20 && code <= 0x7e) ||
    (code >= 0xa0 && code <= 0xd7ff && code !== 0x2028 && code !== 0x2029) ||
    (code >= 0xe000 && code <= 0xfffd && code !== 0xfeff) ||
    code >= 0x10000
  );
}

function yamlEscape(char: string): string {
  const named = YAML_ESCAPES[char];
  if (named !== undefined) return named;
  const code = char.codePointAt(0)!;
  if (yamlPrintable(code)) return char;
  const hex = code.toString(16).toUpperCase();
  if (code <= 0xff) return `\\x${hex.padStart(2, '0')}`;
  return code <= 0xffff ? `\\u${hex.padStart(4, '0')}` : `\\U${hex.padStart(8, '0')}`;
}

function yamlScalar(text: string): string {
  if (PLAIN_YAML.test(text) && !YAML_KEYWORDS.test(text)) return text;
  let quoted = '"';
  for (const char of text) quoted += yamlEscape(char);
  return `${quoted}"`;
}

/** YAML readers refuse implicit keys longer than 1024 characters. */
const MAX_IMPLICIT_KEY = 1024;

/**
 * A mapping of name to value, read back exactly by YAML 1.1 and 1.2 readers: plain scalars only
 * where no reader could take them for anything but the string, every other scalar double-quoted
 * with whatever is not printable escaped (so the output is printable text whatever the values).
 */
export function toYaml(entries: SecretEntries): string {
  if (entries.length === 0) return '{}\n';
  return entries
    .map(([name, value]) => {
      const key = yamlScalar(name);
      return [...key].length > MAX_IMPLICIT_KEY
        ? `? ${key}\n: ${yamlScalar(value)}\n`
        : `${key}: ${yamlScalar(value)}\n`;
    })
    .join('');
}

export function formatSecrets(entries: SecretEntries, format: OutputFormat): string {
  switch (format) {
    case 'json':
      return toJson(entries);
    case 'csv':
      return toCsv(entries);
    case 'dotenv':
      return toDotenv(entries);
    case 'yaml':
      return toYaml(entries);
  }
}
