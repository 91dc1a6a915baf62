import test from 'ava';
import { AuditRecorder, type AuditProcess } from '../../src/audit/audit-recorder.js';
import { auditRecordProblems } from '../../src/audit/audit-schema.js';
import type { AuditSink } from '../../src/audit/audit-sink.js';
import type { Backend } from '../../src/backends/backend.js';
import {
  CredentialKeyError,
  KeyServiceError,
  LaunchResolveError,
  ManifestError,
  NotFoundError,
  NotTextError,
  SecretFileError,
  SpawnError,
  UsageError,
} from '../../src/errors.js';
import type { ObservedEntry } from '../../src/launch/launch-observer.js';

/** A sink that keeps its lines, or fails every append with `failure`. */
function memorySink(failure?: Error) {
  const lines: string[] = [];
  let closed = 0;
  const sink: AuditSink = {
    name: '/var/log/audit.log',
    append(line) {
      if (failure !== undefined) throw failure;
      lines.push(line);
    },
    close: () => void closed++,
  };
  return { sink, lines, closed: () => closed };
}

/** A process whose clock moves only when told to. */
function fakeProcess() {
  let now = 1000;
  let date = Date.parse('2026-11-30T13:02:00.000Z');
  const proc: AuditProcess = {
    runId: '0f5e3c52-8a0e-4c1e-9d55-2b8e4c7b9a61',
    host: 'web-1',
    uid: 1000,
    pid: 4211,
    now: () => now,
    date: () => new Date(date),
  };
  return {
    proc,
    advance(ms: number) {
      now += ms;
      date += ms;
    },
  };
}

const BACKEND = {
  name: 'aws',
  settings: { table: 'credential-store', keyId: 'alias/credstash' },
  store: { description: 'table credential-store in eu-west-1' },
  keys: { description: 'KMS in eu-west-1' },
} as unknown as Backend;

const entry = (overrides: Partial<ObservedEntry>): ObservedEntry => ({
  variable: 'DB_PASSWORD',
  credential: 'app.db.password',
  requestedVersion: undefined,
  status: 'resolved',
  version: '0000000000000000003',
  origin: 'store',
  file: false,
  optional: false,
  error: undefined,
  ...overrides,
});

const COMMON = {
  version: 1,
  runId: '0f5e3c52-8a0e-4c1e-9d55-2b8e4c7b9a61',
  host: 'web-1',
  uid: 1000,
  credexecPid: 4211,
  command: 'node',
};

function recorder(options: { failure?: Error; exitStatus?: number } = {}) {
  const memory = memorySink(options.failure);
  const clock = fakeProcess();
  const warnings: string[] = [];
  const audit = new AuditRecorder(
    memory.sink,
    {
      command: 'node',
      manifests: ['/srv/app/credexec.env'],
      exitStatusOf: () => options.exitStatus ?? 125,
      warn: (line) => warnings.push(line),
    },
    clock.proc,
  );
  const records = () => memory.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { audit, memory, clock, warnings, records };
}

test('a run that starts writes a start record then an end record, each one line, sharing the run id', (t) => {
  const { audit, memory, clock, records } = recorder();
  audit.useBackend(BACKEND);
  clock.advance(40);
  audit.resolved([
    entry({}),
    entry({
      variable: 'SENTRY',
      credential: 'app.sentry',
      status: 'absent',
      version: undefined,
      optional: true,
    }),
    entry({
      variable: 'KEY_FILE',
      credential: 'app.key',
      requestedVersion: '0000000000000000002',
      version: '0000000000000000002',
      origin: 'fallback',
      file: true,
    }),
  ]);
  clock.advance(44);
  audit.started(4230);
  t.is(memory.lines.length, 1, 'the start is written as soon as the command runs');
  clock.advance(1500);
  audit.ended({ signal: 'SIGTERM' });
  t.true(
    memory.lines.every((line) => line.endsWith('}\n') && line.indexOf('\n') === line.length - 1),
  );
  t.deepEqual(records(), [
    {
      ...COMMON,
      event: 'start',
      time: '2026-11-30T13:02:00.084Z',
      manifests: ['/srv/app/credexec.env'],
      backend: {
        name: 'aws',
        table: 'credential-store',
        store: 'table credential-store in eu-west-1',
        keyService: 'KMS in eu-west-1',
        keyId: 'alias/credstash',
      },
      entries: [
        {
          variable: 'DB_PASSWORD',
          credential: 'app.db.password',
          requestedVersion: null,
          version: '0000000000000000003',
          status: 'resolved',
          source: 'store',
          file: false,
          optional: false,
          error: null,
        },
        {
          variable: 'SENTRY',
          credential: 'app.sentry',
          requestedVersion: null,
          version: null,
          status: 'absent',
          source: 'store',
          file: false,
          optional: true,
          error: null,
        },
        {
          variable: 'KEY_FILE',
          credential: 'app.key',
          requestedVersion: '0000000000000000002',
          version: '0000000000000000002',
          status: 'resolved',
          source: 'fallback',
          file: true,
          optional: false,
          error: null,
        },
      ],
      pid: 4230,
      resolutionMs: 84,
    },
    {
      ...COMMON,
      event: 'end',
      time: '2026-11-30T13:02:01.584Z',
      pid: 4230,
      exit: { code: null, signal: 'SIGTERM' },
      resolutionMs: 84,
      runMs: 1500,
    },
  ]);
  for (const record of records()) t.deepEqual(auditRecordProblems(record), []);
  t.is(memory.closed(), 1, 'the log is closed after the last record');
});

