import { ZookeeperConnection } from '../connection/zookeeper-connection.js';
import { Registrations } from '../internal/registrations.js';
import { BroadcastLog, BroadcastLogOptions } from './broadcast/broadcast-log.js';
import { WorkQueue, WorkQueueOptions } from './queue/work-queue.js';

/**
 * The messaging primitives of one connection, injectable per connection
 * (`@InjectMessaging(name?)`): `queue(path)` and `broadcast(topic)` return one instance per path
 * (its options declared once, by the first request), and every instance is closed on module
 * destroy, before the session closes, so pending batches are flushed and consumers stop in order.
 * Usable without Nest: `new ZookeeperMessaging(connection)`.
 */
export class ZookeeperMessaging {
  private readonly queues = new Registrations<WorkQueue<unknown>>('work queue');
  private readonly topics = new Registrations<BroadcastLog<unknown>>('broadcast log');

  constructor(readonly connection: ZookeeperConnection) {}

  /**
   * The work queue at `path`, created with `options` on the first request. Later requests may
   * leave the options out; different options throw a RegistrationConflictError.
   */
  queue<T = unknown>(path: string, options?: WorkQueueOptions): WorkQueue<T> {
    return this.queues.get(
      path,
      options,
      () => new WorkQueue(this.connection, path, options),
    ) as WorkQueue<T>;
  }

  /**
   * The broadcast log of `topic`, created with `options` on the first request. Later requests may
   * leave the options out; different options throw a RegistrationConflictError.
   */
  broadcast<T = unknown>(topic: string, options?: BroadcastLogOptions): BroadcastLog<T> {
    return this.topics.get(
      topic,
      options,
      () => new BroadcastLog(this.connection, topic, options),
    ) as BroadcastLog<T>;
  }

  /** Flushes pending batches and stops consumers and subscribers. */
  async close(): Promise<void> {
    const all = [...this.queues.drain(), ...this.topics.drain()];
    await Promise.allSettled(all.map((primitive) => primitive.close()));
  }

  async onModuleDestroy(): Promise<void> {
    await this.close();
  }
}
