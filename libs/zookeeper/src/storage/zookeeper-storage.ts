import { Logger } from '@nestjs/common';
import { concatMap, distinctUntilChanged, filter, from, map, Observable } from 'rxjs';
import { joinPath } from '../connection/paths.js';
import { checkVersion } from '../connection/request-checks.js';
import { ZookeeperConnection } from '../connection/zookeeper-connection.js';
import { isConnectionProblem } from '../errors/zookeeper.error.js';
import { whenNoNode } from '../internal/no-node.js';
import { byteLimit, positiveInteger } from '../internal/option-checks.js';
import { sleep } from '../internal/sleep.js';
import { ChunkManifest, decodeManifest, isManifest } from './chunk-manifest.js';
import { ChunkStore, StaleGenerationError } from './chunk-store.js';
import { ChunkedHeads } from './chunked-heads.js';
import { EphemeralKeys } from './ephemeral-keys.js';
import { StorageEntry, WriteResult } from './storage-entry.js';
import { lostRace, WriteCondition, WriteRequest } from './head-switch.js';
import { ValueWriter } from './value-writer.js';
import { isStorageBookkeeping, StorageTreeWatch } from './storage-tree.js';
import { watchChildren } from '../watch/children-watch.js';
import { NodeSnapshot, watchNode } from '../watch/node-watch.js';
import { TreeCache } from '../watch/tree-cache.js';
import { SerializationError } from '../codec/serialization-error.js';
import { JsonSerializer, Serializer } from '../codec/serializers.js';
import { InvalidValueError, UpdateConflictError } from './storage-errors.js';
import { isReservedName, keySegments, normalizeKey } from './storage-key.js';
import {
  SetOptions,
  StorageDeleteOptions,
  ZookeeperStorageOptions,
} from './storage-options.interface.js';

const DEFAULT_MAX_NODE_BYTES = 1_000_000;
const MAX_STALE_READS = 10;
const ABSENT: WriteCondition = { kind: 'absent' };
const ANY: WriteCondition = { kind: 'any' };

/**
 * Keys mapped to znodes under a root, values through a serializer (JSON by default).
 *
 * Guarantees: writes are linearizable (ZooKeeper's); `set` with `expectedVersion`, `update` and
 * `increment` are compare-and-set on the key's znode, so concurrent updaters never lose an update;
 * a value larger than one znode is written as an immutable chunk generation and made visible by
 * one compare-and-set of the key's head, so readers see the old or the new value, never a mix,
 * and a writer that dies mid-way leaves nothing visible (its generation is collected later).
 * Not guaranteed: atomicity across keys (`setMany` is many independent writes; multi-op
 * transactions, where the driver has them, serve only to fence a head switch to its chunk
 * generation, see HeadSwitch), and a recursive delete racing with writers of child keys.
 */
export class ZookeeperStorage {
  readonly root: string;
  private readonly serializer: Serializer;
  private readonly chunks: ChunkStore;
  private readonly heads: ChunkedHeads;
  private readonly writer: ValueWriter;
  private readonly ephemerals: EphemeralKeys;
  private readonly logger: Logger;
  private readonly scopes = new Set<ZookeeperStorage>();

  constructor(
    readonly connection: ZookeeperConnection,
    private readonly options: ZookeeperStorageOptions = {},
  ) {
    const owner = 'ZookeeperStorage';
    byteLimit(owner, 'maxNodeBytes', options.maxNodeBytes, connection.maxFrameBytes);
    positiveInteger(owner, 'updateRetries', options.updateRetries);
    this.root = joinPath(options.root ?? '/storage');
    this.serializer = options.serializer ?? new JsonSerializer();
    const maxNodeBytes = options.maxNodeBytes ?? DEFAULT_MAX_NODE_BYTES;
    this.chunks = new ChunkStore(connection, joinPath(this.root, '__chunks'), maxNodeBytes);
    this.logger = new Logger(`ZookeeperStorage:${connection.name}`);
    // Every key the writer and the heads get is canonical (checked by the public method).
    const nodePath = (key: string) => this.headPath(key);
    this.heads = new ChunkedHeads(connection, nodePath);
    this.writer = new ValueWriter(connection, this.chunks, this.heads, {
      maxNodeBytes,
      chunking: options.chunking !== false,
      logger: this.logger,
      nodePath,
    });
    this.ephemerals = new EphemeralKeys(
      connection,
      (key, bytes) => this.writer.write(key, bytes, { condition: ABSENT, ephemeral: true }),
      nodePath,
      this.logger,
      options.recreateEphemeralsOnExpiry ?? true,
    );
  }