test('a run that fails to resolve writes one failed record marking each failing entry with its code and reason', (t) => {
  const { audit, clock, records } = recorder();
  audit.useBackend(BACKEND);
  const denied = new CredentialKeyError(
    'decrypt',
    'app.tls',
    '0000000000000000002',
    new KeyServiceError('access-denied', 'denied'),
  );
  const missing = new NotFoundError('app.gone');
  const notText = new NotTextError(
    'app.bin',
    '0000000000000000001',
    'nul',
    'an environment variable',
    'use "file": true',
  );
  audit.resolved([
    entry({}),
    entry({
      variable: 'TLS',
      credential: 'app.tls',
      requestedVersion: '0000000000000000002',
      status: 'failed',
      version: undefined,
      origin: undefined,
      error: denied,
    }),
    entry({
      variable: 'GONE',
      credential: 'app.gone',
      status: 'failed',
      version: undefined,
      origin: undefined,
      error: missing,
    }),
    entry({ variable: 'BIN', credential: 'app.bin', version: '0000000000000000001' }),
  ]);
  clock.advance(97);
  audit.failed({
    error: new LaunchResolveError([
      { variable: 'TLS', credential: 'app.tls@0000000000000000002', error: denied },
      { variable: 'GONE', credential: 'app.gone', error: missing },
      { variable: 'BIN', credential: 'app.bin', error: notText },
    ]),
  });
  const [record] = records();
  t.deepEqual(auditRecordProblems(record), []);
  t.deepEqual(
    (record!.entries as Record<string, unknown>[]).map(
      ({ variable, status, source, version, error }) => ({
        variable,
        status,
        source,
        version,
        error,
      }),
    ),
    [
      {
        variable: 'DB_PASSWORD',
        status: 'resolved',
        source: 'store',
        version: '0000000000000000003',
        error: null,
      },
      {
        variable: 'TLS',
        status: 'failed',
        source: null,
        version: null,
        error: { code: 'KEY_SERVICE', reason: 'access-denied' },
      },
      {
        variable: 'GONE',
        status: 'failed',
        source: null,
        version: null,
        error: { code: 'NOT_FOUND', reason: null },
      },
      // The value resolved but cannot be a variable: the version is known, the entry failed.
      {
        variable: 'BIN',
        status: 'failed',
        source: 'store',
        version: '0000000000000000001',
        error: { code: 'NOT_TEXT', reason: 'nul' },
      },
    ],
  );
  t.deepEqual(record!.failure, { code: 'RESOLVE', reason: null, variable: null, problems: null });
  t.deepEqual(record!.exit, { code: 125, signal: null });
  t.is(record!.resolutionMs, 97);
  t.is(record!.event, 'failed');
});

