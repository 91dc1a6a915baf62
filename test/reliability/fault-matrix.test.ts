import { readFileSync } from 'node:fs';
import test from 'ava';
import { MATRIX_CONCURRENCY } from './fault-matrix-settings.js';
import { violations } from './fault-rules.js';
import { createMatrixRun } from './fault-runner.js';
import { SCENARIOS, type Scenario } from './fault-scenarios.js';
import { DOCUMENT, renderDocument } from './fault-table.js';

/**
 * Issue 9, "proof that it stays fixed": every fault of the matrix, run through the real bin, must
 * end in a named one-line error with the right exit status, no child and nothing lost; and
 * docs/reliability.md must be exactly the table this run produces, so it cannot drift from the
 * behaviour. Needs the built dist/ (`npm test` builds first) and root for the tmpfs rows.
 */
const run = createMatrixRun(SCENARIOS, MATRIX_CONCURRENCY);
// Start everything now, slow rows first; each test below waits for its own row.
const allRows = run.all();
allRows.catch(() => undefined);

const isRoot = process.getuid?.() === 0;

const VIA_WORDS: Record<Scenario['via'], string> = {
  launcher: 'the launcher',
  'launcher-sdk': 'the launcher over the AWS SDK',
  get: '`get`',
  put: '`put`',
};

function expectation(scenario: Scenario): string {
  if (scenario.outcomes.includes('dies-of-sigterm')) return 'credexec dies of SIGTERM, no child';
  const fails = scenario.outcomes.includes('fails');
  const succeeds = scenario.outcomes.includes('succeeds');
  const failure = `a named error${scenario.via.startsWith('launcher') ? ', exit 125, no child' : ', exit 1'}`;
  if (fails && succeeds) return `${failure} or success, nothing lost`;
  if (succeeds) return 'it succeeds and nothing is lost';
  return `${failure}, nothing lost`;
}

for (const scenario of SCENARIOS) {
  test(`${scenario.fault}, through ${VIA_WORDS[scenario.via]}: ${expectation(scenario)} [${scenario.id}]`, async (t) => {
    const row = await run.row(scenario.id);
    if (row.status === 'not-run') {
      // As root every row must run; elsewhere the tmpfs rows cannot, and say so.
      if (isRoot) {
        t.fail(`${scenario.id} did not run: ${row.reason}`);
      } else {
        t.log(`not run: ${row.reason}`);
        t.pass();
      }
      return;
    }
    t.deepEqual(violations(row), [], `${scenario.id} breaks the rules; stderr was:\n${row.stderr}`);
  });
}

test('docs/reliability.md is exactly the table this run produced', async (t) => {
  const rows = await allRows;
  const notRun = rows.filter((row) => row.status === 'not-run');
  if (notRun.length > 0 && !isRoot) {
    t.log(`${notRun.length} rows need root here, so the document cannot be compared`);
    t.pass();
    return;
  }
  t.is(
    readFileSync(DOCUMENT, 'utf8'),
    await renderDocument(rows),
    'docs/reliability.md is out of date: run `npm run fault-matrix` and commit it',
  );
});
