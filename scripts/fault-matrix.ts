/**
 * Regenerate docs/reliability.md: `npm run fault-matrix` (builds first; needs root for the tmpfs
 * rows). Runs every scenario of test/reliability/fault-scenarios.ts through the real bin, prints
 * one line per row and writes the document. `--only SUBSTRING` runs matching rows and prints them
 * without writing the document. Exits 0 even when rows break rules: the test judges them.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { violations } from '../test/reliability/fault-rules.js';
import { createMatrixRun, type Row } from '../test/reliability/fault-runner.js';
import { SCENARIOS } from '../test/reliability/fault-scenarios.js';
import { DOCUMENT, renderDocument, renderTable } from '../test/reliability/fault-table.js';
import { MATRIX_CONCURRENCY } from '../test/reliability/fault-matrix-settings.js';

const { values } = parseArgs({ options: { only: { type: 'string' } } });
const scenarios = SCENARIOS.filter(
  (scenario) => values.only === undefined || scenario.id.includes(values.only),
);

function summary(row: Row): string {
  if (row.status === 'not-run') return `not run: ${row.reason}`;
  const broken = violations(row);
  return broken.length === 0 ? 'ok' : broken.join('\n    ');
}

const started = Date.now();
const run = createMatrixRun(scenarios, MATRIX_CONCURRENCY);
const all = run.all();
for (const scenario of scenarios) {
  void run.row(scenario.id).then(
    (row) => {
      const took = row.status === 'ran' ? ` (${(row.durationMs / 1000).toFixed(1)} s)` : '';
      process.stderr.write(`${scenario.id}${took}: ${summary(row)}\n`);
    },
    () => undefined,
  );
}
const rows = await all;
const seconds = ((Date.now() - started) / 1000).toFixed(1);
const broken = rows.filter((row) => row.status === 'ran' && violations(row).length > 0).length;
process.stderr.write(`${rows.length} rows in ${seconds} s, ${broken} breaking rules\n`);
if (values.only === undefined) {
  writeFileSync(DOCUMENT, await renderDocument(rows));
  process.stderr.write(`wrote ${DOCUMENT}\n`);
} else {
  process.stdout.write(`${renderTable(rows)}\n`);
}
