import { segmentIndices } from '../messaging/shared/segmented-folder.js';
import { joinPath } from '../connection/paths.js';
import { ZookeeperConnection } from '../connection/zookeeper-connection.js';
import { whenNoNode } from '../internal/no-node.js';
import { inBatches } from './dashboard-reads.js';

/** What discovery found so far, by kind. */
export interface Discovered {
  elections: Set<string>;
  memberships: Set<string>;
  queues: Set<string>;
  logs: Set<string>;
}

/** Finds queues (items/, dead/), logs (log/, offsets/), elections and groups under the roots. */
export async function discover(
  connection: ZookeeperConnection,
  roots: readonly string[],
  listLimit: number,
  discovered: Discovered,
): Promise<void> {
  const visit = async (path: string, depth: number): Promise<void> => {
    const stat = await connection.exists(path);
    if (!stat || stat.numChildren === 0 || stat.numChildren > listLimit) return;
    const children = await connection.getChildren(path).catch(whenNoNode<string[]>([]));
    const has = (name: string) => children.includes(name);
    // Segment 0 of items/ or log/ goes once a later one took over (see SegmentedFolder).
    const hasSegments = (base: string) => segmentIndices(base, children).length > 0;
    if (hasSegments('items') && has('dead') && has('locks'))
      return void discovered.queues.add(path);
    if (hasSegments('log') && has('offsets')) return void discovered.logs.add(path);
    if (children.some((name) => /latch-\d{10}$/.test(name))) {
      return void discovered.elections.add(path);
    }
    if (children.some((name) => /member-\d{10}$/.test(name))) {
      return void discovered.memberships.add(path);
    }
    if (depth === 0) return;
    await inBatches(children, (name) => visit(joinPath(path, name), depth - 1));
  };
  for (const root of roots) await visit(root, 3);
}
