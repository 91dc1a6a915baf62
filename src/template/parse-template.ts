import { parseReference, type CredentialReference } from './reference.js';
import type { Template, TemplatePart } from './template.js';

const OPEN = '{{';
const CLOSE = '}}';
const BRACE = 0x7b;

/** A parsed template, or the first mistake in it (one line, without any of the literal text). */
export type TemplateParse =
  { readonly template: Template; readonly problem?: undefined } | { readonly problem: string };

/** 1-based, in characters (code points), as an editor would count them. */
function position(text: string, index: number): number {
  return [...text.slice(0, index)].length + 1;
}

/**
 * The first occurrence of `needle` at or after `from`, for `from`s that never decrease: each
 * search starts where the last one stopped, so scanning a whole template stays linear.
 */
function searcher(text: string, needle: string): (from: number) => number {
  let found = -2;
  return (from) => {
    if (found === -2 || (found !== -1 && found < from)) found = text.indexOf(needle, from);
    return found;
  };
}

/** Why a template cannot be the text of a variable: a NUL, or UTF-16 that is not Unicode. */
function textProblem(text: string): string | undefined {
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code === 0)
      return `a template cannot contain a NUL character (character ${position(text, index)})`;
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = text.charCodeAt(index + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        index++;
        continue;
      }
    }
    if (code >= 0xd800 && code <= 0xdfff)
      return `a template must be Unicode text: a lone surrogate at character ${position(text, index)}`;
  }
  return undefined;
}

class TemplateBuilder {
  readonly parts: TemplatePart[] = [];
  readonly references: CredentialReference[] = [];
  readonly #indexes = new Map<string, number>();
  #literal = '';

  text(text: string): void {
    this.#literal += text;
  }

  reference(reference: CredentialReference): void {
    const key = `${reference.credential}\u0000${reference.version ?? ''}`;
    let index = this.#indexes.get(key);
    if (index === undefined) {
      index = this.references.push(reference) - 1;
      this.#indexes.set(key, index);
    }
    this.#flush();
    this.parts.push({ kind: 'reference', index });
  }

  build(): Template {
    this.#flush();
    return { parts: this.parts, references: this.references };
  }

  #flush(): void {
    if (this.#literal !== '') this.parts.push({ kind: 'text', text: this.#literal });
    this.#literal = '';
  }
}

/**
 * Parse a template. Text is copied as it is, except:
 * - `{{name}}` / `{{name@VERSION}}` is a reference: it ends at the first `}}`, blanks around the
 *   reference are ignored, and the last `@` starts the version (as in the dotenv form);
 * - `{{{{` is a literal `{{` (read left to right);
 * - in `{{{name}}` the first brace is literal text: a reference never starts with `{`.
 * So `}}` outside a reference, a lone `{`, `$VAR`, `$(…)` and backticks are all plain text.
 * Pure and linear in the length of the text; never throws.
 */
export function parseTemplate(text: string): TemplateParse {
  const invalid = textProblem(text);
  if (invalid !== undefined) return { problem: invalid };
  const builder = new TemplateBuilder();
  const nextOpen = searcher(text, OPEN);
  const nextClose = searcher(text, CLOSE);
  let index = 0;
  while (index < text.length) {
    const open = nextOpen(index);
    if (open === -1) {
      builder.text(text.slice(index));
      break;
    }
    builder.text(text.slice(index, open));
    let end = open;
    while (text.charCodeAt(end) === BRACE) end++;
    const braces = end - open;
    builder.text(
      '{{'.repeat(Math.floor(braces / 4)) + (braces % 4 === 1 || braces % 4 === 3 ? '{' : ''),
    );
    index = end;
    if (braces % 4 < 2) continue;
    const start = end - 2;
    const close = nextClose(end);
    if (close === -1)
      return {
        problem: `"{{" at character ${position(text, start)} is never closed by "}}" (a literal "{{" is written "{{{{")`,
      };
    const inner = nextOpen(end);
    if (inner !== -1 && inner < close)
      return {
        problem: `the reference at character ${position(text, start)} is not closed by "}}" before the next "{{" (a literal "{{" is written "{{{{")`,
      };
    const content = text.slice(end, close).trim();
    if (content === '')
      return {
        problem: `empty reference at character ${position(text, start)} (a literal "{{" is written "{{{{")`,
      };
    const reference = parseReference(content);
    if (typeof reference === 'string')
      return { problem: `the reference at character ${position(text, start)}: ${reference}` };
    builder.reference(reference);
    index = close + CLOSE.length;
  }
  const template = builder.build();
  if (template.references.length === 0)
    return {
      problem: 'the template references no credential (write each one as {{name}})',
    };
  return { template };
}
