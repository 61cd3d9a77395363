import { Logger } from '@nestjs/common';
import { concatMap, defer, filter, from, Observable, startWith, Subject, Subscription } from 'rxjs';
import { TreeCache, TreeCacheEvent } from '../watch/tree-cache.js';
import { NodeSnapshot } from '../watch/node-watch.js';
import { isReservedName } from './storage-key.js';
import type { StorageEntry } from './storage-entry.js';

/** What a storage tree watch reports; keys are relative to the watched prefix's storage root. */
export type StorageTreeEvent<T> =
  | { readonly type: 'initialized'; readonly entries: ReadonlyMap<string, StorageEntry<T>> }
  | { readonly type: 'added' | 'updated'; readonly key: string; readonly entry: StorageEntry<T> }
  | { readonly type: 'removed'; readonly key: string };

/** Turns a snapshot of a key's head znode into an entry (reads chunks for large values). */
export type SnapshotDecoder = <T>(
  key: string,
  snapshot: NodeSnapshot,
) => Promise<StorageEntry<T> | undefined>;

/**
 * A cache of every key under a prefix, like Curator's CuratorCache over the storage: an
 * `initialized` event with all entries, then `added` / `updated` / `removed` per key, and
 * `current()` on demand. Built on {@link TreeCache}, with its guarantees: it converges to the
 * server's state after every change, reconnect and session expiry; intermediate values of a key
 * may be coalesced, never reordered. Chunk bookkeeping is not watched. Call `close()` when done.
 */
export class StorageTreeWatch<T = unknown> {
  /** Late subscribers first get an `initialized` event with the entries of that moment. */
  readonly events$: Observable<StorageTreeEvent<T>>;
  private readonly events = new Subject<StorageTreeEvent<T>>();
  private readonly entries = new Map<string, StorageEntry<T>>();
  private readonly subscription: Subscription;
  private initialized = false;
  private readonly logger = new Logger('StorageTreeWatch');

  constructor(
    private readonly cache: TreeCache,
    private readonly keyOf: (path: string) => string | undefined,
    private readonly decode: SnapshotDecoder,
  ) {
    this.events$ = defer(() =>
      this.initialized
        ? this.events.pipe(
            startWith<StorageTreeEvent<T>>({ type: 'initialized', entries: new Map(this.entries) }),
          )
        : this.events.asObservable(),
    );
    // One pipeline feeds every subscriber; decoding may read chunks, so events go one at a time.
    this.subscription = cache.events$
      .pipe(
        // A key that cannot be decoded (e.g. a serializer error) is skipped, not fatal to the cache.
        concatMap((event) =>
          from(
            this.apply(event).catch((error: Error) => {
              this.logger.warn(
                `skipped a ${event.type} event that could not be decoded: ${error.message}`,
              );
              return undefined;
            }),
          ),
        ),
        filter((event): event is StorageTreeEvent<T> => event !== undefined),
      )
      .subscribe(this.events);
  }

  /** Resolves once every key has been loaded. */
  async start(): Promise<this> {
    await this.cache.start();
    return this;
  }

  current(): ReadonlyMap<string, StorageEntry<T>> {
    return new Map(this.entries);
  }

  close(): void {
    this.cache.close();
    this.subscription.unsubscribe();
    this.events.complete();
  }

  private async apply(event: TreeCacheEvent): Promise<StorageTreeEvent<T> | undefined> {
    if (event.type === 'initialized') {
      const decoded = await Promise.all(
        [...event.snapshot].map(async ([path, node]) => {
          const key = this.keyOf(path);
          return key === undefined ? undefined : await this.decode<T>(key, node);
        }),
      );
      this.entries.clear();
      for (const entry of decoded) if (entry) this.entries.set(entry.key, entry);
      this.initialized = true;
      return { type: 'initialized', entries: new Map(this.entries) };
    }
    const key = this.keyOf(event.path);
    if (key === undefined) return undefined;
    if (event.type === 'removed') {
      return this.entries.delete(key) ? { type: 'removed', key } : undefined;
    }
    const entry = await this.decode<T>(key, event.node);
    if (!entry) return undefined;
    const type = this.entries.has(key) ? 'updated' : 'added';
    this.entries.set(key, entry);
    return { type, key, entry };
  }
}

/** Child names the storage keeps for itself (chunks of large values). */
export function isStorageBookkeeping(name: string): boolean {
  return isReservedName(name);
}
