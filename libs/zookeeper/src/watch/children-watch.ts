import { map, Observable } from 'rxjs';
import { validatePath } from '../connection/paths.js';
import { ZookeeperConnection } from '../connection/zookeeper-connection.js';
import { AbsenceMode, readWatched } from './node-watch.js';
import { WatchArming } from './watch-loop.js';
import { WatchRegistry, WatchSpec } from './watch-registry.js';

/** The children of an existing node, sorted, with the zxid of their last change. */
export interface ChildrenState {
  readonly names: readonly string[];
  readonly pzxid: number;
}

/**
 * `changes`: a read that finds the same names as the last one is not emitted.
 * `every-read`: every read is emitted (the tree cache asks for a re-read when it suspects a child
 * was deleted and created again, and needs the answer even if the names did not change).
 */
export type ChildrenEmission = 'changes' | 'every-read';

/**
 * The sorted names of the children of `path`: the current list on subscribe, then the list after
 * each membership change observed; `[]` while the node does not exist (its creation is watched,
 * and its children from then on).
 *
 * The guarantees of {@link watchNode} apply, ordered by the parent's `stat.pzxid`: never an older
 * list after a newer one, no two equal lists in a row, convergence to the current list after
 * reconnects and session expiry, one shared read loop with at most one pending watch of each kind
 * (child and, while the parent is missing, data) per path, completion only on connection close.
 * Intermediate memberships may be coalesced: a child created and deleted between two reads is
 * never seen.
 */
export function watchChildren(connection: ZookeeperConnection, path: string): Observable<string[]> {
  validatePath(path, 'watchChildren');
  return childrenStates(connection, path, 'watch-absence', 'changes').pipe(
    map((state) => [...(state?.names ?? [])]),
  );
}

export function childrenStates(
  connection: ZookeeperConnection,
  path: string,
  absence: AbsenceMode,
  emission: ChildrenEmission,
): Observable<ChildrenState | undefined> {
  const spec: WatchSpec<ChildrenState | undefined> = {
    key: childrenWatchKey(path, absence, emission),
    read: (arming) => readChildren(connection, path, absence, arming),
    order: (state) => state?.pzxid,
    same:
      emission === 'every-read'
        ? () => false
        : (current, next) => sameNames(current?.names ?? [], next?.names ?? []),
  };
  return WatchRegistry.of(connection).observe(spec);
}

export function childrenWatchKey(
  path: string,
  absence: AbsenceMode,
  emission: ChildrenEmission,
): string {
  return `children:${absence}:${emission}:${path}`;
}

async function readChildren(
  connection: ZookeeperConnection,
  path: string,
  absence: AbsenceMode,
  arming: WatchArming,
): Promise<ChildrenState | undefined> {
  const listing = await readWatched(connection, path, absence, arming, 'children', (watch) =>
    connection.getChildrenWithStat(path, { watch }),
  );
  return listing && { names: [...listing.children].sort(), pzxid: listing.stat.pzxid };
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((name, index) => name === b[index]);
}
