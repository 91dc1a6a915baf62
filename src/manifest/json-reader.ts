/**
 * A small JSON reader that remembers the line of every value and object key. JSON.parse reports
 * neither lines nor duplicate keys (it silently keeps the last), and a manifest error must name
 * its line. Syntax is exactly RFC 8259; strings and numbers are decoded by JSON.parse itself.
 */
export type JsonNode =
  | { readonly kind: 'object'; readonly line: number; readonly members: readonly JsonMember[] }
  | { readonly kind: 'array'; readonly line: number; readonly items: readonly JsonNode[] }
  | { readonly kind: 'string'; readonly line: number; readonly value: string }
  | { readonly kind: 'number'; readonly line: number; readonly value: number; readonly raw: string }
  | { readonly kind: 'boolean'; readonly line: number; readonly value: boolean }
  | { readonly kind: 'null'; readonly line: number };

export interface JsonMember {
  readonly key: string;
  readonly line: number;
  readonly value: JsonNode;
}

export class JsonSyntaxError extends Error {
  readonly line: number;

  constructor(line: number, message: string) {
    super(message);
    this.line = line;
  }
}

/**
 * Objects and arrays nested deeper than this are refused. A manifest needs three levels (the
 * root, an entry, its context); the reader recurses once a level, so without a bound a deep
 * enough document would exhaust the stack instead of being reported at its line.
 */
export const MAX_JSON_DEPTH = 64;

const WHITESPACE = /[ \t\n\r]*/y;
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
// Loose on purpose: JSON.parse then rejects control characters and bad escapes.
const STRING = /"(?:[^"\\\n]|\\.)*"/y;
const LITERALS = [
  ['true', { kind: 'boolean', value: true }],
  ['false', { kind: 'boolean', value: false }],
  ['null', { kind: 'null' }],
] as const;

class Reader {
  #pos = 0;
  #line = 1;
  #depth = 0;
  readonly #text: string;

  constructor(text: string) {
    this.#text = text;
  }

  document(): JsonNode {
    const node = this.#value();
    this.#skipWhitespace();
    if (this.#pos < this.#text.length) this.#fail('unexpected text after the JSON value');
    return node;
  }

  #fail(message: string): never {
    throw new JsonSyntaxError(this.#line, message);
  }

  #advance(to: number): void {
    for (let i = this.#pos; i < to; i++) if (this.#text.charCodeAt(i) === 10) this.#line++;
    this.#pos = to;
  }

  #skipWhitespace(): void {
    WHITESPACE.lastIndex = this.#pos;
    WHITESPACE.exec(this.#text);
    this.#advance(WHITESPACE.lastIndex);
  }

  #match(pattern: RegExp): string | undefined {
    pattern.lastIndex = this.#pos;
    const found = pattern.exec(this.#text)?.[0];
    if (found !== undefined) this.#advance(this.#pos + found.length);
    return found;
  }

  #expect(char: string, what: string): void {
    this.#skipWhitespace();
    if (this.#text[this.#pos] !== char) this.#fail(`expected ${what}`);
    this.#advance(this.#pos + 1);
  }

  #value(): JsonNode {
    this.#skipWhitespace();
    const line = this.#line;
    const char = this.#text[this.#pos];
    if (char === undefined) this.#fail('unexpected end of file');
    if (char === '{' || char === '[') {
      if (++this.#depth > MAX_JSON_DEPTH) {
        this.#fail(`nested too deeply (more than ${MAX_JSON_DEPTH} levels)`);
      }
      const node = char === '{' ? this.#object(line) : this.#array(line);
      this.#depth--;
      return node;
    }
    if (char === '"') return { kind: 'string', line, value: this.#string() };
    const raw = this.#match(NUMBER);
    if (raw !== undefined) return { kind: 'number', line, value: Number(raw), raw };
    for (const [word, node] of LITERALS) {
      if (this.#text.startsWith(word, this.#pos)) {
        this.#advance(this.#pos + word.length);
        return { ...node, line };
      }
    }
    return this.#fail(`unexpected character ${JSON.stringify(char)}`);
  }

  #string(): string {
    const raw = this.#match(STRING);
    if (raw === undefined) this.#fail('unterminated string');
    try {
      return JSON.parse(raw) as string;
    } catch {
      return this.#fail('invalid string (control character or bad escape)');
    }
  }

  #object(line: number): JsonNode {
    this.#advance(this.#pos + 1);
    const members: JsonMember[] = [];
    this.#skipWhitespace();
    if (this.#text[this.#pos] === '}') {
      this.#advance(this.#pos + 1);
      return { kind: 'object', line, members };
    }
    for (;;) {
      this.#skipWhitespace();
      const keyLine = this.#line;
      if (this.#text[this.#pos] !== '"') this.#fail('expected a property name in double quotes');
      const key = this.#string();
      this.#expect(':', '":" after a property name');
      members.push({ key, line: keyLine, value: this.#value() });
      this.#skipWhitespace();
      const next = this.#text[this.#pos];
      if (next === undefined) this.#fail('unexpected end of file inside an object');
      this.#advance(this.#pos + 1);
      if (next === '}') return { kind: 'object', line, members };
      if (next !== ',') this.#fail('expected "," or "}" in an object');
    }
  }

  #array(line: number): JsonNode {
    this.#advance(this.#pos + 1);
    const items: JsonNode[] = [];
    this.#skipWhitespace();
    if (this.#text[this.#pos] === ']') {
      this.#advance(this.#pos + 1);
      return { kind: 'array', line, items };
    }
    for (;;) {
      items.push(this.#value());
      this.#skipWhitespace();
      const next = this.#text[this.#pos];
      if (next === undefined) this.#fail('unexpected end of file inside an array');
      this.#advance(this.#pos + 1);
      if (next === ']') return { kind: 'array', line, items };
      if (next !== ',') this.#fail('expected "," or "]" in an array');
    }
  }
}

/** Parse JSON text, keeping lines; throws JsonSyntaxError with the line of the problem. */
export function readJson(text: string): JsonNode {
  return new Reader(text).document();
}
