import { Observable } from 'rxjs';
import { ConnectionState } from '../connection/connection-state.enum.js';
import { validatePath } from '../connection/paths.js';
import { ZookeeperConnection } from '../connection/zookeeper-connection.js';
import { NodeSnapshot } from './node-watch.js';
import { OneShotTreeSource } from './tree-cache-one-shot.js';
import { PersistentTreeSource } from './tree-cache-persistent.js';
import { TreeCacheEvent, TreeCacheOptions, TreeView } from './tree-view.js';

export type { TreeCacheEvent, TreeCacheOptions } from './tree-view.js';

/**
 * A local copy of the subtree at `rootPath` (data and stat of every node, the root included when
 * it exists), like Curator's CuratorCache. Paths are relative to the connection's namespace.
 *
 * `events$` emits `initialized` once the whole subtree has been read, then `added`, `updated` and
 * `removed` as changes are observed; applying them to the initialized snapshot gives `current()`.
 * A subscriber that arrives after initialization first gets an `initialized` event with the
 * snapshot of that moment, so it can rebuild the same view. `updated` always carries a newer
 * `mzxid` than the node it replaces.
 *
 * The cache converges to the server's exact subtree after every change, reconnect and session
 * expiry (the tree is read again and the differences emitted). Intermediate states may be
 * coalesced, and a node deleted and created again between two reads may appear as `updated`
 * rather than `removed` then `added`. `events$` completes on `close()` or when the connection is
 * closed, and errors (and the cache stops) on failures other than connection problems, such as
 * `NoAuthError` on a node.
 *
 * How it watches depends on the connection's driver, chosen by capability:
 * - `persistentWatches` (the wire driver, ZooKeeper 3.6+): ONE persistent recursive watch on the
 *   root, whatever the size of the subtree; each change costs one read of the changed node, a
 *   reconnect one read of the whole tree. `close()` removes the watch from the server.
 * - otherwise (the native driver): one-shot data and child watches on every node (two server
 *   watches and two reads per node, re-armed after each change), with the guarantees of
 *   {@link watchNode} per node. ZooKeeper cannot remove those watches: after `close()` the last
 *   ones stay registered until they fire or the session ends (a cache started again on the same
 *   connection adopts them instead of adding more; see `watchRegistryStats`).
 */
export class TreeCache {
  readonly events$: Observable<TreeCacheEvent>;
  private readonly view: TreeView;

  constructor(
    private readonly connection: ZookeeperConnection,
    readonly rootPath: string,
    options: TreeCacheOptions = {},
  ) {
    validatePath(rootPath, 'TreeCache');
    this.view = new TreeView(rootPath, options.ignoreChild);
    this.events$ = this.view.events$;
  }

  /** Starts loading; resolves once the subtree is loaded (when `initialized` is emitted). */
  start(): Promise<void> {
    return this.view.start(async () => {
      const persistent = await hasPersistentWatches(this.connection);
      if (this.view.isClosed) return;
      if (persistent === undefined) return void this.view.close();
      const source = persistent
        ? new PersistentTreeSource(this.connection, this.view)
        : new OneShotTreeSource(this.connection, this.view);
      source.start();
    });
  }

  /**
   * Stops watching and completes `events$`; the cache is empty afterwards. Resolves once the
   * persistent watch (if any) is removed from the server.
   */
  close(): Promise<void> {
    return this.view.close();
  }

  /** A copy of the cached nodes by path. */
  current(): ReadonlyMap<string, NodeSnapshot> {
    return this.view.current();
  }

  get(path: string): NodeSnapshot | undefined {
    return this.view.get(path);
  }
}

/**
 * The driver's capability (known once the connection has started); undefined when the connection
 * is closed before it could tell.
 */
async function hasPersistentWatches(connection: ZookeeperConnection): Promise<boolean | undefined> {
  if (connection.state === ConnectionState.CLOSED) return undefined;
  try {
    return connection.capabilities.persistentWatches;
  } catch {
    // The driver loads in connect(): wait for it.
  }
  try {
    await connection.whenConnected();
  } catch {
    return undefined;
  }
  return connection.capabilities.persistentWatches;
}