test('a manifest error is recorded with its files and lines, without messages or entries', (t) => {
  const { audit, records } = recorder();
  audit.useBackend(BACKEND);
  audit.failed({
    error: new ManifestError([
      { file: 'app.env', line: 3, message: 'variable NODE_OPTIONS is refused' },
      { file: 'base.env', line: 0, message: 'cannot read manifest (EACCES)' },
    ]),
  });
  const [record] = records();
  t.deepEqual(auditRecordProblems(record), []);
  t.is(record!.entries, null);
  t.deepEqual(record!.failure, {
    code: 'MANIFEST',
    reason: null,
    variable: null,
    problems: [
      { file: 'app.env', line: 3 },
      { file: 'base.env', line: 0 },
    ],
  });
  t.false(JSON.stringify(record).includes('refused'));
});

test('spawn failures, secret-file failures, signals and unknown errors are recorded with their codes', (t) => {
  const cases = [
    {
      failure: { error: new SpawnError('not-found', 'x: command not found') },
      status: 127,
      expected: { code: 'SPAWN', reason: 'not-found', variable: null, problems: null },
      exit: { code: 127, signal: null },
    },
    {
      failure: { error: new SecretFileError('TLS_KEY', '/dev/shm/x', 'ENOSPC') },
      status: 125,
      expected: { code: 'SECRET_FILE', reason: null, variable: 'TLS_KEY', problems: null },
      exit: { code: 125, signal: null },
    },
    {
      failure: { signal: 'SIGTERM' as const },
      status: 0,
      expected: { code: 'SIGNAL', reason: 'SIGTERM', variable: null, problems: null },
      exit: { code: null, signal: 'SIGTERM' },
    },
    {
      failure: { error: new TypeError('boom') },
      status: 125,
      expected: { code: 'UNEXPECTED', reason: null, variable: null, problems: null },
      exit: { code: 125, signal: null },
    },
  ];
  for (const { failure, status, expected, exit } of cases) {
    const { audit, records } = recorder({ exitStatus: status });
    audit.failed(failure);
    const [record] = records();
    t.deepEqual(auditRecordProblems(record), [], expected.code);
    t.deepEqual(record!.failure, expected);
    t.deepEqual(record!.exit, exit);
    t.is(record!.backend, null, 'the backend was never opened');
  }
});

test('a usage error from opening the backend is recorded with the status 2 the CLI gives it', (t) => {
  const { audit, records } = recorder({ exitStatus: 2 });
  audit.failed({ error: new UsageError('no AWS region for DynamoDB') });
  t.like(records()[0], { failure: { code: 'USAGE' }, exit: { code: 2, signal: null } });
});

test('only the first outcome is recorded: a failure after the start, or a second failure, writes nothing', (t) => {
  const started = recorder();
  started.audit.useBackend(BACKEND);
  started.audit.resolved([]);
  started.audit.started(10);
  started.audit.failed({ error: new Error('later') });
  started.audit.ended({ code: 0 });
  started.audit.ended({ code: 1 });
  t.deepEqual(
    started.records().map((record) => record.event),
    ['start', 'end'],
  );

  const failed = recorder();
  failed.audit.failed({ error: new SpawnError('not-found', 'x') });
  failed.audit.failed({ error: new SpawnError('not-found', 'x') });
  failed.audit.started(10);
  failed.audit.ended({ code: 0 });
  t.deepEqual(
    failed.records().map((record) => record.event),
    ['failed'],
  );
});

test('a record that cannot be written is one warning line each, and nothing throws', (t) => {
  const full = Object.assign(new Error('no space'), { code: 'ENOSPC' });
  const { audit, warnings } = recorder({ failure: full });
  audit.useBackend(BACKEND);
  audit.resolved([]);
  t.notThrows(() => audit.started(10));
  t.notThrows(() => audit.ended({ code: 0 }));
  t.deepEqual(warnings, [
    'credexec: warning: audit log /var/log/audit.log: cannot write the start record of this run (ENOSPC)',
    'credexec: warning: audit log /var/log/audit.log: cannot write the end record of this run (ENOSPC)',
  ]);
});

test('relative manifest paths are recorded as absolute paths', (t) => {
  const memory = memorySink();
  const audit = new AuditRecorder(
    memory.sink,
    { command: 'true', manifests: ['app.env'], exitStatusOf: () => 125, warn: () => undefined },
    fakeProcess().proc,
  );
  audit.failed({ signal: 'SIGINT' });
  t.deepEqual(JSON.parse(memory.lines[0]!).manifests, [`${process.cwd()}/app.env`]);
});
