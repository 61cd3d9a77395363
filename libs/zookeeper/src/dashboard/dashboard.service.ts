import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { defer, exhaustMap, from, map, Observable, share, timer, catchError, EMPTY } from 'rxjs';
import { joinPath, validatePath } from '../connection/paths.js';
import { ZookeeperConnection } from '../connection/zookeeper-connection.js';
import { NoNodeError } from '../errors/zookeeper-errors.js';
import { InvalidOptionsError } from '../errors/library-errors.js';
import { whenNoNode } from '../internal/no-node.js';
import { positiveInteger, positiveMs } from '../internal/option-checks.js';
import { WorkQueue } from '../messaging/index.js';
import { InvalidKeyError } from '../storage/storage-errors.js';
import { ZookeeperStorage } from '../storage/zookeeper-storage.js';
import { decodeBatch } from '../messaging/shared/message-batch.js';
import { getZookeeperToken } from '../module/zookeeper.tokens.js';
import { DEAD_LETTER_PAGE, ZOOKEEPER_DASHBOARD_OPTIONS } from './dashboard.constants.js';
import type { ZookeeperDashboardOptions } from './dashboard-options.interface.js';
import { bySequence, decodeData } from './dashboard-reads.js';
import { DashboardSampler } from './dashboard-sampler.js';
import { DashboardSnapshot, HistoryPoint } from './dashboard-snapshot.js';

export type { HistoryPoint } from './dashboard-snapshot.js';

export interface DeadLetterView {
  id: string;
  message: unknown;
  error?: string;
  attempts?: number;
  item?: string;
  index?: number;
  failedAt?: number;
}

/**
 * The dashboard's reads and actions. Samples ZooKeeper every `sampleIntervalMs` only while
 * someone listens (an open page's event stream); the samples are shared by every listener.
 */
@Injectable()
export class ZookeeperDashboardService implements OnModuleDestroy {
  readonly enabled: boolean;
  readonly readOnly: boolean;
  /** The page may set and delete storage keys (`storageWrites`, refused when `readOnly`). */
  readonly storageWrites: boolean;
  private connectionRef?: ZookeeperConnection;
  private samplerRef?: DashboardSampler;
  private readonly history: HistoryPoint[] = [];
  private latest?: DashboardSnapshot;
  private readonly stream: Observable<DashboardSnapshot>;
  private readonly sampleIntervalMs: number;
  private readonly historySize: number;
  private readonly listLimit: number;

  constructor(
    @Inject(ZOOKEEPER_DASHBOARD_OPTIONS) private readonly options: ZookeeperDashboardOptions,
    private readonly moduleRef: ModuleRef,
  ) {
    const owner = 'ZookeeperDashboardModule';
    positiveMs(owner, 'sampleIntervalMs', options.sampleIntervalMs);
    positiveMs(owner, 'discoveryIntervalMs', options.discoveryIntervalMs);
    positiveInteger(owner, 'historySize', options.historySize);
    positiveInteger(owner, 'listLimit', options.listLimit);
    for (const path of [
      ...(options.elections ?? []),
      ...(options.memberships ?? []),
      ...(options.serviceRegistries ?? []),
      ...(options.queues ?? []),
      ...(options.logs ?? []),
      ...(options.storageRoots ?? []),
      ...(options.discoverUnder ?? []),
    ]) {
      validatePath(path, owner);
    }
    this.enabled = options.enabled ?? process.env.NODE_ENV !== 'production';
    this.readOnly = options.readOnly ?? false;
    this.storageWrites = !this.readOnly && (options.storageWrites ?? false);
    this.sampleIntervalMs = options.sampleIntervalMs ?? 1000;
    this.historySize = options.historySize ?? 300;
    this.listLimit = options.listLimit ?? 1000;
    this.stream = defer(() => timer(0, this.sampleIntervalMs)).pipe(
      exhaustMap(() =>
        from(this.sampler.sample()).pipe(
          catchError(() => EMPTY), // a failed sample is skipped; the next tick tries again
        ),
      ),
      map((sample) => this.record(sample)),
      share({ resetOnRefCountZero: true }),
    );
  }

  get connection(): ZookeeperConnection {
    this.connectionRef ??= this.moduleRef.get<ZookeeperConnection>(
      getZookeeperToken(this.options.connection),
      { strict: false },
    );
    return this.connectionRef;
  }

