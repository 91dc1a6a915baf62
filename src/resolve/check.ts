import { messageOf } from '../errors.js';
import { entryValueProblem, type ManifestEntry } from '../manifest/manifest-entry.js';
import {
  resolveEntries,
  wipeResolutions,
  type Resolution,
  type ResolveOptions,
  type ResolveSource,
} from './resolve-entries.js';

export interface CheckRow {
  readonly variable: string;
  readonly credential: string;
  /** The version that resolved (padded), or what the manifest asked for. */
  readonly version: string;
  readonly status: string;
}

export interface CheckReport {
  readonly rows: readonly CheckRow[];
  /** True when every required entry resolved. */
  readonly ok: boolean;
}

function rowOf(resolution: Resolution): CheckRow {
  const { entry } = resolution;
  const asked = entry.version ?? 'latest';
  const base = { variable: entry.variable, credential: entry.credential };
  if (resolution.status === 'resolved') {
    const problem = entryValueProblem(entry, resolution.version, resolution.value);
    const status =
      problem !== undefined ? `FAILED: ${problem.message}` : entry.file ? 'ok (file)' : 'ok';
    return { ...base, version: resolution.version, status };
  }
  if (resolution.status === 'absent')
    return { ...base, version: asked, status: 'absent (optional, left unset)' };
  return { ...base, version: asked, status: `FAILED: ${messageOf(resolution.error)}` };
}

/**
 * `credexec check`: resolve and decrypt every entry exactly as `run` would, then forget the
 * values. The report names variables, credentials and versions only.
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
    const rows = resolutions.map(rowOf);
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
    width((row) => row.variable),
    width((row) => row.credential),
    width((row) => row.version),
  ];
  return rows
    .map((row) =>
      [row.variable, row.credential, row.version]
        .map((cell, index) => cell.padEnd(widths[index]!))
        .concat(row.status)
        .join('  '),
    )
    .join('\n')
    .concat('\n');
}
