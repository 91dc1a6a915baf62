import { UsageError } from '../errors.js';
import type { Backend, BackendSettings } from './backend.js';
import type { Environment } from './settings.js';

// Placeholder until the aws backend lands (issue 3).
export function openAwsBackend(_settings: BackendSettings, _env: Environment): Backend {
  throw new UsageError('the aws backend is not available yet; use --backend local');
}
