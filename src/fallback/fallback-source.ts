import { FallbackError, NotFoundError, messageOf } from '../errors.js';
import type { KeyService } from '../keys/key-service.js';
import type { ExpectedReads } from '../backends/backend.js';
import type { Resolution, ResolveSource } from '../resolve/resolve-entries.js';
import { refKey } from '../stores/credential-store.js';
import type { CredentialItem, CredentialRef } from '../stores/item.js';
import { describeDuration } from '../util/duration.js';
import { describeErrno } from '../util/system.js';
import {
  CorruptFallbackError,
  describeReference,
  FallbackReadError,
  parseFallback,
  readFallbackFile,
  referenceKey,
  removeFallbackFile,
  serializeFallback,
  writeFallbackFile,
  type FallbackEntry,
  type FallbackReference,
  type FallbackSnapshot,
} from './fallback-file.js';
import { isRefusal, storeFailureKind } from './store-answers.js';

/**
 * `--fallback PATH`: starting through a store outage. A decorator of the launcher's ResolveSource
 * (composed in by the CLI), so resolution itself does not change:
 *
 * - every store read goes to the store first. After a resolution in which every entry resolved
 *   from the store, the raw items read are written to PATH (fallback-file.ts), replacing it;
 * - when a read fails with an outage (store-answers.ts), the same items come from PATH instead —
 *   if it is there, safely the user's, written for this store no longer than the maximum age
 *   ago, and has every reference asked for; otherwise the entry fails (FallbackError) naming the
 *   store's failure and why the fallback could not stand in. The items still go through the key
 *   service under each entry's context, so revoking decrypt access still revokes the secrets;
 * - a definite "no" — the store denied access, its table or file is gone, it answered "not
 *   found" for a credential the run needs, the key service refused to unwrap — removes PATH;
 * - one stderr line says when the fallback was used, and how old it is.
 */
export interface FallbackOptions {
  /** Absolute path of the fallback file. */
  readonly path: string;
  readonly maxAgeMs: number;
  /** The maximum age as the user wrote it (`24h`), for messages. */
  readonly maxAge: string;
  /** One line to stderr (credexec's own notices; never values). */
  readonly warn: (line: string) => void;
  /** The clock; injected by tests. */
  readonly now?: () => number;
}

/**
 * A file written up to this long "in the future" (clocks a little apart, a clock stepped back by
 * NTP) counts as just written; further ahead, its age cannot be known and it is refused.
 */
export const CLOCK_SKEW_TOLERANCE_MS = 5 * 60_000;

type Loaded =
  { readonly snapshot: FallbackSnapshot; readonly ageMs: number } | { readonly problem: string };

/** The reference a resolution read: its credential, at its pinned version or the latest. */
function referenceOf({ reference }: Resolution): FallbackReference {
  return { name: reference.credential, version: reference.version };
}

/** At most a few references by name, then how many more. */
function listReferences(references: readonly FallbackReference[]): string {
  const shown = references.slice(0, 3).map(describeReference).join(', ');
  return references.length > 3 ? `${shown} and ${references.length - 3} more` : shown;
}

class FallbackSource implements ResolveSource {
  readonly store: ResolveSource['store'];
  readonly keys: KeyService;
  readonly #inner: ResolveSource;
  readonly #options: FallbackOptions;
  readonly #now: () => number;
  /** What the store answered this run, by referenceKey. */
  readonly #answered = new Map<string, FallbackEntry>();
  /** References answered from the fallback file. */
  readonly #served = new Set<string>();
  /** The first outage that sent a read to the fallback, and the first refusal. */
  #outage: Error | undefined;
  #refusal: Error | undefined;
  #loaded: Promise<Loaded> | undefined;
  /** The fallback's age when it stood in for the store; undefined while it has not. */
  #usedAgeMs: number | undefined;

  constructor(inner: ResolveSource, options: FallbackOptions) {
    this.#inner = inner;
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.keys = inner.keys;
    this.store = {
      description: inner.store.description,
      getMany: (refs) => this.#getMany(refs),
      getLatest: (name) => this.#getLatest(name),
    };
  }

  warmUp(expected: ExpectedReads): Promise<void> {
    return this.#inner.warmUp?.(expected) ?? Promise.resolve();
  }

  close(): void {
    this.#inner.close?.();
  }

