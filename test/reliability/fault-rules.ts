import type { RanRow } from './fault-runner.js';
import type { Outcome, Via } from './fault-scenarios.js';
import { PUT, SEEDED } from './fault-worlds.js';

/** Every secret value a world holds or a row writes: none may ever appear in stderr. */
const VALUES = [...SEEDED.map(({ value }) => value), PUT.value];

/**
 * The rules every row of the fault matrix must satisfy (issue 9). A failure is a named one-line
 * error: stderr starts with `credexec: `, has no stack trace and no "unexpected error", and names
 * what failed and why; the launcher exits 125, the CLI 1 or 2; no child starts; nothing in the
 * store is lost; nothing is left behind; no secret value ever shows in stderr. Each broken rule is one string: `rule: what happened`.
 */
export const RULES = {
  finishes: 'finishes',
  outcome: 'outcome',
  exitStatus: 'exit status',
  namedError: 'named one-line error',
  quiet: 'quiet',
  noChild: 'no child',
  childRuns: 'child runs',
  nothingLost: 'nothing lost',
  nothingLeft: 'nothing left behind',
  noValue: 'no value',
} as const;

const LAUNCHER_FAILURE = [125];
const CLI_FAILURE = [1, 2];

function isLauncher(via: Via): boolean {
  return via === 'launcher' || via === 'launcher-sdk';
}

/** How the run ended, in the terms scenarios expect. */
export function outcomeOf(row: Pick<RanRow, 'exitCode' | 'signal'>): Outcome {
  if (row.signal === 'SIGTERM' || row.exitCode === 143) return 'dies-of-sigterm';
  if (row.exitCode === 0) return 'succeeds';
  return 'fails';
}

export function exitLabel(row: Pick<RanRow, 'exitCode' | 'signal' | 'hung'>): string {
  if (row.hung) return 'killed (hung)';
  return row.signal ?? String(row.exitCode);
}

const STACK_LINE = /^\s+at .+|node:internal|^\w*Error: |^\s*\^$/m;
const UNEXPECTED = /unexpected error|credexec: internal error|CREDEXEC_DEBUG/i;
/** A JavaScript error's class in a message is an internal failure showing through, not a cause. */
const RAW_ERROR = /\b(SyntaxError|TypeError|RangeError|ReferenceError)\b/;

function lines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line !== '');
}

/** A failure's stderr: one `credexec:` line (the launcher adds one indented line per entry). */
function namedErrorProblems(row: RanRow): string[] {
  const problems: string[] = [];
  const all = lines(row.stderr);
  const first = all[0];
  if (first === undefined) return ['stderr is empty'];
  if (!first.startsWith('credexec: ')) problems.push(`stderr starts with "${first.slice(0, 80)}"`);
  if (STACK_LINE.test(row.stderr)) problems.push('stderr holds a stack trace');
  const unexpected = UNEXPECTED.exec(row.stderr);
  if (unexpected !== null) problems.push(`stderr says "${unexpected[0]}"`);
  const raw = RAW_ERROR.exec(row.stderr);
  if (raw !== null) problems.push(`stderr shows a raw ${raw[0]}`);
  // One manifest entry: the launcher's summary line plus one line for it; the CLI, one line.
  const allowed = isLauncher(row.scenario.via) ? 2 : 1;
  if (all.length > allowed) problems.push(`${all.length} lines of stderr, not ${allowed}`);
  const strays = all
    .slice(1)
    .filter((line) => !/^ {2}\S/.test(line) && !line.startsWith('credexec: '));
  if (isLauncher(row.scenario.via) && strays.length > 0) {
    problems.push(`stderr line "${strays[0]!.slice(0, 80)}" is neither credexec's nor an entry`);
  }
  for (const { what, pattern } of row.scenario.mentions) {
    if (!pattern.test(row.stderr)) problems.push(`does not name ${what} (${pattern})`);
  }
  return problems;
}

/** Every rule the row breaks; empty when it keeps them all. */
export function violations(row: RanRow): string[] {
  const broken: string[] = [];
  const add = (rule: string, detail: string) => broken.push(`${rule}: ${detail}`);
  const { scenario } = row;
  if (row.hung) add(RULES.finishes, `still running after ${scenario.timeoutMs / 1000} s, killed`);
  const outcome = outcomeOf(row);
  if (!row.hung && !scenario.outcomes.includes(outcome)) {
    add(
      RULES.outcome,
      `${outcome} (exit ${exitLabel(row)}), expected ${scenario.outcomes.join(' or ')}`,
    );
  }
  if (outcome === 'fails' && !row.hung) {
    const allowed = isLauncher(scenario.via) ? LAUNCHER_FAILURE : CLI_FAILURE;
    if (row.exitCode === null || !allowed.includes(row.exitCode)) {
      add(RULES.exitStatus, `${exitLabel(row)}, expected ${allowed.join(' or ')}`);
    }
    for (const problem of namedErrorProblems(row)) add(RULES.namedError, problem);
  }
  if (outcome === 'succeeds' && row.stderr !== '') {
    add(RULES.quiet, `stderr is not empty: "${lines(row.stderr)[0]?.slice(0, 80) ?? ''}"`);
  }
  if (outcome === 'dies-of-sigterm') {
    if (STACK_LINE.test(row.stderr)) add(RULES.quiet, 'stderr holds a stack trace');
    const stray = lines(row.stderr).find((line) => !line.startsWith('credexec: '));
    if (stray !== undefined) add(RULES.quiet, `stderr line "${stray.slice(0, 80)}"`);
  }
  // Only a launch that was allowed to succeed may start the child.
  const childExpected =
    outcome === 'succeeds' && scenario.outcomes.includes('succeeds') && isLauncher(scenario.via);
  if (row.childStarted && !childExpected) add(RULES.noChild, 'the child started');
  if (childExpected && !row.childStarted) add(RULES.childRuns, 'the child did not start');
  for (const value of VALUES) {
    if (row.stderr.includes(value)) add(RULES.noValue, `stderr holds the value of a secret`);
  }
  for (const loss of row.lost) add(RULES.nothingLost, loss);
  for (const file of row.leftBehind) add(RULES.nothingLeft, file);
  return broken;
}
