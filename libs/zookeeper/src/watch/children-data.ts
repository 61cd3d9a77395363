import { distinctUntilChanged, Observable } from 'rxjs';
import { nodeName, parentPath } from '../connection/paths.js';
import { ZookeeperConnection } from '../connection/zookeeper-connection.js';
import { NodeSnapshot } from './node-watch.js';
import { TreeCache } from './tree-cache.js';

/**
 * The direct children of `path` with their data, by name: the current set once read, then a new
 * map after each observed change of membership or of a child's data. `{}` while `path` is missing.
 *
 * Built on the watch layer's TreeCache, so its guarantees hold: convergence to the server's state
 * after every change, reconnect and session expiry; changes may be coalesced, never reordered.
 * A subscriber gets its own cache; the underlying reads and watches are shared per connection.
 */
export function watchChildrenData(
  connection: ZookeeperConnection,
  path: string,
): Observable<ReadonlyMap<string, NodeSnapshot>> {
  return new Observable<ReadonlyMap<string, NodeSnapshot>>((subscriber) => {
    const cache = new TreeCache(connection, path);
    const emit = () => {
      const children = new Map<string, NodeSnapshot>();
      for (const [childPath, node] of cache.current()) {
        if (childPath !== path && parentPath(childPath) === path)
          children.set(nodeName(childPath), node);
      }
      subscriber.next(children);
    };
    const subscription = cache.events$.subscribe({
      next: (event) => {
        if (event.type === 'initialized' || parentPath(event.path) === path) emit();
      },
      error: (error: unknown) => subscriber.error(error),
      complete: () => subscriber.complete(),
    });
    // Failures also reach events$, which ends this Observable with them.
    cache.start().catch(() => undefined);
    return () => {
      subscription.unsubscribe();
      void cache.close();
    };
  }).pipe(distinctUntilChanged(sameChildren));
}

function sameChildren(
  a: ReadonlyMap<string, NodeSnapshot>,
  b: ReadonlyMap<string, NodeSnapshot>,
): boolean {
  if (a.size !== b.size) return false;
  for (const [name, node] of a) {
    if (b.get(name)?.stat.mzxid !== node.stat.mzxid) return false;
  }
  return true;
}
