import test from 'ava';
import fc from 'fast-check';
import {
  base64Forms,
  embeddedBase64Forms,
  jsonForms,
  lineForms,
  percentForms,
  withoutTrailingNewline,
} from '../../src/redact/encodings.js';

const texts = (forms: readonly Buffer[]) => forms.map((form) => form.toString('utf8'));

test('base64 forms are the standard and URL-safe encodings, padded and not', (t) => {
  // 0xfb 0xff: "+/" in the standard alphabet, "-_" in the URL-safe one.
  const value = Buffer.from([0xfb, 0xff, 0x61, 0x62]);
  t.deepEqual(texts(base64Forms(value)), ['+/9hYg==', '+/9hYg', '-_9hYg==', '-_9hYg']);
  t.deepEqual(texts(base64Forms(Buffer.from('abc'))), ['YWJj']);
});

test('embedded base64 forms are the characters that depend on the value alone, for each alignment', (t) => {
  // "secret" at offsets 0, 1 and 2 of a group; the straddling characters are left out.
  const value = Buffer.from('secret');
  t.deepEqual(texts(embeddedBase64Forms(value)), ['c2VjcmV0', 'NlY3Jld', 'zZWNyZX']);
  // "eHNlY3JldA==": "eH" and the final "A" also carry bits of "x" and of the padding.
  t.is(Buffer.from('xsecret').toString('base64'), 'eHNlY3JldA==');
  t.true(Buffer.from('xysecret!').toString('base64').includes('zZWNyZX'));
});

test('the embedded form for its alignment occurs in the base64 of any blob holding the value', (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 8 }),
        fc.uint8Array({ minLength: 3, maxLength: 40 }),
        fc.uint8Array({ minLength: 0, maxLength: 8 }),
        (before, value, after) => {
          const blob = Buffer.concat([before, value, after]);
          const forms = embeddedBase64Forms(value).map((form) => form.toString('latin1'));
          const standard = blob.toString('base64');
          const url = blob.toString('base64url');
          return (
            forms.some((form) => form.length > 0 && standard.includes(form)) &&
            forms.some((form) => form.length > 0 && url.includes(form))
          );
        },
      ),
      { seed: 1201, numRuns: 2000 },
    ),
  );
});

test('embedded forms cover the characters of the value in a blob but for one at each end', (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 8 }),
        fc.uint8Array({ minLength: 3, maxLength: 40 }),
        fc.uint8Array({ minLength: 1, maxLength: 8 }),
        (before, value, after) => {
          const encoded = Buffer.concat([before, value, after]).toString('base64');
          // The characters that carry any bit of the value.
          const first = Math.floor((before.length * 8) / 6);
          const last = Math.ceil(((before.length + value.length) * 8) / 6);
          return embeddedBase64Forms(value).some((form) => {
            const text = form.toString('latin1');
            const at = encoded.indexOf(text, first);
            return at >= first && at - first <= 1 && last - (at + text.length) <= 1;
          });
        },
      ),
      { seed: 1202, numRuns: 1000 },
    ),
  );
});

test('percent forms include what encodeURIComponent, URLSearchParams and quote() write', (t) => {
  const value = "a b/c+d~e*f'g";
  const forms = texts(percentForms(Buffer.from(value)));
  t.true(forms.includes(encodeURIComponent(value)));
  t.true(forms.includes(new URLSearchParams({ v: value }).toString().slice(2)));
  // Python's quote() keeps "/", RFC 3986 escapes "*" and "'".
  t.true(forms.includes('a%20b/c%2Bd~e%2Af%27g'));
  t.true(forms.includes('a+b%2Fc%2Bd~e%2Af%27g'));
  // encodeURI keeps reserved characters.
  t.true(forms.includes(encodeURI(value)));
});

test('percent forms come with lower-case hex digits too', (t) => {
  const forms = texts(percentForms(Buffer.from('k=\u00e9')));
  t.true(forms.includes('k%3D%C3%A9'));
  t.true(forms.includes('k%3d%c3%a9'));
});

test('JSON forms include JSON.stringify, ensure_ascii, escaped slashes and HTML-safe escapes', (t) => {
  const value = 'p"a\\s/s\n<é>\u0001';
  const forms = texts(jsonForms(Buffer.from(value)));
  t.true(forms.includes(JSON.stringify(value).slice(1, -1)));
  t.true(forms.includes('p\\"a\\\\s/s\\n<\\u00e9>\\u0001'));
  t.true(forms.includes('p\\"a\\\\s\\/s\\n<\\u00e9>\\u0001'));
  t.true(forms.includes('p\\"a\\\\s/s\\n\\u003cé\\u003e\\u0001'));
  t.true(forms.includes('p\\"a\\\\s/s\\n<\\u00E9>\\u0001'));
});

test('a value that is not UTF-8 has no JSON forms and no lines', (t) => {
  const value = Buffer.from([0x61, 0xff, 0x0a, 0x62, 0x63, 0x64, 0x65]);
  t.deepEqual(jsonForms(value), []);
  t.deepEqual(lineForms(value), []);
});

test('lines of a multi-line value are trimmed, and PEM armour lines are left out', (t) => {
  const pem =
    '-----BEGIN PRIVATE KEY-----\r\n  MIIBVgIBADANBg\r\nkqhkiG9w0BAQ==\n\n-----END PRIVATE KEY-----\n';
  t.deepEqual(texts(lineForms(Buffer.from(pem))), ['MIIBVgIBADANBg', 'kqhkiG9w0BAQ==']);
  t.deepEqual(lineForms(Buffer.from('single line')), []);
});

test('a trailing newline is dropped, CR LF included, and nothing else', (t) => {
  t.is(Buffer.from(withoutTrailingNewline(Buffer.from('token\r\n\n'))).toString(), 'token');
  t.is(Buffer.from(withoutTrailingNewline(Buffer.from('to\nken'))).toString(), 'to\nken');
});
