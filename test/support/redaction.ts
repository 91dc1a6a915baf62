import {
  redactionPatterns,
  type RedactSecret,
  type RedactionOptions,
} from '../../src/redact/patterns.js';
import { Redactor } from '../../src/redact/redactor.js';
import type { Redaction } from '../../src/redact/redaction.js';

/**
 * The slow reference for redaction: every pattern compared at every position. Left to right; at
 * each position the longest pattern that starts there is replaced by `<redacted:VARIABLE>` and
 * scanning resumes after it.
 */
export function oracle(
  secrets: readonly RedactSecret[],
  input: Uint8Array,
  options: RedactionOptions = {},
): Buffer {
  const { patterns } = redactionPatterns(secrets, options);
  const out: Buffer[] = [];
  let position = 0;
  let plainFrom = 0;
  while (position < input.length) {
    let best: (typeof patterns)[number] | undefined;
    for (const pattern of patterns) {
      const { bytes } = pattern;
      if (bytes.length <= (best?.bytes.length ?? 0)) continue;
      if (position + bytes.length > input.length) continue;
      let same = true;
      for (let offset = 0; offset < bytes.length && same; offset += 1) {
        same = input[position + offset] === bytes[offset];
      }
      if (same) best = pattern;
    }
    if (best === undefined) {
      position += 1;
      continue;
    }
    out.push(Buffer.from(input.subarray(plainFrom, position)));
    out.push(Buffer.from(`<redacted:${best.variable}>`));
    position += best.bytes.length;
    plainFrom = position;
  }
  out.push(Buffer.from(input.subarray(plainFrom)));
  return Buffer.concat(out);
}

/** Redactor output as text. */
export function text(output: readonly Buffer[]): string {
  return Buffer.concat(output).toString('utf8');
}

/** Feed `input` to a fresh redactor in pieces of the given sizes (the rest last), then flush. */
export function redactInPieces(
  redaction: Redaction,
  input: Uint8Array,
  sizes: readonly number[],
  onHeld: (held: number) => void = () => {},
): Buffer {
  const redactor = new Redactor(redaction);
  const out: Buffer[] = [];
  let position = 0;
  for (const size of [...sizes, input.length]) {
    const end = Math.min(input.length, position + size);
    // Copied: the result may share memory with the input, which the next write must not change.
    out.push(Buffer.concat(redactor.write(input.subarray(position, end))));
    onHeld(redactor.heldBack);
    position = end;
  }
  out.push(...redactor.flush());
  return Buffer.concat(out);
}

/**
 * The forms of a value an attacker reading the logs would try first, computed here independently
 * of src/redact: the value, its base64 (both alphabets, padded or not), encodeURIComponent,
 * URLSearchParams, and the inside of JSON.stringify. Returns those found in `output`.
 */
export function leakedForms(output: Uint8Array, value: Uint8Array): string[] {
  const text = Buffer.from(output).toString('latin1');
  const bytes = Buffer.from(value);
  const forms: Record<string, string> = {
    raw: bytes.toString('latin1'),
    base64: bytes.toString('base64').replace(/=+$/, ''),
    base64url: bytes.toString('base64url'),
  };
  const utf8 = bytes.toString('utf8');
  if (Buffer.from(utf8, 'utf8').equals(bytes)) {
    forms.uriComponent = encodeURIComponent(utf8);
    forms.form = new URLSearchParams({ v: utf8 }).toString().slice(2);
    forms.json = Buffer.from(JSON.stringify(utf8).slice(1, -1), 'utf8').toString('latin1');
  }
  return Object.entries(forms)
    .filter(([, form]) => form.length > 0 && text.includes(form))
    .map(([name]) => name);
}
