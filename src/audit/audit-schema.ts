/**
 * The audit log's records (docs/audit.md): their TypeScript types, and the same schema as data,
 * which docs/audit.md lists field by field and `auditRecordProblems` checks records against.
 * A test keeps the three in step. Pure.
 */
export const AUDIT_SCHEMA_VERSION = 1;

export type AuditEvent = 'start' | 'end' | 'failed';

export interface BackendRecord {
  readonly name: string;
  readonly table: string;
  readonly store: string;
  readonly keyService: string;
  readonly keyId: string | null;
}

export interface ErrorRecord {
  readonly code: string;
  readonly reason: string | null;
}

export interface EntryRecord {
  readonly variable: string;
  readonly credential: string;
  readonly requestedVersion: string | null;
  readonly version: string | null;
  readonly status: 'resolved' | 'absent' | 'failed';
  readonly source: 'store' | 'fallback' | null;
  readonly file: boolean;
  readonly optional: boolean;
  readonly error: ErrorRecord | null;
}

export interface ExitRecord {
  readonly code: number | null;
  readonly signal: string | null;
}

export interface FailureRecord {
  readonly code: string;
  readonly reason: string | null;
  readonly variable: string | null;
  readonly problems: readonly { readonly file: string; readonly line: number }[] | null;
}

interface CommonRecord {
  readonly version: typeof AUDIT_SCHEMA_VERSION;
  readonly event: AuditEvent;
  readonly runId: string;
  readonly time: string;
  readonly host: string;
  readonly uid: number | null;
  readonly credexecPid: number;
  readonly command: string;
}

export interface StartRecord extends CommonRecord {
  readonly event: 'start';
  readonly manifests: readonly string[];
  readonly backend: BackendRecord;
  readonly entries: readonly EntryRecord[];
  readonly pid: number | null;
  readonly resolutionMs: number;
}

export interface EndRecord extends CommonRecord {
  readonly event: 'end';
  readonly pid: number | null;
  readonly exit: ExitRecord;
  readonly resolutionMs: number;
  readonly runMs: number;
}

export interface FailedRecord extends CommonRecord {
  readonly event: 'failed';
  readonly manifests: readonly string[];
  readonly backend: BackendRecord | null;
  readonly entries: readonly EntryRecord[] | null;
  readonly failure: FailureRecord;
  readonly exit: ExitRecord;
  readonly resolutionMs: number;
}

export type AuditRecord = StartRecord | EndRecord | FailedRecord;

/**
 * One field: `path` is `name`, `parent.name`, `list[]` (each element of `list`) or
 * `list[].name`; `type` lists what its value may be, joined by " or ": `string`, `integer`,
 * `boolean`, `object`, `array`, `null`, or a literal (`"start"`, `1`). A field appears in every
 * record of the events listed, always, `null` when it has nothing to say.
 */
export interface AuditField {
  readonly path: string;
  readonly type: string;
  readonly events: readonly AuditEvent[];
}

const ALL: readonly AuditEvent[] = ['start', 'end', 'failed'];
const START: readonly AuditEvent[] = ['start'];
const FAILED: readonly AuditEvent[] = ['failed'];
const START_FAILED: readonly AuditEvent[] = ['start', 'failed'];
const END_FAILED: readonly AuditEvent[] = ['end', 'failed'];
const START_END: readonly AuditEvent[] = ['start', 'end'];

const field = (path: string, type: string, events: readonly AuditEvent[]): AuditField => ({
  path,
  type,
  events,
});

