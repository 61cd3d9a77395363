import { Observer, Subscription } from 'rxjs';
import { joinPath, nodeName, parentPath } from '../connection/paths.js';
import { ZookeeperConnection } from '../connection/zookeeper-connection.js';
import { ChildrenState, childrenStates, childrenWatchKey } from './children-watch.js';
import { AbsenceMode, NodeSnapshot, nodeStates } from './node-watch.js';
import { TreeView } from './tree-view.js';
import { WatchRegistry } from './watch-registry.js';

interface TrackedNode {
  readonly path: string;
  /** Names of the children being tracked. */
  readonly children: Set<string>;
  readonly subscription: Subscription;
  dataLoaded: boolean;
  childrenLoaded: boolean;
}

/**
 * Feeds a {@link TreeView} from one-shot watches: a data and a child watch loop on every node
 * (shared through the {@link WatchRegistry}), like Curator's CuratorCache. Works on every driver;
 * costs two server watches and two reads per node, and the last watches of each node stay on the
 * server after `stop()` until they fire or the session ends (ZooKeeper cannot remove them).
 */
export class OneShotTreeSource {
  private readonly tracked = new Map<string, TrackedNode>();
  private readonly inbox: Array<() => void> = [];
  private draining = false;
  /** First reads (data and children, two per node) still awaited before `initialized`. */
  private awaitedReads = 0;

  constructor(
    private readonly connection: ZookeeperConnection,
    private readonly view: TreeView,
  ) {}

  start(): void {
    this.view.onStop(async () => this.stop());
    this.enqueue(() => this.track(this.view.rootPath));
  }

  private stop(): void {
    for (const entry of this.tracked.values()) entry.subscription.unsubscribe();
    this.tracked.clear();
    this.inbox.length = 0;
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
    const isRoot = path === this.view.rootPath;
    // Below the root a node exists as long as its parent lists it, so its absence is not watched.
    const absence: AbsenceMode = isRoot ? 'watch-absence' : 'parent-tracks-absence';
    const observer = <T>(handle: (value: T) => void): Observer<T> => ({
      next: (value) =>
        this.enqueue(() => {
          // Queued before the node was untracked (or tracked anew): it belongs to the old entry.
          if (this.tracked.get(path) === entry) handle(value);
        }),
      error: (error: unknown) => this.enqueue(() => this.view.fail(error)),
      complete: () => this.enqueue(() => void this.view.close()),
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
    if (!node && entry.path !== this.view.rootPath) return this.lost(entry);
    if (node) this.view.put(entry.path, node);
    else this.view.remove(entry.path);
    if (!entry.dataLoaded) {
      entry.dataLoaded = true;
      this.awaitedReads--;
    }
  }

  private onChildren(entry: TrackedNode, state: ChildrenState | undefined): void {
    if (!state && entry.path !== this.view.rootPath) return this.lost(entry);
    const names = new Set(state?.names ?? []);
    // New children are tracked before this read is counted, so `initialized` waits for them.
    for (const name of names) {
      if (entry.children.has(name) || this.view.ignores(name)) continue;
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
      parent === this.view.rootPath ? 'watch-absence' : 'parent-tracks-absence';
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
    this.view.remove(entry.path);
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
        if (!this.view.isClosed) next();
      }
    } finally {
      this.draining = false;
    }
    if (!this.view.isClosed && this.awaitedReads === 0) this.view.ready();
  }
}
