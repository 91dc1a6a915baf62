import { delimiter } from 'node:path';
import type { EncryptionContext } from '../envelope/context.js';
import { loadManifest } from '../manifest/load-manifest.js';
import type { ManifestEntry } from '../manifest/manifest-entry.js';
import { MANIFEST_ENV, manifestSources } from '../manifest/manifest-sources.js';
import type { Environment } from './child-env.js';

export interface ManifestOptions {
  /** `-m FILE…`; empty: CREDEXEC_MANIFEST, then ./credexec.env. */
  readonly manifests: readonly string[];
  /** `--context K=V…`, for entries without a context of their own. */
  readonly context: EncryptionContext;
  /** `--allow-var NAME…`. */
  readonly allowVars: readonly string[];
}

function launchManifestSources(options: ManifestOptions, env: Environment) {
  return manifestSources(options.manifests, env[MANIFEST_ENV], delimiter);
}

/** The files a launch reads its manifest from, as named (`-m`, CREDEXEC_MANIFEST or the default). */
export function launchManifestPaths(options: ManifestOptions, env: Environment): readonly string[] {
  return launchManifestSources(options, env).paths;
}

/** Read the manifests `run` and `check` share; throws ManifestError naming files and lines. */
export function loadLaunchManifest(
  options: ManifestOptions,
  env: Environment,
): Promise<ManifestEntry[]> {
  return loadManifest(launchManifestSources(options, env), {
    allowVars: new Set(options.allowVars),
    context: options.context,
  });
}
