import type { Backend, BackendOptions } from './backend.js';
import { openLocalBackend } from './local.js';
import { resolveSettings, type Environment } from './settings.js';

/**
 * Open the configured backend. The aws backend is imported on demand so that the local backend
 * never loads the AWS SDK.
 */
export async function openBackend(
  options: BackendOptions = {},
  env: Environment = process.env,
): Promise<Backend> {
  const settings = resolveSettings(options, env);
  if (settings.backend === 'local') return openLocalBackend(settings);
  const { openAwsBackend } = await import('./aws.js');
  return openAwsBackend(settings, env);
}
