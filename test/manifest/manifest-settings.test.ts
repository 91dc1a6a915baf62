import { resolve } from 'node:path';
import test from 'ava';
import { EMPTY_CONTEXT } from '../../src/envelope/context.js';
import { ManifestError } from '../../src/errors.js';
import { loadManifestSettings } from '../../src/manifest/load-manifest.js';
import { ProblemList } from '../../src/manifest/manifest-problems.js';
import { manifestSettings } from '../../src/manifest/manifest-settings.js';
import { parseManifests } from '../../src/manifest/parse-manifest.js';

const POLICY = { allowVars: new Set<string>(), context: EMPTY_CONTEXT };

function settingsOf(files: { name: string; text: string }[]) {
  const problems = new ProblemList();
  const settings = manifestSettings(files, problems);
  return {
    settings,
    problems: problems.all.map(({ file, line, message }) => `${file}:${line}: ${message}`),
  };
}

test('"$credexec" holds launcher settings, never a variable; a relative fallback is relative to the manifest', (t) => {
  const text = JSON.stringify(
    { $credexec: { fallback: 'state/app.fallback', fallbackMaxAge: '36h' }, DB: 'app.db' },
    null,
    2,
  );
  const files = [{ name: 'deploy/app.json', text }];
  t.deepEqual(settingsOf(files), {
    settings: {
      fallback: resolve('deploy', 'state/app.fallback'),
      fallbackMaxAge: { text: '36h', ms: 36 * 3_600_000 },
    },
    problems: [],
  });
  t.deepEqual(
    parseManifests(files, POLICY).map((entry) => entry.variable),
    ['DB'],
  );
  t.deepEqual(
    settingsOf([{ name: 'a.json', text: '{"$credexec": {"fallback": "/abs/f"}}' }]).settings,
    {
      fallback: '/abs/f',
    },
  );
});

test('bad settings are manifest problems with their file and line, and are left out', (t) => {
  const text = [
    '{',
    '  "$credexec": {',
    '    "fallback": "",',
    '    "fallbackMaxAge": "1 day",',
    '    "fallbak": "/x"',
    '  },',
    '  "DB": "app.db"',
    '}',
  ].join('\n');
  const expected = [
    'a.json:3: $credexec: "fallback" must be a non-empty path (relative to this manifest\'s directory)',
    'a.json:4: $credexec: "fallbackMaxAge" must be a whole number above 0 and a unit: ms, s, m, h or d (e.g. 24h)',
    'a.json:5: $credexec: unknown setting "fallbak" (allowed: fallback, fallbackMaxAge, redact, exec, watch, onChange, killSignal, killTimeout, splay)',
  ];
  t.deepEqual(settingsOf([{ name: 'a.json', text }]), { settings: {}, problems: expected });
  const error = t.throws(() => parseManifests([{ name: 'a.json', text }], POLICY), {
    instanceOf: ManifestError,
  });
  t.deepEqual(error?.message.split('\n'), expected);
});

test('a setting given twice, in one file or in two, and a block that is not an object are problems', (t) => {
  const first = '{\n"$credexec": {"fallback": "/a"}\n}';
  const second = '{\n"$credexec": {\n"fallback": "/b"\n},\n"$credexec": 1\n}';
  t.deepEqual(
    settingsOf([
      { name: 'one.json', text: first },
      { name: 'two.json', text: second },
    ]),
    {
      settings: { fallback: '/a' },
      problems: [
        'two.json:3: $credexec: "fallback" is already set at one.json:2',
        'two.json:5: "$credexec" must be an object of launcher settings',
      ],
    },
  );
});

test('dotenv manifests have no settings, and JSON syntax errors are left to the manifest parser', (t) => {
  t.deepEqual(
    settingsOf([
      { name: 'app.env', text: '$credexec=x\n' },
      { name: 'broken.json', text: '{"$credexec": {' },
    ]),
    { settings: {}, problems: [] },
  );
});

test('loadManifestSettings reads only JSON manifests, skips unreadable ones and keeps only valid settings', async (t) => {
  const read: string[] = [];
  const texts: Record<string, string> = {
    'a.json': '{"$credexec": {"fallback": "/f", "fallbackMaxAge": "soon"}}',
    'b.env': 'DB=app.db\n',
  };
  const settings = await loadManifestSettings(
    { paths: ['b.env', 'missing.json', 'a.json'], isDefault: false },
    (path) => {
      read.push(path);
      const text = texts[path];
      return text === undefined ? Promise.reject(new Error('ENOENT')) : Promise.resolve(text);
    },
  );
  t.deepEqual(settings, { fallback: '/f' });
  t.deepEqual(read, ['missing.json', 'a.json']);
});

test('the watch settings: "watch" true or an interval, "onChange", "killSignal", "killTimeout" and "splay"', (t) => {
  const text = JSON.stringify({
    $credexec: {
      watch: '30s',
      onChange: 'signal:hup',
      killSignal: 'INT',
      killTimeout: '20s',
      splay: '2m',
    },
  });
  t.deepEqual(settingsOf([{ name: 'a.json', text }]), {
    settings: {
      watch: { text: '30s', ms: 30_000 },
      onChange: { kind: 'signal', signal: 'SIGHUP' },
      killSignal: 'SIGINT',
      killTimeout: { text: '20s', ms: 20_000 },
      splay: { text: '2m', ms: 120_000 },
    },
    problems: [],
  });
  t.deepEqual(
    settingsOf([{ name: 'a.json', text: '{"$credexec": {"watch": true, "onChange": "none"}}' }])
      .settings,
    { watch: true, onChange: { kind: 'none' } },
  );
  const bad = [
    '{"$credexec": {',
    '  "watch": 60,',
    '  "onChange": "reload",',
    '  "killSignal": "SIGNOPE",',
    '  "killTimeout": "10",',
    '  "splay": "",',
    '  "redact": true',
    '}}',
  ].join('\n');
  t.deepEqual(settingsOf([{ name: 'b.json', text: bad }]), {
    settings: { redact: true },
    problems: [
      'b.json:2: $credexec: "watch" must be true, false or an interval: a whole number above 0 and a unit: ms, s, m, h or d (e.g. 24h)',
      'b.json:3: $credexec: "onChange" must be restart, none or signal:NAME (e.g. signal:SIGHUP), not "reload"',
      'b.json:4: $credexec: "killSignal" must be a signal name (e.g. SIGTERM)',
      'b.json:5: $credexec: "killTimeout" must be a whole number above 0 and a unit: ms, s, m, h or d (e.g. 24h)',
      'b.json:6: $credexec: "splay" must be a whole number above 0 and a unit: ms, s, m, h or d (e.g. 24h)',
    ],
  });
});
