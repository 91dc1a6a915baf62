import test from 'ava';
import { buildChildEnv, type ChildEnvInput } from '../../src/launch/child-env.js';

const PARENT = {
  PATH: '/usr/bin:/bin',
  HOME: '/home/me',
  DB_PASSWORD: 'from-the-shell',
  OPTIONAL_KEY: 'stale',
  CREDEXEC_BACKEND: 'local',
  CREDEXEC_LOCAL_DIR: '/tmp/x',
  UNSET: undefined,
};

const cases: { title: string; input: Partial<ChildEnvInput>; expected: Record<string, string> }[] =
  [
    {
      title: 'the child gets the parent environment without CREDEXEC_ variables, plus the secrets',
      input: { secrets: new Map([['API_KEY', 'k']]) },
      expected: {
        PATH: '/usr/bin:/bin',
        HOME: '/home/me',
        DB_PASSWORD: 'from-the-shell',
        OPTIONAL_KEY: 'stale',
        API_KEY: 'k',
      },
    },
    {
      title: 'secrets win over parent variables of the same name',
      input: { secrets: new Map([['DB_PASSWORD', 'from-the-store']]) },
      expected: {
        PATH: '/usr/bin:/bin',
        HOME: '/home/me',
        DB_PASSWORD: 'from-the-store',
        OPTIONAL_KEY: 'stale',
      },
    },
    {
      title: 'an optional variable left unset is removed even when the parent has it',
      input: { unset: ['OPTIONAL_KEY'] },
      expected: { PATH: '/usr/bin:/bin', HOME: '/home/me', DB_PASSWORD: 'from-the-shell' },
    },
    {
      title: 'pristine keeps only PATH and the secrets',
      input: { pristine: true, secrets: new Map([['API_KEY', 'k']]) },
      expected: { PATH: '/usr/bin:/bin', API_KEY: 'k' },
    },
    {
      title: 'a secret named __proto__ is an ordinary variable',
      input: { pristine: true, secrets: new Map([['__proto__', 'p']]) },
      // JSON.parse makes __proto__ an own key, as a literal would not.
      expected: JSON.parse('{"PATH": "/usr/bin:/bin", "__proto__": "p"}') as Record<string, string>,
    },
  ];

for (const { title, input, expected } of cases) {
  test(title, (t) => {
    const env = buildChildEnv({
      parent: PARENT,
      secrets: new Map(),
      unset: [],
      pristine: false,
      ...input,
    });
    t.deepEqual(Object.entries(env), Object.entries(expected));
  });
}

test('pristine without a parent PATH gives only the secrets', (t) => {
  const env = buildChildEnv({
    parent: { HOME: '/h' },
    secrets: new Map([['A', 'a']]),
    unset: [],
    pristine: true,
  });
  t.deepEqual(Object.entries(env), [['A', 'a']]);
});

test('building the child environment leaves the parent untouched', (t) => {
  const parent = { ...PARENT };
  buildChildEnv({ parent, secrets: new Map([['HOME', 'x']]), unset: ['PATH'], pristine: false });
  t.deepEqual(parent, PARENT);
});
