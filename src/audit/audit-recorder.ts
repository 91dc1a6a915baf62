import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type { Backend } from '../backends/backend.js';
import type { LaunchFailure, LaunchObserver, ObservedEntry } from '../launch/launch-observer.js';
import type { ChildExit } from '../launch/spawn-child.js';
import { describeErrno } from '../util/system.js';
import { backendRecord, entryRecords, exitRecord, failureRecord } from './audit-records.js';
import {
  AUDIT_SCHEMA_VERSION,
  type AuditEvent,
  type AuditRecord,
  type BackendRecord,
} from './audit-schema.js';
import { openAuditSink, stderrLine, type AuditSink } from './audit-sink.js';

/** What the CLI knows of the run before it starts. */
export interface AuditRun {
  /** argv[0] as given; the arguments are never recorded (they can hold secrets). */
  readonly command: string;
  /** The manifest files as named; recorded as absolute paths. */
  readonly manifests: readonly string[];
  /** The status credexec exits with after this failure, decided by the CLI. */
  readonly exitStatusOf: (error: unknown) => number;
  /** One line to standard error (a failed write says so there). */
  readonly warn: (line: string) => void;
}

/** The recorder's view of its process and clock, injected by tests. */
export interface AuditProcess {
  readonly runId: string;
  readonly host: string;
  readonly uid: number | null;
  readonly pid: number;
  /** A monotonic clock, in milliseconds. */
  now(): number;
  /** The wall clock, for the records' `time`. */
  date(): Date;
}

export function thisProcess(): AuditProcess {
  return {
    runId: randomUUID(),
    host: hostname(),
    uid: process.getuid?.() ?? null,
    pid: process.pid,
    now: () => performance.now(),
    date: () => new Date(),
  };
}

/**
 * The audit log's LaunchObserver: a `start` record once the command runs and an `end` record
 * when it ends, or one `failed` record when nothing was started, sharing a run id (with `--watch`,
 * one `start`/`end` pair per command started). Each record is
 * one line, appended in one write. A record that cannot be written is a one-line warning: the
 * command is not stopped for it (opening the log is what fails closed, before anything is read).
 */
export class AuditRecorder implements LaunchObserver {
  readonly #sink: AuditSink;
  readonly #run: AuditRun;
  readonly #process: AuditProcess;
  /** When the current command's resolution began (for a restarted one: when the old one went). */
  #began: number;
  #backend: BackendRecord | null = null;
  #entries: readonly ObservedEntry[] | null = null;
  #pid: number | null = null;
  #startedAt: number | undefined;
  #state: 'pending' | 'running' | 'done' = 'pending';

  constructor(sink: AuditSink, run: AuditRun, process: AuditProcess = thisProcess()) {
    this.#sink = sink;
    this.#run = run;
    this.#process = process;
    this.#began = process.now();
  }

  /** The backend is open: its names go into the records. */
  useBackend(backend: Pick<Backend, 'name' | 'settings' | 'store' | 'keys'>): void {
    this.#backend = backendRecord(backend);
  }

  resolved(entries: readonly ObservedEntry[]): void {
    this.#entries = entries;
  }

  started(pid: number | undefined): void {
    if (this.#state !== 'pending') return;
    this.#state = 'running';
    this.#startedAt = this.#process.now();
    this.#pid = pid ?? null;
    this.#write({
      ...this.#common('start'),
      manifests: this.#manifests(),
      // Set by the CLI before the launch; a start without a backend cannot happen.
      backend: this.#backend!,
      entries: entryRecords(this.#entries ?? []),
      pid: this.#pid,
      resolutionMs: this.#resolutionMs(),
    });
  }

  ended(exit: ChildExit): void {
    if (this.#state !== 'running') return;
    this.#state = 'done';
    this.#writeEnd(exit);
    this.#sink.close();
  }

  /**
   * `--watch` restarted the command: its `end` record now, and the next command gets a `start`
   * (or `failed`) record of its own under the same run id, whose resolutionMs counts from now.
   */
  replaced(exit: ChildExit): void {
    if (this.#state !== 'running') return;
    this.#state = 'pending';
    this.#writeEnd(exit);
    this.#began = this.#process.now();
  }

  #writeEnd(exit: ChildExit): void {
    this.#write({
      ...this.#common('end'),
      pid: this.#pid,
      exit: exitRecord(exit),
      resolutionMs: this.#resolutionMs(),
      runMs: Math.round(this.#process.now() - this.#startedAt!),
    });
  }

  /** Nothing was started. Called by the launcher, and by the CLI for what fails before it. */
  failed(failure: LaunchFailure): void {
    if (this.#state !== 'pending') return;
    this.#state = 'done';
    const error = 'error' in failure ? failure.error : undefined;
    this.#write({
      ...this.#common('failed'),
      manifests: this.#manifests(),
      backend: this.#backend,
      entries: this.#entries === null ? null : entryRecords(this.#entries, error),
      failure: failureRecord(failure),
      exit:
        'signal' in failure
          ? { code: null, signal: failure.signal }
          : { code: this.#run.exitStatusOf(failure.error), signal: null },
      resolutionMs: Math.round(this.#process.now() - this.#began),
    });
    this.#sink.close();
  }

  #common<E extends AuditEvent>(event: E) {
    const { runId, host, uid, pid } = this.#process;
    return {
      version: AUDIT_SCHEMA_VERSION,
      event,
      runId,
      time: this.#process.date().toISOString(),
      host,
      uid,
      credexecPid: pid,
      command: this.#run.command,
    } as const;
  }

  #manifests(): string[] {
    return this.#run.manifests.map((path) => resolve(path));
  }

  #resolutionMs(): number {
    return Math.round(this.#startedAt! - this.#began);
  }

  #write(record: AuditRecord): void {
    try {
      this.#sink.append(`${JSON.stringify(record)}\n`);
    } catch (error: unknown) {
      this.#run.warn(
        `credexec: warning: audit log ${this.#sink.name}: cannot write the ${record.event} record of this run (${describeErrno(error)})`,
      );
    }
  }
}

/**
 * Open the audit log (`-`: standard error) and record this run in it. Throws AuditLogError when
 * the log cannot be opened or is not safe to append to; the CLI then stops before resolving.
 * `stderr`: the stream to use for standard error, or undefined for the process's own.
 */
export function openAuditRecorder(
  target: string,
  run: Omit<AuditRun, 'warn'>,
  stderr?: NodeJS.WritableStream,
  process?: AuditProcess,
): AuditRecorder {
  const sink = openAuditSink(target, stderr);
  return new AuditRecorder(sink, { ...run, warn: stderrLine(stderr) }, process);
}
