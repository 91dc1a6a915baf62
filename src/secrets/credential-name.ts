/**
 * What a credential name may be: anything credstash stores, except empty or holding a control
 * character (C0, DEL or C1, U+0000–U+001F and U+007F–U+009F). Such a name cannot be typed,
 * listed or shown in a one-line message without hiding or forging part of it. Pure.
 */
function isControl(code: number): boolean {
  return code <= 0x1f || (code >= 0x7f && code <= 0x9f);
}

/** The same characters as isControl. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

const hex = (code: number) => code.toString(16).padStart(4, '0');

/** The name with every control character written as `\uXXXX`, for messages. */
export function shownName(name: string): string {
  let shown = '';
  for (const char of name) {
    const code = char.charCodeAt(0);
    shown += isControl(code) ? `\\u${hex(code)}` : char;
  }
  return shown;
}

/** Why `name` cannot be a credential name, or `undefined` when it can. */
export function credentialNameProblem(name: string): string | undefined {
  if (name === '') return 'a credential name cannot be empty';
  const control = CONTROL.exec(name);
  if (control === null) return undefined;
  const code = control[0].charCodeAt(0);
  return `credential name "${shownName(name)}" contains a control character (U+${hex(code).toUpperCase()})`;
}