export const AUDIT_FIELDS: readonly AuditField[] = [
  field('version', String(AUDIT_SCHEMA_VERSION), ALL),
  field('event', '"start" or "end" or "failed"', ALL),
  field('runId', 'string', ALL),
  field('time', 'string', ALL),
  field('host', 'string', ALL),
  field('uid', 'integer or null', ALL),
  field('credexecPid', 'integer', ALL),
  field('command', 'string', ALL),
  field('manifests', 'array', START_FAILED),
  field('manifests[]', 'string', START_FAILED),
  field('backend', 'object', START),
  field('backend', 'object or null', FAILED),
  field('backend.name', '"aws" or "local"', START_FAILED),
  field('backend.table', 'string', START_FAILED),
  field('backend.store', 'string', START_FAILED),
  field('backend.keyService', 'string', START_FAILED),
  field('backend.keyId', 'string or null', START_FAILED),
  field('entries', 'array', START),
  field('entries', 'array or null', FAILED),
  field('entries[]', 'object', START_FAILED),
  field('entries[].variable', 'string', START_FAILED),
  field('entries[].credential', 'string', START_FAILED),
  field('entries[].requestedVersion', 'string or null', START_FAILED),
  field('entries[].version', 'string or null', START_FAILED),
  field('entries[].status', '"resolved" or "absent"', START),
  field('entries[].status', '"resolved" or "absent" or "failed"', FAILED),
  field('entries[].source', '"store" or "fallback"', START),
  field('entries[].source', '"store" or "fallback" or null', FAILED),
  field('entries[].file', 'boolean', START_FAILED),
  field('entries[].optional', 'boolean', START_FAILED),
  field('entries[].error', 'null', START),
  field('entries[].error', 'object or null', FAILED),
  field('entries[].error.code', 'string', FAILED),
  field('entries[].error.reason', 'string or null', FAILED),
  field('pid', 'integer or null', START_END),
  field('failure', 'object', FAILED),
  field('failure.code', 'string', FAILED),
  field('failure.reason', 'string or null', FAILED),
  field('failure.variable', 'string or null', FAILED),
  field('failure.problems', 'array or null', FAILED),
  field('failure.problems[]', 'object', FAILED),
  field('failure.problems[].file', 'string', FAILED),
  field('failure.problems[].line', 'integer', FAILED),
  field('exit', 'object', END_FAILED),
  field('exit.code', 'integer or null', END_FAILED),
  field('exit.signal', 'string or null', END_FAILED),
  field('resolutionMs', 'integer', ALL),
  field('runMs', 'integer', ['end']),
];

/** `a.b` → `a`, `a[]` → `a`, `a[].b` → `a[]`, `a` → ``. */
export function parentPath(path: string): string {
  if (path.endsWith('[]')) return path.slice(0, -2);
  const dot = path.lastIndexOf('.');
  return dot === -1 ? '' : path.slice(0, dot);
}

function fieldFor(path: string, event: AuditEvent): AuditField | undefined {
  return AUDIT_FIELDS.find(
    (candidate) => candidate.path === path && candidate.events.includes(event),
  );
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function matches(value: unknown, type: string): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'integer':
      return Number.isSafeInteger(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'null':
      return value === null;
    case 'object':
      return isObject(value);
    case 'array':
      return Array.isArray(value);
    default:
      return JSON.stringify(value) === type;
  }
}

/** Why `record` is not a record of the schema: one line per problem; empty when it is. */
export function auditRecordProblems(record: unknown): string[] {
  const problems: string[] = [];
  if (!isObject(record)) return ['the record is not a JSON object'];
  const event = record.event;
  if (event !== 'start' && event !== 'end' && event !== 'failed') {
    return [`event is ${JSON.stringify(event)}, not "start", "end" or "failed"`];
  }
  const checkObject = (value: Record<string, unknown>, path: string) => {
    const expected = AUDIT_FIELDS.filter(
      (candidate) =>
        parentPath(candidate.path) === path &&
        !candidate.path.endsWith('[]') &&
        candidate.events.includes(event),
    ).map((candidate) => candidate.path);
    const prefix = path === '' ? '' : `${path}.`;
    for (const key of Object.keys(value)) {
      if (!expected.includes(`${prefix}${key}`))
        problems.push(`${prefix}${key}: not a field of ${event} records`);
    }
    for (const name of expected) {
      const key = name.slice(prefix.length);
      if (!(key in value)) problems.push(`${name}: missing`);
      else checkValue(value[key], fieldFor(name, event)!);
    }
  };
  const checkValue = (value: unknown, spec: AuditField) => {
    const types = spec.type.split(' or ');
    if (!types.some((type) => matches(value, type))) {
      problems.push(`${spec.path}: ${JSON.stringify(value)} is not ${spec.type}`);
    } else if (isObject(value)) {
      checkObject(value, spec.path);
    } else if (Array.isArray(value)) {
      const element = fieldFor(`${spec.path}[]`, event);
      if (element === undefined) problems.push(`${spec.path}[]: not described`);
      else for (const item of value) checkValue(item, element);
    }
  };
  checkObject(record, '');
  return problems;
}
