import { ManifestError, type ManifestProblem } from '../errors.js';
import type { ManifestEntry } from './manifest-entry.js';
import { noManifestError, type ManifestSources } from './manifest-sources.js';
import {
  isJsonManifest,
  parseManifests,
  type ManifestFile,
  type ManifestPolicy,
} from './parse-manifest.js';
import { manifestSettings, type ManifestSettings } from './manifest-settings.js';
import { ProblemList } from './manifest-problems.js';
import { readFileAsync } from '../util/fs-async.js';
import { errnoCode } from '../util/system.js';

/** The thin I/O edge of the manifest module: read the files, then parse them purely. */
export async function loadManifest(
  sources: ManifestSources,
  policy: ManifestPolicy,
  read: (path: string) => Promise<string> = (path) => readFileAsync(path, 'utf8'),
): Promise<ManifestEntry[]> {
  const files: ManifestFile[] = [];
  const problems: ManifestProblem[] = [];
  for (const path of sources.paths) {
    try {
      files.push({ name: path, text: await read(path) });
    } catch (error: unknown) {
      const code = errnoCode(error);
      if (code === 'ENOENT' && sources.isDefault) throw noManifestError();
      problems.push({
        file: path,
        line: 0,
        message: `cannot read manifest (${code ?? String(error)})`,
      });
    }
  }
  if (problems.length > 0) throw new ManifestError(problems);
  return parseManifests(files, policy);
}

/**
 * The launcher settings (`"$credexec"`) of the JSON manifests among `sources`, for the CLI to
 * compose the launcher with. Only what is valid: files that cannot be read and settings with
 * problems are left out here, and reported by loadManifest when the launcher reads the
 * manifests, before anything is resolved. Reads nothing when no manifest is JSON.
 */
export async function loadManifestSettings(
  sources: ManifestSources,
  read: (path: string) => Promise<string> = (path) => readFileAsync(path, 'utf8'),
): Promise<ManifestSettings> {
  const files: ManifestFile[] = [];
  for (const path of sources.paths.filter(isJsonManifest)) {
    try {
      files.push({ name: path, text: await read(path) });
    } catch {
      // loadManifest reports it.
    }
  }
  return manifestSettings(files, new ProblemList());
}