  async #getLatest(name: string): Promise<CredentialItem | undefined> {
    let item: CredentialItem | undefined;
    try {
      item = await this.#inner.store.getLatest(name);
    } catch (error: unknown) {
      const [found] = await this.#fromFallback(error, [{ name, version: undefined }]);
      return found ?? undefined;
    }
    this.#answered.set(referenceKey({ name, version: undefined }), {
      name,
      version: undefined,
      item: item ?? null,
    });
    return item;
  }

  async #getMany(refs: readonly CredentialRef[]): Promise<CredentialItem[]> {
    let items: CredentialItem[];
    try {
      items = await this.#inner.store.getMany(refs);
    } catch (error: unknown) {
      const found = await this.#fromFallback(error, refs);
      return found.filter((item): item is CredentialItem => item !== null);
    }
    const found = new Map(items.map((item) => [refKey(item), item]));
    for (const { name, version } of refs) {
      this.#answered.set(referenceKey({ name, version }), {
        name,
        version,
        item: found.get(refKey({ name, version })) ?? null,
      });
    }
    return items;
  }

  /** The fallback's answers for `wanted` after the store failed with `error`, or a rejection. */
  async #fromFallback(
    error: unknown,
    wanted: readonly FallbackReference[],
  ): Promise<(CredentialItem | null)[]> {
    const kind = storeFailureKind(error);
    if (kind === 'refusal') this.#refusal ??= error as Error;
    if (kind !== 'outage') throw error;
    const failure = error as Error;
    this.#outage ??= failure;
    const loaded = await this.#load();
    if ('problem' in loaded) throw new FallbackError(failure, loaded.problem);
    const { entries } = loaded.snapshot;
    const missing = wanted.filter((reference) => !entries.has(referenceKey(reference)));
    if (missing.length > 0) {
      throw new FallbackError(
        failure,
        `the fallback ${this.#options.path} has no entry for ${listReferences(missing)}`,
      );
    }
    this.#usedAgeMs = loaded.ageMs;
    return wanted.map((reference) => {
      this.#served.add(referenceKey(reference));
      return entries.get(referenceKey(reference))!.item;
    });
  }

  /** Read and judge the file, once per run. */
  #load(): Promise<Loaded> {
    this.#loaded ??= this.#readSnapshot();
    return this.#loaded;
  }

  async #readSnapshot(): Promise<Loaded> {
    const { path, maxAgeMs, maxAge } = this.#options;
    let snapshot: FallbackSnapshot;
    try {
      snapshot = parseFallback(await readFallbackFile(path));
    } catch (error: unknown) {
      if (error instanceof FallbackReadError) return { problem: error.message };
      if (error instanceof CorruptFallbackError)
        return { problem: `the fallback ${path} is corrupt: ${error.message}` };
      throw error;
    }
    if (snapshot.store !== this.store.description) {
      return {
        problem: `the fallback ${path} was written for ${snapshot.store}, not ${this.store.description}`,
      };
    }
    const ageMs = this.#now() - snapshot.written;
    if (ageMs < -CLOCK_SKEW_TOLERANCE_MS) {
      return {
        problem: `the fallback ${path} was written ${describeDuration(-ageMs)} in the future by this machine's clock, so its age is unknown`,
      };
    }
    if (ageMs > maxAgeMs) {
      return {
        problem: `the fallback ${path} is older than its maximum age ${maxAge} (written ${describeDuration(ageMs)} ago)`,
      };
    }
    return { snapshot, ageMs: Math.max(0, ageMs) };
  }

  /** The failure that is a definite "no", if any: it removes the fallback. */
  #refusalIn(resolutions: readonly Resolution[]): unknown {
    if (this.#refusal !== undefined) return this.#refusal;
    for (const resolution of resolutions) {
      if (resolution.status !== 'failed') continue;
      const { error } = resolution;
      // "Not found" from the store itself (not from a fallback that recorded an absence).
      if (error instanceof NotFoundError) {
        if (this.#answered.get(referenceKey(referenceOf(resolution)))?.item === null) return error;
      } else if (isRefusal(error)) return error;
    }
    return undefined;
  }

  /**
   * Resolution is over: a definite "no" removes the file; a run helped by the file says so; a
   * run that resolved everything from the store writes what it read. Each entry that resolved
   * gains its origin.
   */
  resolved(resolutions: readonly Resolution[]): readonly Resolution[] {
    const annotated = resolutions.map((resolution) =>
      resolution.status === 'failed'
        ? resolution
        : {
            ...resolution,
            origin: this.#served.has(referenceKey(referenceOf(resolution)))
              ? ('fallback' as const)
              : ('store' as const),
          },
    );
    const refusal = this.#refusalIn(resolutions);
    if (refusal !== undefined) this.#remove(refusal);
    else if (this.#usedAgeMs !== undefined) this.#sayUsed(annotated, this.#usedAgeMs);
    else if (resolutions.every((resolution) => resolution.status !== 'failed')) this.#write();
    return annotated;
  }

  #remove(refusal: unknown): void {
    const { path, warn } = this.#options;
    try {
      if (removeFallbackFile(path))
        warn(`credexec: warning: removed the fallback ${path}: ${messageOf(refusal)}`);
    } catch (error: unknown) {
      warn(`credexec: warning: cannot remove the fallback ${path}: ${describeErrno(error)}`);
    }
  }

  #sayUsed(resolutions: readonly Resolution[], ageMs: number): void {
    const used = resolutions.filter(
      (resolution) => resolution.status !== 'failed' && resolution.origin === 'fallback',
    ).length;
    this.#options.warn(
      `credexec: warning: using the fallback ${this.#options.path} (written ${describeDuration(ageMs)} ago) for ${used} of ${resolutions.length} secret(s): ${this.#outage!.message}`,
    );
  }

  #write(): void {
    const { path, warn } = this.#options;
    const text = serializeFallback({
      written: this.#now(),
      store: this.store.description,
      entries: this.#answered,
    });
    try {
      writeFallbackFile(path, text);
    } catch (error: unknown) {
      warn(`credexec: warning: cannot write the fallback ${path}: ${describeErrno(error)}`);
    }
  }
}

export function withFallback(source: ResolveSource, options: FallbackOptions): ResolveSource {
  return new FallbackSource(source, options);
}
