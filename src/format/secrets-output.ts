import { UsageError } from '../errors.js';

/** Output formats of `get` with a wildcard and of `getall`. Pure: data in, text out. */
export const OUTPUT_FORMATS = ['json', 'csv', 'dotenv', 'yaml'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export type SecretEntries = ReadonlyArray<readonly [name: string, value: string]>;

/** Sorted keys, 4-space indent: what `credstash getall` prints. */
export function toJson(entries: SecretEntries): string {
  return entries.length === 0
    ? '{}\n'
    : `${JSON.stringify(Object.fromEntries(entries), null, 4)}\n`;
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

/**
 * Quote a value so that both `sh` (`. file`) and the dotenv package read back exactly `value`.
 * Single quotes are literal in both. A value containing `'` can use double quotes only when it
 * has nothing either reader would expand; otherwise no quoting works for both.
 */
export function dotenvValue(name: string, value: string): string {
  if (!value.includes("'")) return `'${value}'`;
  if (!/["\\$`\r\n]/.test(value)) return `"${value}"`;
  throw new UsageError(
    `credential "${name}" holds a value that cannot be written in dotenv form for both shells and dotenv (it mixes ' with " \\ $ \` or newlines); use -f json`,
  );
}

export function toDotenv(entries: SecretEntries): string {
  const seen = new Map<string, string>();
  const lines: string[] = [];
  for (const [name, value] of entries) {
    const variable = dotenvName(name);
    const previous = seen.get(variable);
    if (previous !== undefined) {
      throw new UsageError(
        `credentials "${previous}" and "${name}" would both be written as ${variable}; use -f json`,
      );
    }
    if (/^[0-9]/.test(variable)) {
      throw new UsageError(
        `credential "${name}" would become ${variable}, which is not a valid variable name; use -f json`,
      );
    }
    seen.set(variable, name);
    lines.push(`${variable}=${dotenvValue(name, value)}\n`);
  }
  return lines.join('');
}

const PLAIN_YAML = /^[A-Za-z_/][A-Za-z0-9_./-]*$/;
const YAML_KEYWORDS = /^(?:true|false|yes|no|on|off|null|y|n|~)$/i;

function yamlScalar(text: string): string {
  // JSON strings are valid YAML double-quoted scalars.
  return PLAIN_YAML.test(text) && !YAML_KEYWORDS.test(text) ? text : JSON.stringify(text);
}

export function toYaml(entries: SecretEntries): string {
  if (entries.length === 0) return '{}\n';
  return entries.map(([name, value]) => `${yamlScalar(name)}: ${yamlScalar(value)}\n`).join('');
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
