import { defer, Observable, Observer, startWith, Subject, Subscription } from 'rxjs';
import { joinPath, nodeName, parentPath, validatePath } from '../connection/paths.js';
import { ZookeeperConnection } from '../connection/zookeeper-connection.js';
import { ChildrenState, childrenStates, childrenWatchKey } from './children-watch.js';
import { AbsenceMode, NodeSnapshot, nodeStates } from './node-watch.js';
import { WatchRegistry } from './watch-registry.js';

export type TreeCacheEvent =
  | { readonly type: 'initialized'; readonly snapshot: ReadonlyMap<string, NodeSnapshot> }
  /** For 'removed', `node` is the last state the cache held. */
  | {
      readonly type: 'added' | 'updated' | 'removed';
      readonly path: string;
      readonly node: NodeSnapshot;
    };

export interface TreeCacheOptions {
  /** Child names whose subtrees are neither read nor watched (e.g. bookkeeping nodes). */
  ignoreChild?: (name: string) => boolean;
}

interface StartSettlement {
  resolve(): void;
  reject(error: unknown): void;
}

interface TrackedNode {
  readonly path: string;
  /** Names of the children being tracked. */
  readonly children: Set<string>;
  readonly subscription: Subscription;
  node?: NodeSnapshot;
  dataLoaded: boolean;
  childrenLoaded: boolean;
}

/**
 * A local copy of the subtree at `rootPath` (data and stat of every node, the root included when
 * it exists), kept up to date with one-shot data and child watches on every node, like Curator's
 * CuratorCache. Paths are relative to the connection's namespace.
 *
 * `events$` emits `initialized` once the whole subtree has been read, then `added`, `updated` and
 * `removed` as changes are observed; applying them to the initialized snapshot gives `current()`.
 * A subscriber that arrives after initialization first gets an `initialized` event with the
 * snapshot of that moment, so it can rebuild the same view. `updated` always carries a newer
 * `mzxid` than the node it replaces.
 *
 * The cache converges to the server's exact subtree after every change, reconnect and session
 * expiry (each node is read again and the differences emitted). The guarantees and limits of
 * {@link watchNode} apply per node: intermediate states may be coalesced, and a node deleted and
 * created again between two reads may appear as `updated` rather than `removed` then `added`.
 * `events$` completes on `close()` or when the connection is closed, and errors (and the cache
 * stops) on failures other than connection problems, such as `NoAuthError` on a node.
 *
 * ZooKeeper cannot remove a watch: after `close()` the last data and child watch of each node stay
 * registered until they fire or the session ends (a cache started again on the same connection
 * adopts them instead of adding more; see `watchRegistryStats`).
 */
export class TreeCache {
  readonly events$: Observable<TreeCacheEvent>;
  private readonly events = new Subject<TreeCacheEvent>();
  private readonly tracked = new Map<string, TrackedNode>();
  private readonly nodes = new Map<string, NodeSnapshot>();
  private readonly inbox: Array<() => void> = [];
  private draining = false;
  private phase: 'new' | 'loading' | 'ready' | 'closed' = 'new';
  /** First reads (data and children, two per node) still awaited before `initialized`. */
  private awaitedReads = 0;
  private started?: Promise<void>;
  private settleStart?: StartSettlement;

  constructor(
    private readonly connection: ZookeeperConnection,
    readonly rootPath: string,
    private readonly options: TreeCacheOptions = {},
  ) {
    validatePath(rootPath, 'TreeCache');
    this.events$ = defer(() =>
      this.phase === 'ready'
        ? this.events.pipe(startWith(initialized(this.nodes)))
        : this.events.asObservable(),
    );
  }

  /** Starts loading; resolves once the subtree is loaded (when `initialized` is emitted). */
  start(): Promise<void> {
    this.started ??= new Promise<void>((resolve, reject) => {
      if (this.phase === 'closed') return resolve();
      this.settleStart = { resolve, reject };
      this.phase = 'loading';
      this.enqueue(() => this.track(this.rootPath));
    });
    // The failure also reaches events$; a caller that does not await start() must not crash.
    this.started.catch(() => undefined);
    return this.started;
  }

  /** Stops watching and completes `events$`; the cache is empty afterwards. */
  close(): void {
    this.shutDown((settle) => {
      settle?.resolve();
      this.events.complete();
    });
  }

  /** A copy of the cached nodes by path. */
  current(): ReadonlyMap<string, NodeSnapshot> {
    return new Map(this.nodes);
  }

  get(path: string): NodeSnapshot | undefined {
    return this.nodes.get(path);
  }

