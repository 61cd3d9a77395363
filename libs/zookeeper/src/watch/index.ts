import { ZookeeperConnection } from '../connection/zookeeper-connection.js';
import { WatchRegistry, WatchRegistryStats } from './watch-registry.js';

export { watchChildrenData } from './children-data.js';
export { followChildNames } from './child-names.js';
export { watchChildren } from './children-watch.js';
export { type NodeSnapshot, watchNode } from './node-watch.js';
export { TreeCache, type TreeCacheEvent, type TreeCacheOptions } from './tree-cache.js';
export type { WatchRegistryStats } from './watch-registry.js';

/**
 * Read loops the watch layer runs for `connection`: active ones (with subscribers) plus parked
 * ones still holding a one-shot watch. 0 once every subscriber left and those watches fired.
 */
export function activeWatchCount(connection: ZookeeperConnection): number {
  const stats = WatchRegistry.statsOf(connection);
  return stats.activeLoops + stats.parkedLoops;
}

/** The watch layer's bookkeeping for `connection`, for leak checks and diagnostics. */
export function watchRegistryStats(connection: ZookeeperConnection): WatchRegistryStats {
  return WatchRegistry.statsOf(connection);
}
