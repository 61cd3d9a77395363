import { joinPath } from '../connection/paths.js';
import { ZookeeperConnection } from '../connection/zookeeper-connection.js';
import { parseSegmentEntries } from '../messaging/shared/entry-names.js';
import { whenNoNode } from '../internal/no-node.js';
import { DashboardNodes, inBatches, newestSegment, round } from './dashboard-reads.js';
import { QueueView } from './dashboard-snapshot.js';

interface QueueCounters {
  at: number;
  /** Item names seen in the last listing with their message counts. */
  names?: Map<string, number>;
  created: number;
  deleted: number;
}

/** Samples work queues: backlog, items in flight, dead letters and rates since the last sample. */
export class QueueSampler {
  private readonly counters = new Map<string, QueueCounters>();

  constructor(
    private readonly connection: ZookeeperConnection,
    private readonly nodes: DashboardNodes,
    private readonly listLimit: number,
  ) {}

  async sample(path: string): Promise<QueueView> {
    const { folder: itemsPath, index } = await newestSegment(this.connection, path, 'items');
    const [items, locks, dead] = await Promise.all([
      this.connection.exists(itemsPath),
      this.connection.exists(joinPath(path, 'locks')),
      this.connection.exists(joinPath(path, 'dead')),
    ]);
    const now = Date.now();
    const count = items?.numChildren ?? 0;
    // Every create and delete of a child bumps cversion: creates = (cversion + children) / 2.
    const created = ((items?.cversion ?? 0) + count) / 2;
    const deleted = ((items?.cversion ?? 0) - count) / 2;
    let names: Map<string, number> | undefined;
    if (items && count <= this.listLimit) {
      const listed = await this.connection.getChildren(itemsPath).catch(whenNoNode<string[]>([]));
      names = new Map(
        parseSegmentEntries(listed, itemsPath, index).map((entry) => [entry.name, entry.count]),
      );
    }
    const before = this.counters.get(path);
    let publishedPerSecond = 0;
    let finishedPerSecond = 0;
    if (before) {
      const seconds = Math.max((now - before.at) / 1000, 0.001);
      if (names && before.names) {
        let published = 0;
        let finished = 0;
        for (const [name, n] of names) if (!before.names.has(name)) published += n;
        for (const [name, n] of before.names) if (!names.has(name)) finished += n;
        publishedPerSecond = published / seconds;
        finishedPerSecond = finished / seconds;
      } else {
        publishedPerSecond = Math.max(0, created - before.created) / seconds;
        finishedPerSecond = Math.max(0, deleted - before.deleted) / seconds;
      }
    }
    this.counters.set(path, { at: now, names, created, deleted });
    let inFlight: QueueView['inFlight'] = [];
    if (locks && locks.numChildren > 0 && locks.numChildren <= this.listLimit) {
      const locksPath = joinPath(path, 'locks');
      const held = await this.connection.getChildren(locksPath).catch(whenNoNode<string[]>([]));
      this.nodes.forgetUnder(locksPath, held);
      inFlight = (
        await inBatches(held.sort(), async (item) => {
          const info = await this.nodes.read(joinPath(locksPath, item));
          return info && { item, session: info.session, since: info.since };
        })
      ).filter((entry): entry is QueueView['inFlight'][number] => entry !== undefined);
    }
    return {
      path,
      items: count,
      messages: names ? [...names.values()].reduce((sum, n) => sum + n, 0) : undefined,
      inFlight,
      deadLetters: dead?.numChildren ?? 0,
      publishedPerSecond: round(publishedPerSecond),
      finishedPerSecond: round(finishedPerSecond),
    };
  }
}
