import type { SegmentedFolder, SegmentEvent } from '../shared/segmented-folder.js';
import { ZookeeperConnection } from '../../connection/zookeeper-connection.js';
import { Serializer } from '../../codec/serializers.js';

export interface ConsumeOptions {
  /** Items (batches) held and processed at once; also the bound on held locks. Default 1. */
  concurrency?: number;
  /**
   * Idle consumers wait in a line; those in its first `lineFront` places watch the items (see
   * ConsumerLine). Default 2, so one consumer dying silently does not hold up new items; more
   * make each new item wake more consumers. Use one value for all consumers of a queue.
   */
  lineFront?: number;
  /** Failed runs of one message before it moves to the dead letters. Default 5. */
  maxAttempts?: number;
  /** Pause before running a failed message again. Default 100 ms. */
  retryDelayMs?: number;
  /**
   * How often an item's progress is written while its messages succeed (items of several messages
   * only; never before the first). A crash redelivers the messages handled since the last write.
   * Default 100 ms.
   */
  progressIntervalMs?: number;
}

export interface MessageContext {
  /** The item (batch znode) and the message's index in it. */
  readonly item: string;
  /** The item's znode (in one of the queue's `items` segments). */
  readonly path: string;
  readonly index: number;
  /** 1 on the first run, counting the runs of earlier consumers of this item. */
  readonly attempt: number;
}

export type MessageHandler<T> = (message: T, context: MessageContext) => unknown;

export type WorkQueueEvent =
  | { type: 'handler-failed'; item: string; index: number; attempt: number; error: unknown }
  | { type: 'dead-lettered'; item: string; index: number; attempts: number; error: unknown }
  /** The item was left for another consumer (lock lost with the session, or a ZooKeeper error). */
  | { type: 'item-abandoned'; item: string; error?: unknown }
  /**
   * An item that cannot be run as it is (written by someone else): not a decodable batch, no
   * message, another message count than its name says, or a progress record that is not one
   * (`error`: CorruptBatchError or CorruptProgressError). Its raw bytes went to the dead letters
   * (a `wholeItem` letter) and the item was deleted; `kept`: too large for a letter, it was left in
   * place and this consumer skips it from now on.
   */
  | { type: 'item-corrupt'; item: string; error: unknown; kept?: boolean }
  | { type: 'consumer-error'; error: unknown }
  | SegmentEvent;

export interface QueuePaths {
  /** Segment 0 of the items (`items.1`, `items.2`, ... follow it, see SegmentedFolder). */
  items: string;
  locks: string;
  progress: string;
  dead: string;
  /** The line of idle consumers (see ConsumerLine). */
  waiters: string;
}

/** What a consumer did, for tests and metrics. */
export interface ConsumerStats {
  /**
   * Item lists read while active in the line (each arms a children watch): when its copy of the
   * list ran dry after a change, or on becoming active. Not one per item.
   */
  listings: number;
  /** Times this consumer became active (moved into the front of the line of idle consumers). */
  turns: number;
  /** Item lists read (without a watch) while working through a backlog outside the line. */
  backlogChecks: number;
}

/** What a consumer needs from its WorkQueue. */
export interface ConsumerContext {
  readonly connection: ZookeeperConnection;
  readonly paths: QueuePaths;
  readonly segments: SegmentedFolder;
  readonly serializer: Serializer;
  ready(): Promise<void>;
  emit(event: WorkQueueEvent): void;
  /** Called once `stop()` has released everything. */
  stopped(): void;
}