  private get sampler(): DashboardSampler {
    this.samplerRef ??= new DashboardSampler(this.connection, {
      title: this.options.title ?? 'ZooKeeper',
      readOnly: this.readOnly,
      listLimit: this.listLimit,
      elections: this.options.elections ?? [],
      memberships: this.options.memberships ?? [],
      serviceRegistries: this.options.serviceRegistries ?? [],
      queues: this.options.queues ?? [],
      logs: this.options.logs ?? [],
      storageRoots: this.options.storageRoots ?? [],
      storageWrites: this.storageWrites,
      discoverUnder: this.options.discoverUnder ?? [],
      discoveryIntervalMs: this.options.discoveryIntervalMs ?? 30_000,
      fourLetterWords: this.options.fourLetterWords ?? false,
    });
    return this.samplerRef;
  }

  /** Samples as they are taken (sampling runs while at least one subscriber listens). */
  get snapshots$(): Observable<DashboardSnapshot> {
    return this.stream;
  }

  /** The charts' points so far, oldest first. */
  get points(): readonly HistoryPoint[] {
    return this.history;
  }

  /** The latest sample when it is fresh, else a new one. */
  async snapshot(): Promise<DashboardSnapshot> {
    if (this.latest && Date.now() - this.latest.at < this.sampleIntervalMs) return this.latest;
    return this.record(await this.sampler.sample());
  }

  /**
   * The sample with its point of the charts, built here only: the point goes into the history
   * and out with the sample (`point`), from which the page adds it to its charts.
   */
  private record(sample: DashboardSnapshot): DashboardSnapshot {
    const point: HistoryPoint = { at: sample.at, queues: {}, logs: {} };
    for (const queue of sample.queues) {
      point.queues[queue.path] = {
        items: queue.items,
        messages: queue.messages,
        inFlight: queue.inFlight.length,
        published: queue.publishedPerSecond,
        finished: queue.finishedPerSecond,
      };
    }
    for (const log of sample.logs) {
      const lag: Record<string, number> = {};
      for (const subscriber of log.subscribers) {
        if (subscriber.lag !== undefined) lag[subscriber.id] = subscriber.lag;
      }
      point.logs[log.path] = { rate: log.messagesPerSecond, lag };
    }
    this.history.push(point);
    if (this.history.length > this.historySize) this.history.shift();
    this.latest = { ...sample, point };
    return this.latest;
  }

  private knownQueue(path: string): string {
    if (!this.sampler.queuePaths.includes(path)) {
      throw new InvalidOptionsError(`'${path}' is not a queue shown by the dashboard`);
    }
    return path;
  }

  /** The oldest dead letters of a queue (at most 100), with their messages decoded. */
  async deadLetters(queue: string): Promise<{ total: number; letters: DeadLetterView[] }> {
    const dead = joinPath(this.knownQueue(queue), 'dead');
    const names = (await this.connection.getChildren(dead).catch(whenNoNode<string[]>([]))).sort(
      bySequence,
    );
    const letters = await Promise.all(
      names.slice(0, DEAD_LETTER_PAGE).map((id) => this.deadLetterAt(dead, id)),
    );
    return {
      total: names.length,
      letters: letters.filter((letter): letter is DeadLetterView => letter !== undefined),
    };
  }

  async deadLetter(queue: string, id: string): Promise<DeadLetterView | undefined> {
    checkNodeName(id);
    return this.deadLetterAt(joinPath(this.knownQueue(queue), 'dead'), id);
  }

  private async deadLetterAt(dead: string, id: string): Promise<DeadLetterView | undefined> {
    const path = joinPath(dead, id);
    try {
      const { data } = await this.connection.get(path);
      const [payload, description] = decodeBatch(data, path);
      const metadata = JSON.parse(description?.toString('utf8') ?? '{}') as Omit<
        DeadLetterView,
        'id' | 'message'
      >;
      return { id, message: decodeData(payload, 64 * 1024), ...metadata };
    } catch (error) {
      if (error instanceof NoNodeError) return undefined;
      return { id, message: null, error: `unreadable: ${(error as Error).message}` };
    }
  }

  /** Publishes dead letters again (all when `ids` is omitted); returns how many. */
  async replay(queue: string, ids?: string[]): Promise<number> {
    ids?.forEach(checkNodeName);
    return this.withQueue(queue, (workQueue) => workQueue.replay(ids));
  }

  /** Deletes dead letters for good (all when `ids` is omitted); returns how many. */
  async discard(queue: string, ids?: string[]): Promise<number> {
    ids?.forEach(checkNodeName);
    const chosen =
      ids ??
      (await this.connection
        .getChildren(joinPath(this.knownQueue(queue), 'dead'))
        .catch(whenNoNode<string[]>([])));
    await this.withQueue(queue, (workQueue) => workQueue.discard(chosen));
    return chosen.length;
  }

