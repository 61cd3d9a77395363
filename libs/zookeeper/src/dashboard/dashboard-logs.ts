import { joinPath } from '../connection/paths.js';
import { ZookeeperConnection } from '../connection/zookeeper-connection.js';
import { messageOffset, parseOffset } from '../messaging/broadcast/offsets.js';
import { parseSegmentEntries } from '../messaging/shared/entry-names.js';
import { whenNoNode } from '../internal/no-node.js';
import { inBatches, newestSegment, round } from './dashboard-reads.js';
import { LogView, SubscriberView } from './dashboard-snapshot.js';

/** Samples broadcast logs: entries, offsets, rate since the last sample, subscribers' lag. */
export class LogSampler {
  private readonly counters = new Map<string, { at: number; lastSequence: number }>();
  private readonly listings = new Map<string, number>();

  constructor(
    private readonly connection: ZookeeperConnection,
    private readonly listLimit: number,
  ) {}

  async sample(path: string): Promise<LogView> {
    const { folder: logPath, index } = await newestSegment(this.connection, path, 'log');
    const [stat, clients, offsetNames] = await Promise.all([
      this.connection.exists(logPath),
      this.connection.exists(joinPath(path, 'clients')),
      this.connection.getChildren(joinPath(path, 'offsets')).catch(whenNoNode<string[]>([])),
    ]);
    const now = Date.now();
    const entriesCount = stat?.numChildren ?? 0;
    const listings = (this.listings.get(path) ?? 0) + 1;
    this.listings.set(path, listings);
    const listed =
      stat && (entriesCount <= this.listLimit || listings % 10 === 1)
        ? parseSegmentEntries(
            await this.connection.getChildren(logPath).catch(whenNoNode<string[]>([])),
            logPath,
            index,
          )
        : undefined;
    const offsetsPath = joinPath(path, 'offsets');
    const subscribers: SubscriberView[] = (
      await inBatches(offsetNames.slice(0, this.listLimit).sort(), async (id) => {
        const path = joinPath(offsetsPath, id);
        const data = await this.connection
          .get(path)
          .then(({ data }) => data)
          .catch(whenNoNode<Buffer | undefined>(undefined));
        try {
          return data ? { id, committedOffset: parseOffset(data, path) } : undefined;
        } catch {
          return undefined; // corrupt offsets are the log's own events to report
        }
      })
    ).filter((subscriber): subscriber is SubscriberView => subscriber !== undefined);
    const view: LogView = {
      path,
      entries: listed?.length ?? entriesCount,
      messagesPerSecond: 0,
      clients: clients?.numChildren ?? 0,
      subscribers,
    };
    if (listed) {
      const first = listed[0];
      const last = listed.at(-1);
      view.messages = listed.reduce((sum, entry) => sum + entry.count, 0);
      view.firstOffset = first && messageOffset(first.sequence, 0);
      view.lastOffset = last && messageOffset(last.sequence, last.count - 1);
      const before = this.counters.get(path);
      const lastSequence = last?.sequence ?? before?.lastSequence ?? -1;
      if (before) {
        const fresh = listed
          .filter((entry) => entry.sequence > before.lastSequence)
          .reduce((sum, entry) => sum + entry.count, 0);
        view.messagesPerSecond = round(fresh / Math.max((now - before.at) / 1000, 0.001));
      }
      this.counters.set(path, { at: now, lastSequence });
      for (const subscriber of subscribers) {
        subscriber.lag = listed.reduce((sum, entry) => {
          const first = messageOffset(entry.sequence, 0);
          const after = first + entry.count - 1 - subscriber.committedOffset;
          return sum + Math.max(0, Math.min(entry.count, after));
        }, 0);
      }
    }
    return view;
  }
}
