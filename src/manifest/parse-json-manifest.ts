import { contextBuilder, type EncryptionContext } from '../envelope/context.js';
import { padVersion } from '../envelope/version.js';
import { messageOf } from '../errors.js';
import { JsonSyntaxError, readJson, type JsonMember, type JsonNode } from './json-reader.js';
import { parseTemplate } from '../template/parse-template.js';
import type { Template } from '../template/template.js';
import { parseChangePolicy, policyProblem, type ChangePolicy } from './change-policy.js';
import type { ParsedCredentialEntry, ParsedEntry, ParsedTemplateEntry } from './manifest-entry.js';
import { SETTINGS_KEY } from './manifest-settings.js';
import type { ProblemList } from './manifest-problems.js';

const ENTRY_KEYS: ReadonlySet<string> = new Set([
  'name',
  'version',
  'template',
  'optional',
  'file',
  'redact',
  'context',
  'onChange',
]);

/** An entry without its variable and location. */
type Entry =
  | Omit<ParsedCredentialEntry, 'variable' | 'source'>
  | Omit<ParsedTemplateEntry, 'variable' | 'source'>;

/** Reports a problem at a line of the current file. */
type Report = (line: number, message: string) => void;

/** Flag members of one object, refusing the same key twice (JSON.parse would keep the last). */
function uniqueMembers(node: JsonNode & { kind: 'object' }, what: string, report: Report) {
  const seen = new Map<string, number>();
  const members: JsonMember[] = [];
  for (const member of node.members) {
    const first = seen.get(member.key);
    if (first !== undefined) {
      report(member.line, `${what}: "${member.key}" is given twice (first on line ${first})`);
      continue;
    }
    seen.set(member.key, member.line);
    members.push(member);
  }
  return members;
}

function readVersion(node: JsonNode, variable: string, report: Report): string | undefined {
  let text: string | undefined;
  if (node.kind === 'string') text = node.value;
  // A bare number is accepted for convenience, but only as an exact non-negative integer.
  else if (node.kind === 'number' && /^\d+$/.test(node.raw)) text = node.raw;
  if (text === undefined) {
    report(node.line, `variable ${variable}: "version" must be a string or a whole number`);
    return undefined;
  }
  try {
    return padVersion(text);
  } catch (error: unknown) {
    report(node.line, `variable ${variable}: ${messageOf(error)}`);
    return undefined;
  }
}

function readContext(node: JsonNode, variable: string, report: Report) {
  if (node.kind !== 'object') {
    report(node.line, `variable ${variable}: "context" must be an object of strings`);
    return undefined;
  }
  const context = contextBuilder();
  for (const member of uniqueMembers(node, `variable ${variable} context`, report)) {
    if (member.key === '' || member.value.kind !== 'string') {
      report(member.line, `variable ${variable}: context values must be strings with a key`);
      return undefined;
    }
    context[member.key] = member.value.value;
  }
  return Object.freeze(context) as EncryptionContext;
}

function readBoolean(node: JsonNode, key: string, variable: string, report: Report) {
  if (node.kind === 'boolean') return node.value;
  report(node.line, `variable ${variable}: "${key}" must be true or false`);
  return undefined;
}

function readTemplate(node: JsonNode, variable: string, report: Report): Template | undefined {
  if (node.kind !== 'string' || node.value.trim() === '') {
    report(node.line, `variable ${variable}: "template" must be a non-empty string`);
    return undefined;
  }
  const parsed = parseTemplate(node.value);
  if (parsed.problem === undefined) return parsed.template;
  report(node.line, `variable ${variable}: template: ${parsed.problem}`);
  return undefined;
}

/** The members of an entry object as read, before they are combined into an entry. */
interface Members {
  name?: string;
  version?: string;
  template?: Template;
  optional?: boolean;
  file?: boolean;
  redact?: boolean;
  context?: EncryptionContext;
  onChange?: ChangePolicy;
}

function readChangePolicy(node: JsonNode, variable: string, report: Report) {
  const read =
    node.kind === 'string'
      ? parseChangePolicy(node.value)
      : { problem: 'must be a string: restart, none or signal:NAME' };
  if (!('problem' in read)) return read;
  report(node.line, `variable ${variable}: "onChange" ${read.problem}`);
  return undefined;
}

