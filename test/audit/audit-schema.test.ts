import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import {
  AUDIT_FIELDS,
  auditRecordProblems,
  parentPath,
  type AuditEvent,
} from '../../src/audit/audit-schema.js';
import { REPO_ROOT } from '../support/vectors.js';

const DOC = readFileSync(join(REPO_ROOT, 'docs', 'audit.md'), 'utf8');

/** The rows of docs/audit.md's field table: `path`, `type`, the events it is in. */
function documentedFields() {
  return DOC.split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => {
      const [path, type, events] = line
        .split('|')
        .slice(1, 4)
        .map((cell) => cell.trim());
      return {
        path: path!.replace(/^`|`$/g, ''),
        type: type!.replace(/^`|`$/g, ''),
        events: events!.split(', ') as AuditEvent[],
      };
    });
}

/** Every line of the doc's ```jsonl examples. */
function documentedExamples(): string[] {
  return [...DOC.matchAll(/```jsonl\n([\s\S]*?)```/g)].flatMap((match) =>
    match[1]!.split('\n').filter((line) => line !== ''),
  );
}

test('docs/audit.md lists exactly the fields the writer emits, with their types and events', (t) => {
  const documented = documentedFields();
  t.true(documented.length > 30, `${documented.length} rows found`);
  t.deepEqual(
    documented,
    AUDIT_FIELDS.map(({ path, type, events }) => ({ path, type, events: [...events] })),
  );
});

test('every example record in docs/audit.md is a valid record of the schema', (t) => {
  const examples = documentedExamples();
  t.deepEqual(
    examples.map((line) => JSON.parse(line).event),
    ['start', 'end', 'failed', 'failed'],
  );
  for (const line of examples) t.deepEqual(auditRecordProblems(JSON.parse(line)), [], line);
});

test('each nested field belongs to a field that is an object or an array in the same events', (t) => {
  for (const field of AUDIT_FIELDS) {
    const parent = parentPath(field.path);
    if (parent === '') continue;
    for (const event of field.events) {
      const owner = AUDIT_FIELDS.find(
        (candidate) => candidate.path === parent && candidate.events.includes(event),
      );
      t.truthy(owner, `${field.path} in ${event}`);
      const container = field.path.endsWith('[]') ? 'array' : 'object';
      t.true(owner!.type.split(' or ').includes(container), `${field.path} in ${event}`);
    }
  }
});

test('a field is described once per event', (t) => {
  const seen = new Set<string>();
  for (const field of AUDIT_FIELDS) {
    for (const event of field.events) {
      const key = `${field.path} ${event}`;
      t.false(seen.has(key), key);
      seen.add(key);
    }
  }
});

const [START, END, FAILED] = documentedExamples().map(
  (line) => JSON.parse(line) as Record<string, unknown>,
);

test('a record with a field the schema does not have is refused, naming it', (t) => {
  t.deepEqual(auditRecordProblems({ ...START, env: {} }), ['env: not a field of start records']);
  t.deepEqual(auditRecordProblems({ ...END, entries: [] }), [
    'entries: not a field of end records',
  ]);
  const entries = (START!.entries as object[]).map((entry) => ({ ...entry, value: 'x' }));
  t.deepEqual(auditRecordProblems({ ...START, entries }), [
    'entries[].value: not a field of start records',
    'entries[].value: not a field of start records',
  ]);
});

test('a record missing a field, or with a value of the wrong type, is refused, naming the field', (t) => {
  const { runMs: _runMs, ...withoutRunMs } = END!;
  t.deepEqual(auditRecordProblems(withoutRunMs), ['runMs: missing']);
  t.deepEqual(auditRecordProblems({ ...START, pid: '12' }), ['pid: "12" is not integer or null']);
  t.deepEqual(auditRecordProblems({ ...START, version: 2 }), ['version: 2 is not 1']);
  t.deepEqual(auditRecordProblems({ ...START, backend: null }), ['backend: null is not object']);
  t.deepEqual(auditRecordProblems({ ...FAILED, backend: null }), []);
  t.deepEqual(auditRecordProblems({ ...FAILED, exit: { code: 1.5, signal: null } }), [
    'exit.code: 1.5 is not integer or null',
  ]);
  t.deepEqual(auditRecordProblems({ ...START, event: 'stop' }), [
    'event is "stop", not "start", "end" or "failed"',
  ]);
  t.deepEqual(auditRecordProblems([]), ['the record is not a JSON object']);
});

test('a start record cannot carry a failed entry', (t) => {
  const entries = (START!.entries as object[]).map((entry) => ({
    ...entry,
    status: 'failed',
    error: { code: 'NOT_FOUND', reason: null },
  }));
  t.deepEqual(auditRecordProblems({ ...START, entries }), [
    'entries[].status: "failed" is not "resolved" or "absent"',
    'entries[].error: {"code":"NOT_FOUND","reason":null} is not null',
    'entries[].status: "failed" is not "resolved" or "absent"',
    'entries[].error: {"code":"NOT_FOUND","reason":null} is not null',
  ]);
});
