import { Observable } from 'rxjs';
import { Transaction } from '../../connection/transaction.js';
import { ZookeeperConnection } from '../../connection/zookeeper-connection.js';
import { Serializer } from '../../codec/serializers.js';
import { WrittenBatch } from '../shared/batch-appender.js';
import { SegmentedFolder } from '../shared/segmented-folder.js';

/**
 * Makes a transaction conditional on the caller's right to write, e.g. a LeaderElection
 * (`election.fenced(tx)` adds a check of the leader's own node).
 */
export interface TransactionFence {
  fenced(tx: Transaction): Transaction;
  /** Whether a failure of a fenced transaction means the right to write is gone. */
  isDeposed?(error: unknown): boolean;
}

/** A folder of batch znodes to relay from: a WorkQueue (its `items/` segments). */
export interface RelaySource {
  readonly connection: ZookeeperConnection;
  readonly segments: SegmentedFolder;
  /**
   * The batches this process appends to the source, as they are written (a WorkQueue's): the
   * relay takes them at once, with their bytes (see OwnBatches). Without it, every batch is
   * learned from the source's children watch and read.
   */
  readonly writtenBatches$?: Observable<WrittenBatch>;
  /** How the source stores a message (LogRelay.append encodes with it). Default JSON. */
  readonly serializer?: Serializer;
}

export type LogRelayEvent =
  /** One transaction: `items` source batches became the log batch `entry` of `messages`. */
  | { type: 'relayed'; items: number; messages: number; entry: string }
  /** The fence refused a step (no longer leading): nothing was written; tried again later. */
  | { type: 'deposed'; error: unknown }
  /** A step failed (nothing, or everything, of it applied); the relay reads again and goes on. */
  | { type: 'relay-failed'; error: unknown }
  /** One source batch is above `maxBatchBytes` once mapped: it stays in the source. */
  | { type: 'item-too-large'; item: string; bytes: number }
  /**
   * A source batch that is a publisher's retried copy of one already relayed (see
   * RelayedCreates): deleted without being appended.
   */
  | { type: 'duplicate-dropped'; item: string };

/** What a relay needs from its BroadcastLog. */
export interface RelayTarget {
  readonly log: SegmentedFolder;
  readonly maxBatchBytes: number;
  /** Maps one source payload to the log's payload. */
  readonly transform: (payload: Buffer) => Buffer;
  readonly fence: TransactionFence;
  /** Steps start at least this long apart (RelayOptions.lingerMs). */
  readonly lingerMs: number;
  ready(): Promise<void>;
  appended(): void;
}
