import test from 'ava';
import { EMPTY_CONTEXT } from '../../src/envelope/context.js';
import { parseChangePolicy, RESTART, type ChangePolicy } from '../../src/manifest/change-policy.js';
import { parseManifests } from '../../src/manifest/parse-manifest.js';
import { formatWatchPlan, planProblem, watchPlan } from '../../src/watch/watch-plan.js';

const POLICY = { allowVars: new Set<string>(), context: EMPTY_CONTEXT };

function entriesOf(manifest: Record<string, unknown>) {
  return parseManifests([{ name: 'm.json', text: JSON.stringify(manifest) }], POLICY);
}

function policy(text: string): ChangePolicy {
  const read = parseChangePolicy(text);
  if ('problem' in read) throw new Error(read.problem);
  return read;
}

const MANIFEST = {
  DB_PASSWORD: 'app.db.password',
  PINNED: { name: 'app.legacy', version: '3' },
  TLS_KEY: { name: 'app.tls.key', file: true, onChange: 'signal:SIGHUP' },
  DSN: { template: 'postgres://{{app.db.user}}:{{app.db.password}}@{{app.db.host@2}}/app' },
  ALL_PINNED: { template: '{{a@1}}-{{b@2}}' },
  QUIET: { name: 'app.api.key', onChange: 'none' },
};

test('every reference read at its latest version is watched, under its own policy or the default; pinned ones never', (t) => {
  const plan = watchPlan(entriesOf(MANIFEST));
  t.deepEqual(
    plan.entries.map(({ entry, policy, own, watched }) => [entry.variable, policy, own, watched]),
    [
      ['DB_PASSWORD', RESTART, false, ['app.db.password']],
      ['TLS_KEY', { kind: 'signal', signal: 'SIGHUP' }, true, ['app.tls.key']],
      ['DSN', RESTART, false, ['app.db.user', 'app.db.password']],
      ['QUIET', { kind: 'none' }, true, ['app.api.key']],
    ],
  );
  t.deepEqual(plan.credentials, ['app.db.password', 'app.tls.key', 'app.db.user', 'app.api.key']);
  t.deepEqual(watchPlan(entriesOf({ A: { name: 'a', version: '1' } })), {
    entries: [],
    credentials: [],
  });
});

test('a default signal: policy that would reach environment entries is refused, naming them and saying why', (t) => {
  const entries = entriesOf(MANIFEST);
  t.is(planProblem(watchPlan(entries, policy('none')), '--on-change'), undefined);
  const error = planProblem(watchPlan(entries, policy('signal:SIGUSR2')), '--on-change');
  t.is(error?.code, 'USAGE');
  t.is(
    error?.message,
    '--on-change signal:SIGUSR2 cannot apply to DB_PASSWORD, DSN: their values are environment variables, which cannot change inside a running process; give them "onChange": "restart" (or "none"), or make them "file": true',
  );
  const files = entriesOf({ KEY: { name: 'k', file: true }, PIN: { name: 'p', version: '1' } });
  t.is(planProblem(watchPlan(files, policy('signal:SIGHUP')), '--on-change'), undefined);
});

test('check --watch-plan lists each entry, what is watched and what a change does, then what a poll costs', (t) => {
  const entries = entriesOf(MANIFEST);
  t.is(
    formatWatchPlan(entries, watchPlan(entries)),
    [
      'VARIABLE     CREDENTIAL                           WATCHED       ON CHANGE',
      'DB_PASSWORD  app.db.password                      yes           restart, default',
      'PINNED       app.legacy@0000000000000000003       no (pinned)   -',
      'TLS_KEY      app.tls.key                          yes           signal:SIGHUP (file rewritten)',
      'DSN          template                             yes (2 of 3)  restart, default',
      '             {{app.db.user}}                      yes',
      '             {{app.db.password}}                  yes',
      '             {{app.db.host@0000000000000000002}}  no (pinned)',
      'ALL_PINNED   template                             no (pinned)   -',
      '             {{a@0000000000000000001}}            no (pinned)',
      '             {{b@0000000000000000002}}            no (pinned)',
      'QUIET        app.api.key                          yes           none (reported only)',
      "4 credential(s) watched: each poll reads 4 version(s) (aws: 4 Query request(s) of one item's name and version), and no key service call while nothing changes",
      '',
    ].join('\n'),
  );
  const pinned = entriesOf({ A: { name: 'a', version: '1' } });
  t.is(
    formatWatchPlan(pinned, watchPlan(pinned)),
    'VARIABLE  CREDENTIAL             WATCHED      ON CHANGE\nA         a@0000000000000000001  no (pinned)  -\nnothing to watch: every entry is pinned to a version\n',
  );
});
