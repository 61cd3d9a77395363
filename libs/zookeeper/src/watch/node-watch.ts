import { Observable } from 'rxjs';
import { validatePath } from '../connection/paths.js';
import { ZookeeperConnection } from '../connection/zookeeper-connection.js';
import { WatchKind } from '../connection/one-shot-watches.js';
import { Stat, Watcher } from '../connection/zookeeper-types.js';
import { NoNodeError } from '../errors/zookeeper-errors.js';
import { WatchArming } from './watch-loop.js';
import { WatchRegistry, WatchSpec } from './watch-registry.js';

/** A znode as read: its path (relative to the connection's namespace), data and stat. */
export interface NodeSnapshot {
  readonly path: string;
  /** Shared by every subscriber of the same path: treat it as read-only. */
  readonly data: Buffer;
  readonly stat: Stat;
}

/**
 * The data of the znode at `path`: the current state on subscribe (undefined while the node does
 * not exist), then each change observed.
 *
 * Guaranteed:
 * - States arrive in the order the server applied them, never an older one after a newer one
 *   (ordered by `stat.mzxid`; a node deleted and created again is newer than before), and the
 *   same state is not emitted twice in a row.
 * - Every subscriber converges to the latest state: after each change, after a reconnect
 *   (the node is read again on RECONNECTED) and after a session expiry (the lost watch is
 *   replaced on the next CONNECTED, after a `sync` so the new session cannot read an older view).
 * - All subscribers on one connection share one read loop and at most one pending ZooKeeper watch
 *   for the path; a late subscriber gets the latest state at once. The loop stops when the last
 *   subscriber leaves; its pending watch is dropped when it fires (ZooKeeper cannot remove it).
 * - Completes only when the connection is closed; errors with `AuthFailedError` when the server
 *   rejects the credentials; other failures (e.g. `NoAuthError`) end the Observable with that
 *   error. Connection loss and session expiry are not errors: the loop waits and reads again.
 *
 * Not guaranteed: every intermediate state. Watches are one-shot, so changes made between a
 * notification and the next read are coalesced into the latest one, and while the connection is
 * suspended or the session is being replaced nothing is emitted: a node changed and deleted (or
 * deleted and created) during a partition may show up only as its final state.
 */
export function watchNode(
  connection: ZookeeperConnection,
  path: string,
): Observable<NodeSnapshot | undefined> {
  validatePath(path, 'watchNode');
  return nodeStates(connection, path, 'watch-absence');
}

/**
 * `watch-absence`: a missing node is watched with `exists`, so its creation is seen.
 * `parent-tracks-absence`: a missing node is reported once and not watched; the caller (the
 * tree cache) learns of its re-creation from the parent's children, and leaves no exists watch
 * behind on deleted paths that will never be created again.
 */
export type AbsenceMode = 'watch-absence' | 'parent-tracks-absence';

export function nodeStates(
  connection: ZookeeperConnection,
  path: string,
  absence: AbsenceMode,
): Observable<NodeSnapshot | undefined> {
  const spec: WatchSpec<NodeSnapshot | undefined> = {
    key: `node:${absence}:${path}`,
    read: (arming) => readNode(connection, path, absence, arming),
    order: (node) => node?.stat.mzxid,
    same: (current, next) =>
      current === undefined ? next === undefined : current.stat.mzxid === next?.stat.mzxid,
  };
  return WatchRegistry.of(connection).observe(spec);
}

async function readNode(
  connection: ZookeeperConnection,
  path: string,
  absence: AbsenceMode,
  arming: WatchArming,
): Promise<NodeSnapshot | undefined> {
  const node = await readWatched(connection, path, absence, arming, 'data', (watch) =>
    connection.get(path, { watch }),
  );
  return node && { path, data: node.data, stat: node.stat };
}

/**
 * One read of `path` that leaves a watch of `kind` behind. A missing node leaves none (the server
 * sets no watch on a failed get or getChildren): its creation is watched with exists instead,
 * which may find the node created since, and then read it again. Undefined while it is absent.
 */
export async function readWatched<T>(
  connection: ZookeeperConnection,
  path: string,
  absence: AbsenceMode,
  arming: WatchArming,
  kind: WatchKind,
  read: (watch: Watcher | undefined) => Promise<T>,
): Promise<T | undefined> {
  for (;;) {
    try {
      return await arming.request(kind, read);
    } catch (error) {
      if (!(error instanceof NoNodeError)) throw error;
    }
    if (absence === 'parent-tracks-absence') return undefined;
    const stat = await arming.request('data', (watch) => connection.exists(path, { watch }));
    if (!stat) return undefined;
  }
}
