import { parse as parseDotenv } from 'dotenv';
import { parseReference } from '../template/reference.js';
import { parseTemplate } from '../template/parse-template.js';
import type { Template } from '../template/template.js';
import type { ParsedEntry } from './manifest-entry.js';
import type { ProblemList } from './manifest-problems.js';

const BLANK_OR_COMMENT = /^\s*(#.*)?$/;

/**
 * `VAR:=TEMPLATE`, optionally after `export`, with dotenv's characters for a name. dotenv reads no
 * assignment from such a line (its `:` separator must be followed by a blank), so no line that
 * means `VAR=credential` today can take this form.
 */
const TEMPLATE_ASSIGNMENT = /^(\s*(?:export\s+)?)([\w.-]+)(\s*):=/;

/** What a line says; the rest of an entry is the same for every dotenv line. */
type Line =
  | { readonly variable: string; readonly credential: string; readonly version: string | undefined }
  | { readonly variable: string; readonly template: Template };

/** The one assignment dotenv reads from a line, or `undefined` when it reads none or several. */
function assignment(text: string): [string, string] | undefined {
  // dotenv.parse silently drops what it cannot read, so an empty result is a malformed line.
  const pairs = Object.entries(parseDotenv(text));
  return pairs.length === 1 ? pairs[0] : undefined;
}

/**
 * A line dotenv cannot read that is `VAR:=…`: its value, read with dotenv's rules (quotes,
 * comments, `export`) as if the line were `VAR=…`. Only lines that are malformed as `VAR=…` lines
 * get here, so a template line never changes the meaning of a line that is valid today.
 */
function templateAssignment(text: string): [string, string] | undefined {
  const match = TEMPLATE_ASSIGNMENT.exec(text);
  if (match === null) return undefined;
  const [operator = '', prefix = '', variable = '', blanks = ''] = match;
  const pair = assignment(`${prefix}${variable}${blanks}=${text.slice(operator.length)}`);
  return pair !== undefined && pair[0] === variable ? pair : undefined;
}

function credentialLine(variable: string, reference: string): Line | string {
  if (reference.trim() === '') return `variable ${variable} has no credential name`;
  const split = parseReference(reference.trim());
  return typeof split === 'string' ? `variable ${variable}: ${split}` : { variable, ...split };
}

function templateLine(variable: string, value: string): Line | string {
  if (value.trim() === '') return `variable ${variable} has no template`;
  const parsed = parseTemplate(value);
  return parsed.problem === undefined
    ? { variable, template: parsed.template }
    : `variable ${variable}: template: ${parsed.problem}`;
}

/** What the line says, or what is wrong with it. */
function parseLine(text: string): Line | string {
  const pair = assignment(text);
  if (pair !== undefined) return credentialLine(...pair);
  const template = templateAssignment(text);
  if (template !== undefined) return templateLine(...template);
  return 'malformed line: expected VAR=credential-name, VAR=name@VERSION or VAR:=template';
}

/**
 * Parse a dotenv-form manifest line by line with dotenv's own parser, so that every problem can
 * name its line: `VAR=name`, `VAR=name@VERSION`, and `VAR:=TEMPLATE` for a composed value.
 * Multi-line quoted values are therefore not supported (credential names never span lines).
 * Variable names are checked later, together with the other forms.
 */
export function parseDotenvManifest(
  file: string,
  text: string,
  problems: ProblemList,
): ParsedEntry[] {
  const entries: ParsedEntry[] = [];
  text
    .replace(/^\uFEFF/, '')
    .split(/\r\n|\r|\n/)
    .forEach((lineText, index) => {
      if (BLANK_OR_COMMENT.test(lineText)) return;
      const line = index + 1;
      const parsed = parseLine(lineText);
      if (typeof parsed === 'string') {
        problems.add(file, line, parsed);
        return;
      }
      entries.push({
        ...parsed,
        optional: false,
        file: false,
        context: undefined,
        source: { file, line },
      });
    });
  return entries;
}
