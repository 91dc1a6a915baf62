import { canonicalContext, type EncryptionContext } from '../envelope/context.js';
import { NotFoundError } from '../errors.js';
import { DEFAULT_DECRYPT_CONCURRENCY, type KeyService } from '../keys/key-service.js';
import {
  entryReferences,
  type CredentialReference,
  type ManifestEntry,
} from '../manifest/manifest-entry.js';
import type { ExpectedReads } from '../backends/backend.js';
import type { CredentialStore } from '../stores/credential-store.js';
import { refKey } from '../stores/credential-store.js';
import type { CredentialItem, CredentialRef } from '../stores/item.js';
import { decryptItem } from '../secrets/decrypt-item.js';
import { createLimiter, type Limiter } from '../util/concurrency.js';

export const DEFAULT_CONCURRENCY = DEFAULT_DECRYPT_CONCURRENCY;
/** Latest-version lookups are single-item Queries: as wide as the decrypts they feed. */
export const DEFAULT_LOOKUP_CONCURRENCY = DEFAULT_DECRYPT_CONCURRENCY;

/** What resolution needs from a backend. */
export interface ResolveSource {
  readonly store: Pick<CredentialStore, 'description' | 'getMany' | 'getLatest'>;
  readonly keys: KeyService;
  /** Told what a batch is about to read before it starts (see Backend#warmUp). */
  warmUp?(expected: ExpectedReads): Promise<void>;
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

/** Where an answer came from: the store, or a fallback copy of it (`--fallback`). */
export type ResolutionOrigin = 'store' | 'fallback';

/**
 * How one credential an entry reads resolved: an entry's own credential, or one reference of its
 * template (each has a resolution of its own, in the template's order). `origin` undefined means
 * the store.
 */
export type Resolution =
  | {
      readonly status: 'resolved';
      readonly entry: ManifestEntry;
      readonly reference: CredentialReference;
      /** The version that resolved (padded). */
      readonly version: string;
      readonly value: Buffer;
      readonly origin?: ResolutionOrigin;
    }
  | {
      readonly status: 'absent';
      readonly entry: ManifestEntry;
      readonly reference: CredentialReference;
      readonly origin?: ResolutionOrigin;
    }
  | {
      readonly status: 'failed';
      readonly entry: ManifestEntry;
      readonly reference: CredentialReference;
      readonly error: unknown;
    };

type Decrypted = { readonly version: string; readonly value: Buffer };

/** A credential to read, under the context of the entry that reads it. */
interface Wanted extends CredentialReference {
  readonly context: EncryptionContext;
}

/** The same credential, version (or latest) and context is fetched and decrypted once. */
function referenceKey(ref: Wanted): string {
  return `${ref.credential}\u0000${ref.version ?? ''}\u0000${canonicalContext(ref.context)}`;
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

  #decrypt(item: CredentialItem | undefined, ref: Wanted): Promise<Decrypted> {
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
  pinned(refs: readonly Wanted[]): Map<string, Promise<Decrypted>> {
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
  latest(refs: readonly Wanted[]): Map<string, Promise<Decrypted>> {
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

function settle(
  entry: ManifestEntry,
  reference: CredentialReference,
  outcome: PromiseSettledResult<Decrypted>,
): Resolution {
  if (outcome.status === 'fulfilled') {
    return { status: 'resolved', entry, reference, ...outcome.value };
  }
  if (entry.optional && outcome.reason instanceof NotFoundError) {
    return { status: 'absent', entry, reference };
  }
  return { status: 'failed', entry, reference, error: outcome.reason };
}

/**
 * Resolve every credential the manifest entries read, their own or their templates', in one batch
 * (SPEC §5): duplicate references (same name, version or latest, and context) are fetched and
 * decrypted once, pinned versions come from one `getMany`, latest versions from parallel
 * `getLatest` calls, and decrypts run with bounded concurrency as soon as their item arrives.
 * Never rejects: every failure is reported in its own result. One result per entry and
 * reference, in manifest order and, within a template, in the order of its references. Results
 * sharing a reference share one value buffer.
 */
export async function resolveEntries(
  source: ResolveSource,
  entries: readonly ManifestEntry[],
  options: ResolveOptions = {},
): Promise<Resolution[]> {
  const reads = entries.flatMap((entry) =>
    entryReferences(entry).map((reference) => {
      const { credential, version } = reference;
      const wanted: Wanted = { credential, version, context: entry.context };
      return { entry, reference, wanted, key: referenceKey(wanted) };
    }),
  );
  const unique = new Map<string, Wanted>();
  for (const { key, wanted } of reads) if (!unique.has(key)) unique.set(key, wanted);
  const refs = [...unique.values()];
  const pinned = refs.filter((ref) => ref.version !== undefined);
  const latest = refs.filter((ref) => ref.version === undefined);
  if (source.warmUp !== undefined && refs.length > 0) {
    await source.warmUp({
      latest: Math.min(
        new Set(latest.map((ref) => ref.credential)).size,
        options.lookupConcurrency ?? DEFAULT_LOOKUP_CONCURRENCY,
      ),
      pinned: new Set(pinned.map((ref) => refKey({ name: ref.credential, version: ref.version! })))
        .size,
      decrypts: Math.min(refs.length, options.concurrency ?? DEFAULT_CONCURRENCY),
    });
  }
  const resolver = new BatchResolver(source, options);
  const work = new Map([...resolver.pinned(pinned), ...resolver.latest(latest)]);
  const keys = [...work.keys()];
  const outcomes = await Promise.allSettled(keys.map((key) => work.get(key)!));
  const byKey = new Map(keys.map((key, index) => [key, outcomes[index]!]));
  const resolutions = reads.map(({ entry, reference, key }) =>
    settle(entry, reference, byKey.get(key)!),
  );
  return [...(source.resolved?.(resolutions) ?? resolutions)];
}

/** Zero every decrypted value (shared buffers are zeroed once; zeroing twice is harmless). */
export function wipeResolutions(resolutions: readonly Resolution[]): void {
  for (const resolution of resolutions)
    if (resolution.status === 'resolved') resolution.value.fill(0);
}