  private track(path: string): void {
    const entry: TrackedNode = {
      path,
      children: new Set(),
      subscription: new Subscription(),
      dataLoaded: false,
      childrenLoaded: false,
    };
    this.tracked.set(path, entry);
    this.awaitedReads += 2;
    const isRoot = path === this.rootPath;
    // Below the root a node exists as long as its parent lists it, so its absence is not watched.
    const absence: AbsenceMode = isRoot ? 'watch-absence' : 'parent-tracks-absence';
    const observer = <T>(handle: (value: T) => void): Observer<T> => ({
      next: (value) =>
        this.enqueue(() => {
          // Queued before the node was untracked (or tracked anew): it belongs to the old entry.
          if (this.tracked.get(path) === entry) handle(value);
        }),
      error: (error: unknown) => this.enqueue(() => this.fail(error)),
      complete: () => this.enqueue(() => this.close()),
    });
    entry.subscription.add(
      nodeStates(this.connection, path, absence).subscribe(
        observer((node) => this.onData(entry, node)),
      ),
    );
    entry.subscription.add(
      childrenStates(this.connection, path, absence, 'every-read').subscribe(
        observer((state) => this.onChildren(entry, state)),
      ),
    );
  }

  private onData(entry: TrackedNode, node: NodeSnapshot | undefined): void {
    if (!node && entry.path !== this.rootPath) return this.lost(entry);
    const previous = entry.node;
    if (!node) {
      entry.node = undefined;
      this.nodes.delete(entry.path);
      if (previous) this.emit('removed', entry.path, previous);
    } else if (!previous || node.stat.mzxid > previous.stat.mzxid) {
      entry.node = node;
      this.nodes.set(entry.path, node);
      this.emit(previous ? 'updated' : 'added', entry.path, node);
    }
    if (!entry.dataLoaded) {
      entry.dataLoaded = true;
      this.awaitedReads--;
    }
  }

  private onChildren(entry: TrackedNode, state: ChildrenState | undefined): void {
    if (!state && entry.path !== this.rootPath) return this.lost(entry);
    const names = new Set(state?.names ?? []);
    // New children are tracked before this read is counted, so `initialized` waits for them.
    for (const name of names) {
      if (entry.children.has(name) || this.options.ignoreChild?.(name)) continue;
      entry.children.add(name);
      this.track(joinPath(entry.path, name));
    }
    for (const name of [...entry.children]) {
      const child = this.tracked.get(joinPath(entry.path, name));
      if (!names.has(name) && child) this.untrack(child);
    }
    if (!entry.childrenLoaded) {
      entry.childrenLoaded = true;
      this.awaitedReads--;
    }
  }

  /**
   * A node below the root was found missing. Its parent may still list it if it was created
   * again meanwhile, so the parent is read again and tracks it anew if so.
   */
  private lost(entry: TrackedNode): void {
    this.untrack(entry);
    const parent = parentPath(entry.path);
    const absence: AbsenceMode =
      parent === this.rootPath ? 'watch-absence' : 'parent-tracks-absence';
    WatchRegistry.of(this.connection).refresh(childrenWatchKey(parent, absence, 'every-read'));
  }

  private untrack(entry: TrackedNode): void {
    for (const name of [...entry.children]) {
      const child = this.tracked.get(joinPath(entry.path, name));
      if (child) this.untrack(child);
    }
    entry.subscription.unsubscribe();
    this.tracked.delete(entry.path);
    this.tracked.get(parentPath(entry.path))?.children.delete(nodeName(entry.path));
    this.awaitedReads -= (entry.dataLoaded ? 0 : 1) + (entry.childrenLoaded ? 0 : 1);
    if (entry.node) {
      this.nodes.delete(entry.path);
      this.emit('removed', entry.path, entry.node);
    }
  }

  private emit(type: 'added' | 'updated' | 'removed', path: string, node: NodeSnapshot): void {
    if (this.phase === 'ready') this.events.next({ type, path, node });
  }

  private fail(error: unknown): void {
    this.shutDown((settle) => {
      settle?.reject(error);
      this.events.error(error);
    });
  }

  private shutDown(finish: (settleStart: StartSettlement | undefined) => void): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    for (const entry of this.tracked.values()) entry.subscription.unsubscribe();
    this.tracked.clear();
    this.nodes.clear();
    this.inbox.length = 0;
    const settle = this.settleStart;
    this.settleStart = undefined;
    finish(settle);
  }

  /**
   * Emissions are handled one at a time: subscribing to a child replays its state synchronously,
   * which must not interleave with the handling of the parent's list that caused it.
   */
  private enqueue(task: () => void): void {
    this.inbox.push(task);
    if (this.draining) return;
    this.draining = true;
    try {
      for (let next = this.inbox.shift(); next; next = this.inbox.shift()) {
        if (this.phase !== 'closed') next();
      }
    } finally {
      this.draining = false;
    }
    if (this.phase === 'loading' && this.awaitedReads === 0) {
      this.phase = 'ready';
      this.settleStart?.resolve();
      this.settleStart = undefined;
      this.events.next(initialized(this.nodes));
    }
  }
}

function initialized(nodes: ReadonlyMap<string, NodeSnapshot>): TreeCacheEvent {
  return { type: 'initialized', snapshot: new Map(nodes) };
}
