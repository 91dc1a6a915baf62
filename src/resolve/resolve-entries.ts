import { canonicalContext } from '../envelope/context.js';
import { NotFoundError } from '../errors.js';
import { DEFAULT_DECRYPT_CONCURRENCY, type KeyService } from '../keys/key-service.js';
import type { ManifestEntry } from '../manifest/manifest-entry.js';
import type { CredentialStore } from '../stores/credential-store.js';
import { refKey } from '../stores/credential-store.js';
import type { CredentialItem, CredentialRef } from '../stores/item.js';
import { decryptItem } from '../secrets/decrypt-item.js';
import { createLimiter, type Limiter } from '../util/concurrency.js';

export const DEFAULT_CONCURRENCY = DEFAULT_DECRYPT_CONCURRENCY;
/** Latest-version lookups are single-item Queries: as wide as the decrypts they feed. */
export const DEFAULT_LOOKUP_CONCURRENCY = 64;

/** What resolution needs from a backend. */
export interface ResolveSource {
  readonly store: Pick<CredentialStore, 'description' | 'getMany' | 'getLatest'>;
  readonly keys: KeyService;
  /** Called by the launcher once resolution is over, right after the command starts. */
  close?(): void;
  /**
   * Told how every entry ended, once, before resolveEntries returns; what it returns is the
   * result (the same entries, in the same order, each at most gaining an `origin`). A fallback
   * (src/fallback) keeps what the store answered here, or drops it when the store said no.
   * Must not throw.
   */
  resolved?(resolutions: readonly Resolution[]): readonly Resolution[];
}

export interface ResolveOptions {
  /** Key-service decrypts in flight at most. */
  readonly concurrency?: number;
  readonly lookupConcurrency?: number;
  /** Stop starting new work once aborted (a signal arrived). */
  readonly signal?: AbortSignal;
}

/** Where an entry's answer came from: the store, or a fallback copy of it (`--fallback`). */
export type ResolutionOrigin = 'store' | 'fallback';

/** `origin` undefined means the store. */
export type Resolution =
  | {
      readonly status: 'resolved';
      readonly entry: ManifestEntry;
      readonly version: string;
      readonly value: Buffer;
      readonly origin?: ResolutionOrigin;
    }
  | {
      readonly status: 'absent';
      readonly entry: ManifestEntry;
      readonly origin?: ResolutionOrigin;
    }
  | { readonly status: 'failed'; readonly entry: ManifestEntry; readonly error: unknown };

type Decrypted = { readonly version: string; readonly value: Buffer };

/** The same credential, version (or latest) and context is fetched and decrypted once. */
function referenceKey(entry: ManifestEntry): string {
  return `${entry.credential}\u0000${entry.version ?? ''}\u0000${canonicalContext(entry.context)}`;
}

class BatchResolver {
  readonly #source: ResolveSource;
  readonly #decryptLimit: Limiter;
  readonly #lookupLimit: Limiter;
  readonly #signal: AbortSignal | undefined;

  constructor(source: ResolveSource, options: ResolveOptions) {
    this.#source = source;
    this.#decryptLimit = createLimiter(options.concurrency ?? DEFAULT_CONCURRENCY);
    this.#lookupLimit = createLimiter(options.lookupConcurrency ?? DEFAULT_LOOKUP_CONCURRENCY);
    this.#signal = options.signal;
  }

  #decrypt(item: CredentialItem | undefined, ref: ManifestEntry): Promise<Decrypted> {
    if (item === undefined) {
      return Promise.reject(
        new NotFoundError(ref.credential, ref.version, this.#source.store.description),
      );
    }
    return this.#decryptLimit(async () => {
      this.#signal?.throwIfAborted();
      return {
        version: item.version,
        value: await decryptItem(this.#source.keys, item, ref.context),
      };
    });
  }

  /** One getMany for every pinned reference; each decrypt starts when the batch is back. */
  pinned(refs: readonly ManifestEntry[]): Map<string, Promise<Decrypted>> {
    const wanted: CredentialRef[] = [];
    const keys = new Set<string>();
    for (const ref of refs) {
      const key = refKey({ name: ref.credential, version: ref.version! });
      if (!keys.has(key)) wanted.push({ name: ref.credential, version: ref.version! });
      keys.add(key);
    }
    const items = wanted.length === 0 ? Promise.resolve([]) : this.#source.store.getMany(wanted);
    const byKey = items.then((list) => new Map(list.map((item) => [refKey(item), item])));
    return new Map(
      refs.map((ref) => [
        referenceKey(ref),
        byKey.then((found) =>
          this.#decrypt(found.get(refKey({ name: ref.credential, version: ref.version! })), ref),
        ),
      ]),
    );
  }

  /** One getLatest per distinct name, in parallel; decrypts start as each answer arrives. */
  latest(refs: readonly ManifestEntry[]): Map<string, Promise<Decrypted>> {
    const lookups = new Map<string, Promise<CredentialItem | undefined>>();
    for (const ref of refs) {
      if (lookups.has(ref.credential)) continue;
      lookups.set(
        ref.credential,
        this.#lookupLimit(async () => {
          this.#signal?.throwIfAborted();
          return this.#source.store.getLatest(ref.credential);
        }),
      );
    }
    return new Map(
      refs.map((ref) => [
        referenceKey(ref),
        lookups.get(ref.credential)!.then((item) => this.#decrypt(item, ref)),
      ]),
    );
  }
}

function settle(entry: ManifestEntry, outcome: PromiseSettledResult<Decrypted>): Resolution {
  if (outcome.status === 'fulfilled') return { status: 'resolved', entry, ...outcome.value };
  if (entry.optional && outcome.reason instanceof NotFoundError) return { status: 'absent', entry };
  return { status: 'failed', entry, error: outcome.reason };
}

/**
 * Resolve every manifest entry in one batch (SPEC §5): duplicate references are fetched and
 * decrypted once, pinned versions come from one `getMany`, latest versions from parallel
 * `getLatest` calls, and decrypts run with bounded concurrency as soon as their item arrives.
 * Never rejects: every failure is reported in its entry's result, in manifest order. Entries
 * sharing a reference share one value buffer.
 */
export async function resolveEntries(
  source: ResolveSource,
  entries: readonly ManifestEntry[],
  options: ResolveOptions = {},
): Promise<Resolution[]> {
  const unique = new Map<string, ManifestEntry>();
  for (const entry of entries)
    if (!unique.has(referenceKey(entry))) unique.set(referenceKey(entry), entry);
  const refs = [...unique.values()];
  const resolver = new BatchResolver(source, options);
  const work = new Map([
    ...resolver.pinned(refs.filter((ref) => ref.version !== undefined)),
    ...resolver.latest(refs.filter((ref) => ref.version === undefined)),
  ]);
  const keys = [...work.keys()];
  const outcomes = await Promise.allSettled(keys.map((key) => work.get(key)!));
  const byKey = new Map(keys.map((key, index) => [key, outcomes[index]!]));
  const resolutions = entries.map((entry) => settle(entry, byKey.get(referenceKey(entry))!));
  return [...(source.resolved?.(resolutions) ?? resolutions)];
}

/** Zero every decrypted value (shared buffers are zeroed once; zeroing twice is harmless). */
export function wipeResolutions(resolutions: readonly Resolution[]): void {
  for (const resolution of resolutions)
    if (resolution.status === 'resolved') resolution.value.fill(0);
}