  /**
   * A storage over a sub-tree: `storage.scope('orders').set('42', ...)` writes `orders/42`. It is
   * closed with this storage (its ephemeral keys are no longer re-created).
   */
  scope(prefix: string): ZookeeperStorage {
    const scoped = new ZookeeperStorage(this.connection, {
      ...this.options,
      root: joinPath(this.root, ...keySegments(prefix)),
    });
    this.scopes.add(scoped);
    return scoped;
  }

  /**
   * The key's znode path as the server and other clients (zkCli, Curator) see it: the connection's
   * namespace, the storage root, then the key.
   */
  znodePath(key: string): string {
    return this.connection.toServerPath(this.nodePath(key));
  }

  async get<T = unknown>(key: string): Promise<StorageEntry<T> | undefined> {
    return (await this.readEntry<T>(normalizeKey(key)))?.entry;
  }

  async getValue<T = unknown>(key: string): Promise<T | undefined> {
    return (await this.get<T>(key))?.value;
  }

  async has(key: string): Promise<boolean> {
    return (await this.connection.exists(this.nodePath(key))) !== undefined;
  }

  /** Writes a value, creating the key and its parents when missing. */
  async set(key: string, value: unknown, options: SetOptions = {}): Promise<WriteResult> {
    const canonical = normalizeKey(key);
    const { expectedVersion: version, ephemeral, ttlMs } = options;
    positiveInteger('ZookeeperStorage.set', 'ttlMs', ttlMs);
    checkVersion('ZookeeperStorage.set', 'expectedVersion', version);
    const condition: WriteCondition = version === undefined ? ANY : { kind: 'version', version };
    return this.written(canonical, this.encode(canonical, value), { condition, ephemeral, ttlMs });
  }

  /** Creates a key; NodeExistsError when it exists. */
  async create(
    key: string,
    value: unknown,
    options: Omit<SetOptions, 'expectedVersion'> = {},
  ): Promise<WriteResult> {
    const canonical = normalizeKey(key);
    return this.written(canonical, this.encode(canonical, value), {
      ...options,
      condition: ABSENT,
    });
  }

  async delete(key: string, options: StorageDeleteOptions = {}): Promise<void> {
    const canonical = normalizeKey(key);
    checkVersion('ZookeeperStorage.delete', 'expectedVersion', options.expectedVersion);
    if (options.recursive) {
      for (const child of await this.list(canonical)) await this.delete(child, { recursive: true });
    }
    this.ephemerals.forget(canonical);
    await this.heads.deleteHead(canonical, options.expectedVersion);
    // A large value written meanwhile may already own a new generation: ask the head.
    await this.chunks.collect(canonical, () => this.writer.headGeneration(canonical));
  }

