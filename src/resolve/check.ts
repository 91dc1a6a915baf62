import { messageOf } from '../errors.js';
import { entryValueProblem, type ManifestEntry } from '../manifest/manifest-entry.js';
import { resolutionsByEntry } from './entry-values.js';
import {
  resolveEntries,
  wipeResolutions,
  type Resolution,
  type ResolveOptions,
  type ResolveSource,
} from './resolve-entries.js';

export interface CheckRow {
  readonly variable: string;
  /** The credential; `template` on a template's own row, `{{name}}` on each reference's row. */
  readonly credential: string;
  /** The version that resolved (padded), or what the manifest asked for; empty for a template. */
  readonly version: string;
  readonly status: string;
  /** A row for one reference of the template whose row comes before it. */
  readonly reference?: true;
}

export interface CheckReport {
  readonly rows: readonly CheckRow[];
  /** True when every required entry resolved. */
  readonly ok: boolean;
}

function statusOf(resolution: Resolution): string {
  const { entry, reference } = resolution;
  if (resolution.status === 'resolved') {
    const problem = entryValueProblem(
      entry,
      reference.credential,
      resolution.version,
      resolution.value,
    );
    if (problem !== undefined) return `FAILED: ${problem.message}`;
    return entry.template !== undefined ? 'ok' : entry.file ? 'ok (file)' : 'ok';
  }
  if (resolution.status === 'absent')
    return entry.template !== undefined ? 'absent (optional)' : 'absent (optional, left unset)';
  return `FAILED: ${messageOf(resolution.error)}`;
}

function rowOf(resolution: Resolution): CheckRow {
  const { entry, reference } = resolution;
  const version =
    resolution.status === 'resolved' ? resolution.version : (reference.version ?? 'latest');
  const status = statusOf(resolution);
  if (entry.template === undefined)
    return { variable: entry.variable, credential: reference.credential, version, status };
  const credential = `{{${reference.credential}}}`;
  return { variable: entry.variable, credential, version, status, reference: true };
}

/** A template's own row: how its references went, taken together. */
function templateRow(entry: ManifestEntry, references: readonly CheckRow[]): CheckRow {
  const failed = references.filter((row) => row.status.startsWith('FAILED')).length;
  const absent = references.some((row) => row.status.startsWith('absent'));
  const status =
    failed > 0
      ? `FAILED: ${failed} of ${references.length} reference(s)`
      : absent
        ? 'absent (optional, left unset)'
        : entry.file
          ? 'ok (file)'
          : 'ok';
  return { variable: entry.variable, credential: 'template', version: '', status };
}

/** One row per credential entry; a template's row followed by a row for each of its references. */
function rowsOf(resolutions: readonly Resolution[]): CheckRow[] {
  return [...resolutionsByEntry(resolutions)].flatMap(([entry, group]) => {
    const rows = group.map(rowOf);
    return entry.template === undefined ? rows : [templateRow(entry, rows), ...rows];
  });
}

/**
 * `credexec check`: resolve and decrypt every entry exactly as `run` would, then forget the
 * values. The report names variables, credentials and versions only; a template is listed with
 * each of its references, never with the value it would compose.
 */
export async function checkManifest(
  source: ResolveSource,
  entries: readonly ManifestEntry[],
  options: ResolveOptions & {
    /** Looks at the values before they are zeroed (e.g. what `--redact` would do with them). */
    readonly inspect?: (resolutions: readonly Resolution[]) => void;
  } = {},
): Promise<CheckReport> {
  const resolutions = await resolveEntries(source, entries, options);
  try {
    options.inspect?.(resolutions);
    const rows = rowsOf(resolutions);
    return { rows, ok: rows.every((row) => !row.status.startsWith('FAILED')) };
  } finally {
    wipeResolutions(resolutions);
  }
}

const HEADER: CheckRow = {
  variable: 'VARIABLE',
  credential: 'CREDENTIAL',
  version: 'VERSION',
  status: 'STATUS',
};

/** Aligned columns, one row per line, ending with a newline. */
export function formatCheckReport(report: CheckReport): string {
  const rows = [HEADER, ...report.rows];
  const width = (pick: (row: CheckRow) => string) =>
    Math.max(...rows.map((row) => pick(row).length));
  const widths = [
    width((row) => (row.reference ? '' : row.variable)),
    width((row) => row.credential),
    width((row) => row.version),
  ];
  return rows
    .map((row) =>
      [row.reference ? '' : row.variable, row.credential, row.version]
        .map((cell, index) => cell.padEnd(widths[index]!))
        .concat(row.status)
        .join('  '),
    )
    .join('\n')
    .concat('\n');
}
