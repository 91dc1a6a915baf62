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

/**
 * What a resolution is about to read, so that a backend can get ready for it (open connections)
 * while the first answers are awaited. Counts are at most what will be in flight at once.
 */
export interface ExpectedReads {
  /** Latest-version lookups (`getLatest`), one per credential. */
  readonly latest: number;
  /** Pinned versions, read together through `getMany`. */
  readonly pinned: number;
  /** Decrypts by the key service. */
  readonly decrypts: number;
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
   * Get ready for the reads a resolution is about to make. Resolves once the store's requests may
   * be sent; what the key service needs is readied after them, while their answers are awaited.
   * Never rejects: what cannot be readied fails the read that needs it, as it would have anyway.
   */
  warmUp?(expected: ExpectedReads): Promise<void>;
  /**
   * Let go of what the backend holds between calls: the aws backend's keep-alive sockets, the
   * local backend's cached master key (zeroed). Idempotent. The aws backend must not be used
   * afterwards; the local one reads its key again if it is.
   */
  close?(): void;
}