  /**
   * Read, apply `fn`, write back with the read version; on a concurrent change, read again and
   * retry. `fn` gets undefined when the key does not exist, and may run more than once.
   */
  async update<T>(
    key: string,
    fn: (current: T | undefined) => T,
    options: { retries?: number } = {},
  ): Promise<StorageEntry<T>> {
    const canonical = normalizeKey(key);
    positiveInteger('ZookeeperStorage.update', 'retries', options.retries);
    const attempts = options.retries ?? this.options.updateRetries ?? 100;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const current = await this.readEntry<T>(canonical);
      const next = fn(current?.entry.value);
      const bytes = this.encode(canonical, next);
      try {
        const written = await this.written(canonical, bytes, {
          condition: current ? { kind: 'version', version: current.entry.version } : ABSENT,
          previousHead: current?.head,
        });
        return { key: canonical, value: next, version: written.version, stat: written.stat };
      } catch (error) {
        if (!lostRace(error)) throw error;
      }
      // Losers of a race back off a random, growing while so they stop colliding in lockstep.
      await sleep(Math.random() * Math.min(100, 2 ** attempt));
    }
    throw new UpdateConflictError(canonical, attempts);
  }

  /** Atomic counter on the same compare-and-set loop; a missing key counts from 0. */
  async increment(key: string, delta = 1): Promise<number> {
    const canonical = normalizeKey(key);
    if (!Number.isFinite(delta))
      throw new InvalidValueError(canonical, `increment needs a finite number, got ${delta}`);
    const entry = await this.update<number>(canonical, (current) => {
      if (current !== undefined && typeof current !== 'number') {
        throw new InvalidValueError(canonical, `cannot increment a ${typeof current} value`);
      }
      return (current ?? 0) + delta;
    });
    return entry.value;
  }

  /** Child keys of `prefix` (the root when omitted), sorted. */
  async list(prefix?: string): Promise<string[]> {
    const base = prefix === undefined ? undefined : normalizeKey(prefix);
    const path = base === undefined ? this.root : this.headPath(base);
    const names = await this.connection.getChildren(path).catch(whenNoNode<string[]>([]));
    return names
      .filter((name) => !isReservedName(name))
      .sort()
      .map((name) => (base === undefined ? name : `${base}/${name}`));
  }

  /** Child keys of `prefix` with their entries (read in parallel). */
  async entries<T = unknown>(prefix?: string): Promise<StorageEntry<T>[]> {
    const entries = await this.getMany<T>(await this.list(prefix));
    return entries.filter((entry): entry is StorageEntry<T> => entry !== undefined);
  }

  /** Reads many keys with all requests in flight at once. */
  getMany<T = unknown>(keys: readonly string[]): Promise<Array<StorageEntry<T> | undefined>> {
    return Promise.all(keys.map((key) => this.get<T>(key)));
  }

  /** Writes many keys with all requests in flight at once (not a transaction: each key is its own write). */
  setMany(
    entries: Iterable<readonly [string, unknown]> | Record<string, unknown>,
  ): Promise<WriteResult[]> {
    const pairs =
      Symbol.iterator in Object(entries)
        ? [...(entries as Iterable<readonly [string, unknown]>)]
        : Object.entries(entries);
    return Promise.all(pairs.map(([key, value]) => this.set(key, value)));
  }

  /**
   * The entry of `key`: the current one on subscribe (undefined while the key does not exist),
   * then every change observed. Never an older version after a newer one; intermediate values may
   * be coalesced (ZooKeeper watches are one-shot); converges to the latest value after reconnects
   * and session expiry. However many subscribers, one ZooKeeper watch serves the key.
   */
  watch<T = unknown>(key: string): Observable<StorageEntry<T> | undefined> {
    const canonical = normalizeKey(key);
    return watchNode(this.connection, this.headPath(canonical)).pipe(
      // A chunked value is read after its head: one at a time keeps the order.
      concatMap((snapshot) =>
        from(snapshot ? this.decodeSnapshot<T>(canonical, snapshot) : Promise.resolve(null)),
      ),
      filter((entry): entry is StorageEntry<T> | null => entry !== undefined),
      map((entry) => entry ?? undefined),
    );
  }

  /** The sorted child keys of `prefix` (the root when omitted), on subscribe and on every change. */
  watchChildren(prefix?: string): Observable<string[]> {
    const base = prefix === undefined ? undefined : normalizeKey(prefix);
    return watchChildren(
      this.connection,
      base === undefined ? this.root : this.headPath(base),
    ).pipe(
      map((names) =>
        names
          .filter((name) => !isStorageBookkeeping(name))
          .map((name) => (base === undefined ? name : `${base}/${name}`)),
      ),
      distinctUntilChanged((a, b) => a.length === b.length && a.every((name, i) => name === b[i])),
    );
  }

  /**
   * A live cache of every key under `prefix` (the whole storage when omitted): an `initialized`
   * event, then `added` / `updated` / `removed` per key, and `current()`. Await `start()`, and
   * `close()` it when done.
   */
  watchTree<T = unknown>(prefix?: string): StorageTreeWatch<T> {
    const base = prefix === undefined ? undefined : normalizeKey(prefix);
    const rootPath = base === undefined ? this.root : this.headPath(base);
    const keyOf = (path: string): string | undefined => {
      if (path === this.root || !path.startsWith(`${this.root}/`)) return undefined;
      return path.slice(this.root.length + 1);
    };
    const cache = new TreeCache(this.connection, rootPath, { ignoreChild: isStorageBookkeeping });
    return new StorageTreeWatch<T>(cache, keyOf, (key, snapshot) =>
      this.decodeSnapshot(key, snapshot),
    );
  }

  /** Collects chunk generations no head refers to (left by writers that died mid-way). */
  async gc(): Promise<{ keys: number; generationsRemoved: number }> {
    const keys = await this.chunks.keysWithChunks();
    let generationsRemoved = 0;
    for (const key of keys) {
      const { removed } = await this.chunks.collect(key, () => this.writer.headGeneration(key));
      generationsRemoved += removed;
    }
    return { keys: keys.length, generationsRemoved };
  }

  /** Stops re-creating ephemeral keys, here and in every scope (called on module destroy). */
  close(): void {
    this.ephemerals.close();
    for (const scoped of this.scopes) scoped.close();
    this.scopes.clear();
  }

  /** The key's path on this connection (below its namespace). */
  private nodePath(key: string): string {
    return this.headPath(normalizeKey(key));
  }

  /** The path of a canonical key (no check: on the path of every write). */
  private headPath(canonical: string): string {
    return this.root === '/' ? `/${canonical}` : `${this.root}/${canonical}`;
  }

  onModuleDestroy(): void {
    this.close();
  }

  /** An ephemeral key is remembered for re-creation only once this process wrote it. */
  private written(key: string, bytes: Buffer, request: WriteRequest): Promise<WriteResult> {
    const result = this.writer.write(key, bytes, request);
    if (!request.ephemeral) return result;
    return result.then((written) => {
      this.ephemerals.remember(key, bytes);
      return written;
    });
  }

  private async readEntry<T>(
    key: string,
  ): Promise<{ entry: StorageEntry<T>; head: Buffer } | undefined> {
    for (let attempt = 1; ; attempt++) {
      const head = await this.writer.readHead(this.headPath(key));
      if (!head) return undefined;
      try {
        const value = await this.decode<T>(key, head.data);
        return {
          entry: { key, value, version: head.stat.version, stat: head.stat },
          head: head.data,
        };
      } catch (error) {
        // The head moved on and its old chunks were collected while we read them: read again.
        if (!(error instanceof StaleGenerationError) || attempt >= MAX_STALE_READS) throw error;
      }
    }
  }

  /**
   * undefined when the snapshot's chunks were collected meanwhile (a newer head follows). Chunk
   * reads that fail on a connection problem wait for the connection and read again: the watch
   * below does not emit an unchanged node twice, so a skipped snapshot would never come back.
   */
  private async decodeSnapshot<T>(
    key: string,
    snapshot: NodeSnapshot,
  ): Promise<StorageEntry<T> | undefined> {
    for (;;) {
      try {
        const value = await this.decode<T>(key, snapshot.data);
        return { key, value, version: snapshot.stat.version, stat: snapshot.stat };
      } catch (error) {
        if (error instanceof StaleGenerationError) return undefined;
        if (!isConnectionProblem(error)) throw error;
        await this.connection.whenConnected();
      }
    }
  }

  private encode(key: string, value: unknown): Buffer {
    try {
      return this.serializer.serialize(value);
    } catch (error) {
      throw new SerializationError(`the value of ${JSON.stringify(key)}`, 'serialize', error);
    }
  }

  private async decode<T>(key: string, data: Buffer): Promise<T> {
    const bytes = isManifest(data)
      ? await this.chunks.read(key, decodeManifest(data) as ChunkManifest)
      : data;
    try {
      return this.serializer.deserialize(bytes) as T;
    } catch (error) {
      throw new SerializationError(`the value of ${JSON.stringify(key)}`, 'deserialize', error);
    }
  }
}
