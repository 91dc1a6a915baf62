import type { KeyService } from '../keys/key-service.js';
import type {
  CredentialStore,
  StoreSetupOptions,
  StoreSetupResult,
} from '../stores/credential-store.js';

export type BackendName = 'aws' | 'local';
export const BACKEND_NAMES: readonly BackendName[] = ['aws', 'local'];

export const DEFAULT_TABLE = 'credential-store';
export const DEFAULT_KEY_ID = 'alias/credstash';

/** Where credentials live. Unset fields fall back to the environment, then to defaults. */
export interface BackendOptions {
  readonly backend?: BackendName | undefined;
  /** DynamoDB table (aws) or store file name (local). */
  readonly table?: string | undefined;
  /** KMS key id, alias or ARN used by put. */
  readonly keyId?: string | undefined;
  readonly region?: string | undefined;
  readonly kmsRegion?: string | undefined;
  readonly profile?: string | undefined;
  /** Role to assume (`--arn`). */
  readonly roleArn?: string | undefined;
  readonly localDir?: string | undefined;
}

/** BackendOptions with every default applied. */
export interface BackendSettings {
  readonly backend: BackendName;
  readonly table: string;
  readonly keyId: string;
  readonly region: string | undefined;
  readonly kmsRegion: string | undefined;
  readonly profile: string | undefined;
  readonly roleArn: string | undefined;
  readonly localDir: string;
}

/** A store and the key service that wraps its data keys. */
export interface Backend {
  readonly name: BackendName;
  readonly settings: BackendSettings;
  readonly store: CredentialStore;
  readonly keys: KeyService;
  /** Create what the backend needs (idempotent). */
  setup(options: StoreSetupOptions): Promise<StoreSetupResult>;
  /**
   * Let go of what the backend holds between calls: the aws backend's keep-alive sockets, the
   * local backend's cached master key (zeroed). Idempotent. The aws backend must not be used
   * afterwards; the local one reads its key again if it is.
   */
  close?(): void;
}