  /** A queue object of the dashboard's own, so the app's declared queues keep their options. */
  private async withQueue<T>(queue: string, act: (queue: WorkQueue) => Promise<T>): Promise<T> {
    const workQueue = new WorkQueue(this.connection, this.knownQueue(queue));
    try {
      return await act(workQueue);
    } finally {
      await workQueue.close();
    }
  }

  private storagePath(path: string): string {
    validatePath(path, 'dashboard storage');
    const roots = this.options.storageRoots ?? [];
    if (!roots.some((root) => path === root || path.startsWith(root === '/' ? '/' : `${root}/`))) {
      throw new OutsideStorageRootsError(path);
    }
    return path;
  }

  /** The children of a storage node (the first `listLimit` when it has more). */
  async storageChildren(
    path: string,
  ): Promise<{ path: string; total: number; children: { name: string; children: number }[] }> {
    const stat = await this.connection.exists(this.storagePath(path));
    if (!stat) return { path, total: 0, children: [] };
    if (stat.numChildren === 0) return { path, total: 0, children: [] };
    const names = (await this.connection.getChildren(path).catch(whenNoNode<string[]>([])))
      .sort()
      .slice(0, this.listLimit);
    const children = await Promise.all(
      names.map(async (name) => ({
        name,
        children: (await this.connection.exists(joinPath(path, name)))?.numChildren ?? 0,
      })),
    );
    return { path, total: stat.numChildren, children };
  }

  /** A storage node's value (decoded: JSON, text, or a byte count) and metadata. */
  async storageValue(path: string): Promise<
    | {
        path: string;
        value: unknown;
        version: number;
        modifiedAt: number;
        bytes: number;
      }
    | undefined
  > {
    try {
      const { data, stat } = await this.connection.get(this.storagePath(path));
      return {
        path,
        value: decodeData(data, 64 * 1024),
        version: stat.version,
        modifiedAt: stat.mtime.getTime(),
        bytes: data.length,
      };
    } catch (error) {
      if (error instanceof NoNodeError) return undefined;
      throw error;
    }
  }

  /**
   * The storage root holding `path` (the longest one, `path` itself excluded) and its key there.
   * Outside every root: InvalidOptionsError; a root itself: InvalidKeyError.
   */
  private storageKey(path: string): { root: string; key: string } {
    this.storagePath(path);
    const root = (this.options.storageRoots ?? [])
      .filter((root) => path !== root && path.startsWith(root === '/' ? '/' : `${root}/`))
      .sort((a, b) => b.length - a.length)[0];
    if (root === undefined) throw new InvalidKeyError(path, 'a storage root is not a key');
    return { root, key: path.slice(root === '/' ? 1 : root.length + 1) };
  }

  /**
   * Writes a storage key (parents created) through a ZookeeperStorage of its root: JSON, one
   * znode (no chunks). With `expectedVersion`, only if the key is still at that version.
   */
  async setStorageValue(
    path: string,
    value: unknown,
    expectedVersion?: number,
  ): Promise<{ path: string; version: number }> {
    return this.withStorage(path, async (storage, key) => {
      const { version } = await storage.set(key, value, { expectedVersion });
      return { path, version };
    });
  }

  /** Deletes a storage key (not one with child keys), through a ZookeeperStorage of its root. */
  async deleteStorageKey(path: string, expectedVersion?: number): Promise<void> {
    await this.withStorage(path, (storage, key) => storage.delete(key, { expectedVersion }));
  }

  private async withStorage<T>(
    path: string,
    act: (storage: ZookeeperStorage, key: string) => Promise<T>,
  ): Promise<T> {
    const { root, key } = this.storageKey(path);
    const storage = new ZookeeperStorage(this.connection, { root, chunking: false });
    try {
      return await act(storage, key);
    } finally {
      storage.close();
    }
  }

  onModuleDestroy(): void {
    this.history.length = 0;
  }
}

/** A storage path under none of the dashboard's `storageRoots` (answered with 400). */
export class OutsideStorageRootsError extends InvalidOptionsError {
  constructor(path: string) {
    super(`'${path}' is under none of the dashboard's storage roots`);
  }
}

function checkNodeName(id: unknown): void {
  if (typeof id !== 'string' || !/^[A-Za-z0-9._-]{1,200}$/.test(id)) {
    throw new InvalidOptionsError(`not a dead letter id: ${JSON.stringify(id)}`);
  }
}
