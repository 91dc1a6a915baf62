import test from 'ava';
import { EMPTY_CONTEXT } from '../../src/envelope/context.js';
import type { ManifestEntry } from '../../src/manifest/manifest-entry.js';
import { parseManifests } from '../../src/manifest/parse-manifest.js';
import { decide, type CommandState, type Held } from '../../src/watch/changes.js';
import { watchPlan } from '../../src/watch/watch-plan.js';

const POLICY = { allowVars: new Set<string>(), context: EMPTY_CONTEXT };

const entries = parseManifests(
  [
    {
      name: 'm.json',
      text: JSON.stringify({
        DB: 'db',
        DSN: { template: '{{db}}@{{host}}' },
        TLS: { name: 'tls', file: true, onChange: 'signal:SIGHUP' },
        CA: { name: 'ca', file: true, onChange: 'signal:SIGUSR1' },
        OPT_FILE: { name: 'opt', file: true, optional: true, onChange: 'signal:SIGHUP' },
        OPT_ENV: { name: 'optenv', optional: true },
        API: { name: 'api', onChange: 'none' },
        PIN: { name: 'pin', version: '1' },
      }),
    },
  ],
  POLICY,
);
const plan = watchPlan(entries);
const byVariable = (variable: string) => entries.find((entry) => entry.variable === variable)!;

/** The command as started: every credential at version 1, the optional ones absent. */
const START: Record<string, string | undefined> = {
  db: '1',
  host: '1',
  tls: '1',
  ca: '1',
  opt: undefined,
  optenv: undefined,
  api: '1',
};

function stateWith(versions: Record<string, string | undefined>, reported: Held = new Map()) {
  const held: Held = new Map();
  const inEnvironment = new Set<ManifestEntry>();
  for (const { entry, watched } of plan.entries) {
    held.set(entry, new Map(watched.map((credential) => [credential, versions[credential]])));
    if (watched.every((credential) => versions[credential] !== undefined)) inEnvironment.add(entry);
  }
  return { held, reported, inEnvironment } satisfies CommandState;
}

function latest(changes: Record<string, string | undefined>) {
  return new Map(Object.entries({ ...START, ...changes }));
}

function summary(decision: ReturnType<typeof decide>) {
  const describe = ({ watched, credential, from, to }: (typeof decision.acting)[number]) =>
    `${watched.entry.variable}:${credential} ${from ?? '-'}->${to ?? '-'}`;
  return {
    acting: decision.acting.map(describe),
    reported: decision.reported.map(describe),
    drifted: decision.drifted.map(describe),
    missing: decision.missing.map(({ entry, credential }) => `${entry.variable}:${credential}`),
    action: decision.action,
  };
}

const NOTHING = { acting: [], reported: [], drifted: [], missing: [], action: undefined };

test('nothing new is nothing to do', (t) => {
  t.deepEqual(summary(decide(plan, stateWith(START), latest({}))), NOTHING);
});

test('a credential read by an entry and a template changes both, and one restart applies them', (t) => {
  t.deepEqual(summary(decide(plan, stateWith(START), latest({ db: '2' }))), {
    ...NOTHING,
    acting: ['DB:db 1->2', 'DSN:db 1->2'],
    action: { kind: 'restart' },
  });
});

test('rollback by delete is a change to the older version', (t) => {
  const state = stateWith({ ...START, db: '3' });
  t.deepEqual(summary(decide(plan, state, latest({ db: '2' }))).acting, [
    'DB:db 3->2',
    'DSN:db 3->2',
  ]);
});

test('file entries under signal: are reloaded with one signal each, several changes at once', (t) => {
  t.deepEqual(summary(decide(plan, stateWith(START), latest({ tls: '2', ca: '5' }))), {
    ...NOTHING,
    acting: ['TLS:tls 1->2', 'CA:ca 1->5'],
    action: { kind: 'signal', signals: ['SIGHUP', 'SIGUSR1'] },
  });
});

test('a restart and a reload in one poll are one restart', (t) => {
  t.deepEqual(summary(decide(plan, stateWith(START), latest({ tls: '2', host: '2' }))).action, {
    kind: 'restart',
  });
});

test('a none entry is reported once, and left to a restart', (t) => {
  const first = decide(plan, stateWith(START), latest({ api: '2' }));
  t.deepEqual(summary(first), {
    ...NOTHING,
    reported: ['API:api 1->2'],
    drifted: ['API:api 1->2'],
  });
  const reported: Held = new Map([[byVariable('API'), new Map([['api', '2']])]]);
  t.deepEqual(summary(decide(plan, stateWith(START, reported), latest({ api: '2' }))), {
    ...NOTHING,
    drifted: ['API:api 1->2'],
  });
  t.deepEqual(
    summary(decide(plan, stateWith(START, reported), latest({ api: '3', db: '2' }))).reported,
    ['API:api 1->3'],
  );
});

test('a required credential without any version left is missing, never a change; an optional one is', (t) => {
  t.deepEqual(summary(decide(plan, stateWith(START), latest({ db: undefined }))), {
    ...NOTHING,
    missing: ['DB:db', 'DSN:db'],
  });
  const withOptional = stateWith({ ...START, optenv: '4' });
  t.deepEqual(summary(decide(plan, withOptional, latest({ optenv: undefined }))), {
    ...NOTHING,
    acting: ['OPT_ENV:optenv 4->-'],
    action: { kind: 'restart' },
  });
});

test('an optional file entry under signal: that appears needs a restart (its variable is unset); one that goes is a reload', (t) => {
  t.deepEqual(summary(decide(plan, stateWith(START), latest({ opt: '1' }))), {
    ...NOTHING,
    acting: ['OPT_FILE:opt -->1'],
    action: { kind: 'restart' },
  });
  t.deepEqual(
    summary(decide(plan, stateWith({ ...START, opt: '1' }), latest({ opt: undefined }))),
    {
      ...NOTHING,
      acting: ['OPT_FILE:opt 1->-'],
      action: { kind: 'signal', signals: ['SIGHUP'] },
    },
  );
});