function readMember(key: string, value: JsonNode, variable: string, report: Report) {
  switch (key) {
    case 'name':
      if (value.kind === 'string' && value.value !== '') return value.value;
      report(value.line, `variable ${variable}: "name" must be a non-empty string`);
      return undefined;
    case 'version':
      return readVersion(value, variable, report);
    case 'template':
      return readTemplate(value, variable, report);
    case 'context':
      return readContext(value, variable, report);
    case 'onChange':
      return readChangePolicy(value, variable, report);
    default:
      return readBoolean(value, key, variable, report);
  }
}

/** A credential entry has a `name`, a template entry a `template`; never both. */
function combine(members: Members, variable: string, line: number, report: Report) {
  const { name, version, template } = members;
  const common = {
    optional: members.optional ?? false,
    file: members.file ?? false,
    ...(members.redact === undefined ? {} : { redact: members.redact }),
    ...(members.onChange === undefined ? {} : { onChange: members.onChange }),
    context: members.context,
  };
  const problem =
    members.onChange === undefined ? undefined : policyProblem(members.onChange, common.file);
  if (problem !== undefined) {
    report(line, `variable ${variable}: ${problem}`);
    return undefined;
  }
  if (template === undefined) {
    if (name !== undefined) return { ...common, credential: name, version };
    report(line, `variable ${variable}: "name" or "template" is required`);
  } else if (name !== undefined) {
    report(line, `variable ${variable}: "name" and "template" cannot be combined`);
  } else if (version !== undefined) {
    report(
      line,
      `variable ${variable}: "version" does not apply to a template (pin a reference as {{name@VERSION}})`,
    );
  } else return { ...common, template };
  return undefined;
}

function readEntryObject(
  node: JsonNode & { kind: 'object' },
  variable: string,
  report: Report,
): Entry | undefined {
  const members: Members = {};
  let valid = true;
  for (const { key, line, value } of uniqueMembers(node, `variable ${variable}`, report)) {
    if (!ENTRY_KEYS.has(key)) {
      report(
        line,
        `variable ${variable}: unknown key "${key}" (allowed: ${[...ENTRY_KEYS].join(', ')})`,
      );
      valid = false;
      continue;
    }
    const read = readMember(key, value, variable, report);
    if (read === undefined) valid = false;
    else Object.assign(members, { [key]: read });
  }
  return valid ? combine(members, variable, node.line, report) : undefined;
}

function readEntry(member: JsonMember, report: Report): Entry | undefined {
  const { key: variable, value } = member;
  if (value.kind === 'string') {
    if (value.value !== '') {
      return {
        credential: value.value,
        version: undefined,
        optional: false,
        file: false,
        context: undefined,
      };
    }
    report(value.line, `variable ${variable} has no credential name`);
    return undefined;
  }
  if (value.kind === 'object') return readEntryObject(value, variable, report);
  report(
    value.line,
    `variable ${variable}: expected a credential name or an object with "name" or "template"`,
  );
  return undefined;
}

/**
 * Parse a JSON-form manifest: `{"VAR": "name"}`, `{"VAR": {"name", "version", "optional", "file",
 * "context"}}` or `{"VAR": {"template", "optional", "file", "context"}}`. Unlike the dotenv form,
 * `"name"` is taken verbatim (no `@VERSION`); a plain string is always a credential name.
 */
export function parseJsonManifest(
  file: string,
  text: string,
  problems: ProblemList,
): ParsedEntry[] {
  const report: Report = (line, message) => problems.add(file, line, message);
  let root: JsonNode;
  try {
    root = readJson(text.replace(/^\uFEFF/, ''));
  } catch (error: unknown) {
    if (!(error instanceof JsonSyntaxError)) throw error;
    report(error.line, `invalid JSON: ${error.message}`);
    return [];
  }
  if (root.kind !== 'object') {
    report(root.line, 'a JSON manifest must be an object mapping variable names to credentials');
    return [];
  }
  const entries: ParsedEntry[] = [];
  // Duplicate variables are reported by parseManifests, the same way across files and forms.
  for (const member of root.members) {
    // Launcher settings, not a variable: read by manifest-settings.ts.
    if (member.key === SETTINGS_KEY) continue;
    const entry = readEntry(member, report);
    if (entry !== undefined)
      entries.push({ ...entry, variable: member.key, source: { file, line: member.line } });
  }
  return entries;
}
