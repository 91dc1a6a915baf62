import test from 'ava';
import { parseTemplate } from '../../src/template/parse-template.js';
import { renderTemplate } from '../../src/template/render-template.js';
import type { Template } from '../../src/template/template.js';

function parsed(text: string): Template {
  const result = parseTemplate(text);
  if (result.problem !== undefined) throw new Error(result.problem);
  return result.template;
}

/** The template rendered with each reference's value written as `<name@version>`. */
function shown(text: string): string {
  const template = parsed(text);
  const values = template.references.map(({ credential, version }) =>
    Buffer.from(`<${credential}${version === undefined ? '' : `@${version}`}>`),
  );
  return renderTemplate(template, values).toString('utf8');
}

test('a reference is replaced by the value of its credential, and the text around it is kept', (t) => {
  t.is(
    shown('postgres://app:{{app.db.password}}@db:5432/app?sslmode=require'),
    'postgres://app:<app.db.password>@db:5432/app?sslmode=require',
  );
});

test('blanks inside the braces are ignored and the last @ starts a pinned, padded version', (t) => {
  t.is(
    shown('{{ a }}|{{\ta@3 }}|{{ops@example.com@v2}}'),
    '<a>|<a@0000000000000000003>|<ops@example.com@v2>',
  );
  t.deepEqual(parsed('{{ ops@example.com@12 }}').references, [
    { credential: 'ops@example.com', version: '0000000000000000012' },
  ]);
});

test('each distinct reference is listed once, in the order of first use', (t) => {
  const template = parsed('{{b}}{{a}}{{ b }}{{b@1}}{{a}}');
  t.deepEqual(template.references, [
    { credential: 'b', version: undefined },
    { credential: 'a', version: undefined },
    { credential: 'b', version: '0000000000000000001' },
  ]);
  t.is(shown('{{b}}{{a}}{{ b }}{{b@1}}{{a}}'), '<b><a><b><b@0000000000000000001><a>');
});

test('{{{{ is a literal {{, and a brace right before a reference is literal text', (t) => {
  t.is(shown('{{{{not a reference}} {{x}}'), '{{not a reference}} <x>');
  t.is(shown('{{{x}}}'), '{<x>}');
  t.is(shown('{{{{{{x}}'), '{{<x>');
  t.is(shown('{{{{{{{x}}'), '{{{<x>');
  t.is(shown('{{{{{ {{x}}'), '{{{ <x>');
  t.is(shown('{"password":"{{x}}","nested":{"a":1}}'), '{"password":"<x>","nested":{"a":1}}');
});

test('}} outside a reference, a single {, $VAR, $(…) and backticks are plain text', (t) => {
  t.is(
    shown('}} { ${HOME} $HOME $(id) `id` %PATH% {{x}}'),
    '}} { ${HOME} $HOME $(id) `id` %PATH% <x>',
  );
  t.is(shown('{{$(touch /tmp/pwned)}}{{${HOME}}}'), '<$(touch /tmp/pwned)><${HOME>}');
});

test('names starting with { or ending with } are written with a blank inside the braces', (t) => {
  t.deepEqual(parsed('{{ {x }}{{ y} }}').references, [
    { credential: '{x', version: undefined },
    { credential: 'y}', version: undefined },
  ]);
});

test('the value is composed byte for byte, multi-byte text included', (t) => {
  const template = parsed('é{{a}}😀{{b}}');
  const composed = renderTemplate(template, [Buffer.from('ü'), Buffer.from('')]);
  t.deepEqual(composed, Buffer.from('éü😀', 'utf8'));
});

test('render refuses a number of values that does not match the references', (t) => {
  t.throws(() => renderTemplate(parsed('{{a}}{{b}}'), [Buffer.from('x')]), {
    instanceOf: RangeError,
    message: 'a template with 2 reference(s) was given 1 value(s)',
  });
});

test('each mistake is one line naming where it is, without the text of the template', (t) => {
  const problems: [string, string][] = [
    [
      'secret-ish text {{x',
      '"{{" at character 17 is never closed by "}}" (a literal "{{" is written "{{{{")',
    ],
    [
      '{{a {{b}}',
      'the reference at character 1 is not closed by "}}" before the next "{{" (a literal "{{" is written "{{{{")',
    ],
    ['ab{{ }}', 'empty reference at character 3 (a literal "{{" is written "{{{{")'],
    ['{{a@}}', 'the reference at character 1: the version after "@" is empty'],
    ['😀{{@3}}', 'the reference at character 2: the credential name before "@" is empty'],
    [
      '{{a@12345678901234567890}}',
      'the reference at character 1: version 12345678901234567890 has more than 19 digits',
    ],
    ['a\u0000{{b}}', 'a template cannot contain a NUL character (character 2)'],
    ['{{b}}\ud800', 'a template must be Unicode text: a lone surrogate at character 6'],
    [
      'postgres://localhost/app',
      'the template references no credential (write each one as {{name}})',
    ],
    ['{{{{x}}', 'the template references no credential (write each one as {{name}})'],
  ];
  for (const [text, problem] of problems) t.is(parseTemplate(text).problem, problem, text);
});
