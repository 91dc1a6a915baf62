export {
  putSecret,
  getSecret,
  getSecretBytes,
  getAllSecrets,
  getAllSecretsBytes,
  listSecrets,
  deleteSecrets,
  setup,
  type ConnectionOptions,
  type PutSecretOptions,
} from './api.js';
export { openBackend } from './backends/open-backend.js';
export type { Backend, BackendName, BackendOptions } from './backends/backend.js';
export type { EncryptionContext } from './envelope/context.js';
export type { DigestName } from './envelope/digests.js';
export type { KeyService, DataKey } from './keys/key-service.js';
export type {
  CredentialStore,
  StoreSetupOptions,
  StoreSetupResult,
} from './stores/credential-store.js';
export type { CredentialItem, CredentialRef } from './stores/item.js';
export type {
  CredentialSummary,
  DeleteInput,
  GetAllInput,
  GetInput,
  PutInput,
} from './secrets/index.js';
export {
  CredexecError,
  UsageError,
  NotFoundError,
  IntegrityError,
  KeyServiceError,
  CredentialKeyError,
  StoreError,
  CredentialStoreError,
  SecretFileError,
  VersionExistsError,
  SetupRequiredError,
  MultipleFailuresError,
  NotTextError,
  type ErrorCode,
  type NotTextReason,
} from './errors.js';
export {
  runLauncher,
  processLaunchIo,
  type LaunchIo,
  type LaunchOptions,
  type LaunchOutcome,
} from './launch/run-launcher.js';
export {
  spawnStarter,
  type ChildStarter,
  type StartRequest,
  type StartedSecret,
} from './launch/child-starter.js';
export type { LaunchFailure, LaunchObserver, ObservedEntry } from './launch/launch-observer.js';
export { loadLaunchManifest, type ManifestOptions } from './launch/launch-manifest.js';
export {
  parseManifests,
  type ManifestFile,
  type ManifestPolicy,
} from './manifest/parse-manifest.js';
export type {
  CredentialEntry,
  CredentialReference,
  ManifestEntry,
  TemplateEntry,
} from './manifest/manifest-entry.js';
export type { Template, TemplatePart } from './template/template.js';
export { resolveEntries, type Resolution, type ResolveOptions } from './resolve/resolve-entries.js';
export {
  checkManifest,
  formatCheckReport,
  type CheckReport,
  type CheckRow,
} from './resolve/check.js';
export { ManifestError, LaunchResolveError, SpawnError } from './errors.js';
