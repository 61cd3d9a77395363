import { ZookeeperConnection } from '../connection/zookeeper-connection.js';
import { BroadcastLog, BroadcastLogOptions } from './broadcast/broadcast-log.js';
import { WorkQueue, WorkQueueOptions } from './queue/work-queue.js';

/**
 * The messaging primitives of one connection, injectable per connection
 * (`@InjectMessaging(name?)`): `queue(path)` and `broadcast(topic)` return one instance per path,
 * and every instance is closed on module destroy, before the session closes, so pending batches
 * are flushed and consumers stop in order. Usable without Nest: `new ZookeeperMessaging(connection)`.
 */
export class ZookeeperMessaging {
  private readonly queues = new Map<string, WorkQueue<unknown>>();
  private readonly topics = new Map<string, BroadcastLog<unknown>>();

  constructor(readonly connection: ZookeeperConnection) {}

  /** The work queue at `path` (options apply when it is first asked for). */
  queue<T = unknown>(path: string, options?: WorkQueueOptions): WorkQueue<T> {
    let queue = this.queues.get(path);
    if (!queue) this.queues.set(path, (queue = new WorkQueue(this.connection, path, options)));
    return queue as WorkQueue<T>;
  }

  /** The broadcast log of `topic` (options apply when it is first asked for). */
  broadcast<T = unknown>(topic: string, options?: BroadcastLogOptions): BroadcastLog<T> {
    let log = this.topics.get(topic);
    if (!log) this.topics.set(topic, (log = new BroadcastLog(this.connection, topic, options)));
    return log as BroadcastLog<T>;
  }

  /** Flushes pending batches and stops consumers and subscribers. */
  async close(): Promise<void> {
    const all = [...this.queues.values(), ...this.topics.values()];
    this.queues.clear();
    this.topics.clear();
    await Promise.allSettled(all.map((primitive) => primitive.close()));
  }

  async onModuleDestroy(): Promise<void> {
    await this.close();
  }
}
