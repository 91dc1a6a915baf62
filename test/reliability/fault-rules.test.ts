import test from 'ava';
import { violations } from './fault-rules.js';
import { normalise, type RanRow } from './fault-runner.js';
import { SCENARIOS, type Scenario } from './fault-scenarios.js';
import { renderTable } from './fault-table.js';

/** The judge of the fault matrix, on made-up rows: each rule must catch what it is about. */
function scenario(id: string): Scenario {
  const found = SCENARIOS.find((candidate) => candidate.id === id);
  if (found === undefined) throw new Error(`no scenario ${id}`);
  return found;
}

const LAUNCHER_STDERR =
  'credexec: 1 secret(s) could not be resolved; nothing was started:\n' +
  '  SECRET: app.secret — Query on table credential-store in eu-west-1: DynamoDB is throttling requests; giving up after the retries\n';

function row(overrides: Partial<RanRow> = {}): RanRow {
  return {
    status: 'ran',
    scenario: scenario('dynamodb-throttled/launcher'),
    command: 'credexec -m app.env -- ./child',
    exitCode: 125,
    signal: null,
    stderr: LAUNCHER_STDERR,
    childStarted: false,
    lost: [],
    leftBehind: [],
    hung: false,
    durationMs: 100,
    ...overrides,
  };
}

test('a clean launcher failure breaks no rule', (t) => {
  t.deepEqual(violations(row()), []);
});

test('a launcher failure with exit 1 breaks the exit-status rule', (t) => {
  t.deepEqual(violations(row({ exitCode: 1 })), ['exit status: 1, expected 125']);
});

test('a stack trace breaks the named-error rule', (t) => {
  const stderr = `${LAUNCHER_STDERR}    at Object.<anonymous> (/x/credexec.cjs:1:1)\n`;
  t.deepEqual(violations(row({ stderr })), [
    'named one-line error: stderr holds a stack trace',
    'named one-line error: 3 lines of stderr, not 2',
    'named one-line error: stderr line "    at Object.<anonymous> (/x/credexec.cjs:1:1)" is neither credexec\'s nor an entry',
  ]);
});

test('an unexpected error that names nothing breaks the named-error rule', (t) => {
  const stderr = 'credexec: unexpected error: ENOSPC: no space left on device, write\n';
  t.deepEqual(violations(row({ stderr })), [
    'named one-line error: stderr says "unexpected error"',
    'named one-line error: does not name the credential (/app\\.secret/)',
    'named one-line error: does not name the table (/credential-store/)',
    'named one-line error: does not name the cause (throttling) (/throttl|rate exceeded|throughput/i)',
  ]);
});

test('a raw JavaScript error class breaks the named-error rule', (t) => {
  const stderr = LAUNCHER_STDERR.replace('DynamoDB is throttling', 'SyntaxError (throttling');
  t.deepEqual(violations(row({ stderr })), [
    'named one-line error: stderr shows a raw SyntaxError',
  ]);
});

test('a CLI failure of two lines breaks the one-line rule', (t) => {
  const stderr =
    'credexec: Query on table credential-store for "app.secret": throttling\ncredexec: set CREDEXEC_DEBUG=1 for details\n';
  t.deepEqual(
    violations(row({ scenario: scenario('dynamodb-throttled/get'), exitCode: 1, stderr })),
    [
      'named one-line error: stderr says "CREDEXEC_DEBUG"',
      'named one-line error: 2 lines of stderr, not 1',
    ],
  );
});

test('a started child, a lost item and a stray lock each break their rule', (t) => {
  const broken = violations(
    row({ childStarted: true, lost: ['lost app.secret@2'], leftBehind: ['<tmp>/x.lock'] }),
  );
  t.deepEqual(broken, [
    'no child: the child started',
    'nothing lost: lost app.secret@2',
    'nothing left behind: <tmp>/x.lock',
  ]);
});

test('a run killed by the runner breaks the finishing rule and nothing else about its exit', (t) => {
  t.deepEqual(violations(row({ hung: true, exitCode: null, signal: 'SIGKILL', stderr: '' })), [
    'finishes: still running after 20 s, killed',
  ]);
});

test('a row that must recover breaks the outcome rule when it fails', (t) => {
  const recovering = scenario('local-stale-lock/put');
  t.deepEqual(violations(row({ scenario: recovering, exitCode: 1, stderr: 'credexec: lock\n' })), [
    'outcome: fails (exit 1), expected succeeds',
  ]);
  t.deepEqual(violations(row({ scenario: recovering, exitCode: 0, stderr: '' })), []);
});

test('SIGTERM while resolving must kill credexec quietly, without a child', (t) => {
  const sigterm = scenario('sigterm-while-resolving/launcher');
  t.deepEqual(
    violations(row({ scenario: sigterm, exitCode: null, signal: 'SIGTERM', stderr: '' })),
    [],
  );
  t.deepEqual(violations(row({ scenario: sigterm, exitCode: 143, stderr: '' })), []);
  t.deepEqual(violations(row({ scenario: sigterm, exitCode: 0, stderr: '', childStarted: true })), [
    'outcome: succeeds (exit 0), expected dies-of-sigterm',
    'no child: the child started',
  ]);
});

test('normalise replaces paths, ports, uuids and pids', (t) => {
  t.is(
    normalise(
      'x /tmp/credexec-fault-abc/store 127.0.0.1:4567 key/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b /r/credexec-123-0123456789abcdef pid 42',
      '/tmp/credexec-fault-abc',
    ),
    'x <tmp>/store 127.0.0.1:<port> key/<uuid> /r/credexec-<pid>-<random> pid <pid>',
  );
});

test('the table escapes pipes and keeps backticks inside code', (t) => {
  const stderr = 'credexec: table t|x not found — run `credexec setup`\n';
  const table = renderTable([
    row({
      scenario: scenario('missing-table/get'),
      command: 'credexec get app.secret',
      exitCode: 1,
      stderr,
    }),
  ]);
  t.is(
    table.split('\n')[2],
    '| The table does not exist | `credexec get app.secret` | 1 | `` credexec: table t\\|x not found — run `credexec setup` `` | no | no | nothing | **broken**: named one-line error: does not name the credential (/app\\.secret/); named one-line error: does not name the table (/no-such-table/) |',
  );
});

test('a secret value in stderr breaks the no-value rule, whatever else the row gets right', (t) => {
  const leaked = row({ stderr: LAUNCHER_STDERR.replace('throttling requests', 'value-two') });
  t.true(violations(leaked).includes('no value: stderr holds the value of a secret'));
});
