import type { Template } from './template.js';

/**
 * The composed value: the template's text with each reference replaced by the bytes of its value,
 * `values[i]` being the value of `template.references[i]`. A new buffer the caller zeroes after
 * use. Pure: it is given the template and the values, and has nothing else to read — no
 * environment, no files, no commands.
 */
export function renderTemplate(template: Template, values: readonly Uint8Array[]): Buffer {
  if (values.length !== template.references.length) {
    throw new RangeError(
      `a template with ${template.references.length} reference(s) was given ${values.length} value(s)`,
    );
  }
  const bytes = (part: Template['parts'][number]) =>
    part.kind === 'text' ? Buffer.byteLength(part.text, 'utf8') : values[part.index]!.length;
  const composed = Buffer.alloc(template.parts.reduce((size, part) => size + bytes(part), 0));
  let offset = 0;
  for (const part of template.parts) {
    if (part.kind === 'text') offset += composed.write(part.text, offset, 'utf8');
    else {
      composed.set(values[part.index]!, offset);
      offset += values[part.index]!.length;
    }
  }
  return composed;
}
