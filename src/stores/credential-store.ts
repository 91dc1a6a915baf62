import type { CredentialItem, CredentialRef } from './item.js';

export interface StoreSetupOptions {
  readonly tags?: Readonly<Record<string, string>>;
  /** Provisioned capacity (DynamoDB); on-demand when both are absent. */
  readonly readCapacity?: number;
  readonly writeCapacity?: number;
}

export interface StoreSetupResult {
  /** What was created now (empty when everything already existed). */
  readonly created: readonly string[];
  readonly description: string;
}

/**
 * Versioned, immutable credential items (SPEC §3). Implementations: local file, DynamoDB.
 * Missing items are `undefined`, never errors; infrastructure failures are StoreError or
 * SetupRequiredError naming the table or file.
 */
export interface CredentialStore {
  /** "table credential-store in eu-west-1", "store file /home/me/.local/share/credexec/…". */
  readonly description: string;
  setup(options: StoreSetupOptions): Promise<StoreSetupResult>;
  /** Conditional put: throws VersionExistsError if (name, version) exists. */
  put(item: CredentialItem): Promise<void>;
  get(ref: CredentialRef): Promise<CredentialItem | undefined>;
  /** Items for many exact versions at once; missing ones are simply absent from the result. */
  getMany(refs: readonly CredentialRef[]): Promise<CredentialItem[]>;
  /** Highest version (string order, which is numeric order for padded versions), consistent read. */
  getLatest(name: string): Promise<CredentialItem | undefined>;
  /**
   * The latest version of each name, `undefined` for a name without any: versions only, never an
   * item's key or contents, strongly consistent. For `--watch`, whose every poll this is. Rejects
   * when any lookup fails.
   */
  latestVersions(names: readonly string[]): Promise<Map<string, string | undefined>>;
  /** All versions of one name, ascending. */
  versions(name: string): Promise<CredentialRef[]>;
  /** Every item in the store (all pages). */
  scan(): Promise<CredentialItem[]>;
  /** Delete exactly one version; returns false when it did not exist. */
  delete(ref: CredentialRef): Promise<boolean>;
}

export function refKey(ref: CredentialRef): string {
  return `${ref.name}\u0000${ref.version}`;
}
