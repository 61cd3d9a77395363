import { Observable, Subject } from 'rxjs';
import { joinPath, validatePath } from '../../connection/paths.js';
import { ZookeeperConnection } from '../../connection/zookeeper-connection.js';
import { CapabilityMissingError } from '../../errors/driver-errors.js';
import { InvalidOptionsError } from '../../errors/library-errors.js';
import { NoNodeError } from '../../errors/zookeeper-errors.js';
import { RetryableOnce } from '../../internal/retryable-once.js';
import * as check from '../../internal/option-checks.js';
import { BatchAppender, BatchAppenderOptions } from '../shared/batch-appender.js';
import { isSafeNodeName, SEQUENCE_STRIDE } from '../shared/entry-names.js';
import { MAX_ROLLOVER_AT, SegmentedFolder, SegmentEvent } from '../shared/segmented-folder.js';
import { DEFAULT_MAX_BATCH_BYTES, MAX_BATCH_MESSAGES } from '../shared/message-batch.js';
import { LogSubscription } from './broadcast-subscriber.js';
import { BroadcastDelivery, SubscribeOptions } from './subscription-types.js';
import { LogRelay, RelaySource, TransactionFence } from './log-relay.js';
import { lastOffsetOf, messageOffset } from './offsets.js';
import {
  compactLog,
  readCommitted,
  CompactResult,
  RetentionEvent,
  RetentionOptions,
  TopicPaths,
} from './retention.js';

/** Segments a log's offsets can address: `sequence * 100000 + index` stays a safe integer. */
export const MAX_LOG_SEGMENTS = Math.floor(
  Number.MAX_SAFE_INTEGER / (SEQUENCE_STRIDE * MAX_BATCH_MESSAGES),
);

export interface BroadcastLogOptions extends BatchAppenderOptions {
  /** How often a subscription writes its acked offset to ZooKeeper. Default 200 ms. */
  commitIntervalMs?: number;
  retention?: RetentionOptions;
}

export interface RelayOptions<T> {
  /** Makes each relay step conditional, e.g. a LeaderElection (its node is checked). */
  fence: TransactionFence;
  /**
   * Turns one source payload into the message to append (then serialized by this log's
   * serializer). Default: the payload's bytes as they are (both sides share a serializer).
   */
  map?: (payload: Buffer) => T;
  /** Upper bound of one relayed log batch. Default: this log's `maxBatchBytes`. */
  maxBatchBytes?: number;
  /**
   * Relay steps start at least this long apart. After a quiet spell a step goes at once; under
   * load, what comes within the interval (direct appends, queue batches) shares one step: fewer,
   * bigger log batches, so fewer server writes and subscriber reads per message, for up to
   * `lingerMs` more latency. Default 0 (each step as soon as the previous one ended).
   */
  lingerMs?: number;
}

/** What a log holds at one moment (after retention). */
export interface LogStats {
  /** Batch znodes. */
  entries: number;
  messages: number;
  /** Offsets of the first and last message held; undefined when the log is empty. */
  firstOffset?: number;
  lastOffset?: number;
}

export type BroadcastLogEvent =
  | RetentionEvent
  | SegmentEvent
  | { type: 'registered'; subscriberId: string; path: string }
  /** A batch listed in the log was gone when read: retention deleted it ahead of this subscriber. */
  | { type: 'entry-missing'; subscriberId: string; entry: string; deliveredOffset: number }
  /**
   * A log entry this subscriber could not read (written by something else): not a batch (no
   * `offset`: the whole entry is skipped), or one message of it that the serializer refused
   * (`offset`: that message is skipped, the others of the batch are delivered).
   */
  | { type: 'entry-corrupt'; subscriberId: string; entry: string; offset?: number; error: unknown }
  | { type: 'commit-failed'; subscriberId: string; error: unknown }
  | { type: 'compaction-failed'; error: unknown };

/**
 * A broadcast log on one topic: publishers append, every registered subscriber reads it all.
 *
 * Layout under the topic: `log/` holds batch znodes (persistent sequential, protected names ending
 * in `m<count>-<sequence>`), `clients/` one ephemeral sequential node per live subscription (data:
 * the subscriber id), `offsets/<subscriberId>` each durable subscriber's committed offset (JSON),
 * `compacting` (ephemeral) while a compaction deletes (new subscribers wait for it: retention.ts).
 * An offset is `sequence * 100000 + index in batch`: one number, increasing along the log.
 * The log rolls over to a new segment (`log.1`, `log.2`, ...) well before ZooKeeper's sequence
 * counter of a folder wraps at 2^31, and is read across segments in order (SegmentedFolder);
 * offsets go on growing. At most MAX_LOG_SEGMENTS segments (offsets stay exact integers): about
 * 4 * 10^10 batches over a topic's life; then `publish` fails with SequenceExhaustedError.
 *
 * Guarantees:
 * - Delivery: every subscriber receives every message published after its first registration
 *   (or, with `from: 'earliest'`, every message still in the log then), once per offset, in log
 *   order; a live subscriber learns of new batches through a children watch (no polling).
 * - Order: log order is ZooKeeper's sequence order; one BroadcastLog writes one batch at a time,
 *   so its messages are in publish order. Concurrent publishers interleave by batch.
 * - Crashes: at-least-once. A restarted subscriber resumes after its committed offset, so messages
 *   it acked but had not committed yet (at most `commitIntervalMs` of them) come again; none is
 *   skipped.
 * - Retention: `compact()` (and, by default, a throttled pass after commits) deletes only batches
 *   every durable subscriber committed past, except the newest (so `stats().lastOffset` stays
 *   known); `maxEntries`/`maxAgeMs` may delete more, and emit a `retention-overrun` event on
 *   `events$` for each subscriber they overtake.
 *
 * Failure modes:
 * - A rejected `publish` (retries exhausted, e.g. a quorum lost for longer than `retry.deadlineMs`)
 *   may or may not have appended its batches; a resolved one is durable.
 * - Connection loss and session expiry pause delivery; it resumes where it stopped (the client
 *   node is re-created after an expiry, the watch re-armed by the watch layer).
 * - A subscriber that never comes back keeps its offset and blocks retention: `removeSubscriber`.
 * - A deleted-but-listed batch (retention overran the subscriber) is skipped with `entry-missing`.
 */
export class BroadcastLog<T = unknown> {
  readonly paths: TopicPaths;
  /** The log's segments: `log`, then `log.1`, ... (see SegmentedFolder). */
  readonly segments: SegmentedFolder;
  private readonly appender: BatchAppender;
  private readonly prepared = new RetryableOnce(() => this.prepare());
  private readonly events = new Subject<BroadcastLogEvent>();
  private readonly work = new Set<Promise<unknown>>();
  private readonly subscriptions = new Set<LogSubscription<T>>();
  private readonly relays = new Set<LogRelay>();
  private compacting?: Promise<unknown>;
  private lastCompaction = 0;

  constructor(
    readonly connection: ZookeeperConnection,
    readonly topic: string,
    private readonly options: BroadcastLogOptions = {},
  ) {
    validatePath(topic, 'broadcast');
    const [owner, retention] = [`BroadcastLog '${topic}'`, options.retention ?? {}];
    check.nonNegativeMs(owner, 'lingerMs', options.lingerMs);
    check.byteLimit(owner, 'maxBatchBytes', options.maxBatchBytes, connection.maxFrameBytes);
    check.nonNegativeMs(owner, 'commitIntervalMs', options.commitIntervalMs);
    check.positiveInteger(
      owner,
      'segments.rolloverAt',
      options.segments?.rolloverAt,
      MAX_ROLLOVER_AT,
    );
    check.nonNegativeNumber(owner, 'retention.intervalMs', retention.intervalMs);
    check.positiveInteger(owner, 'retention.maxEntries', retention.maxEntries);
    check.positiveNumber(owner, 'retention.maxAgeMs', retention.maxAgeMs);
    check.positiveNumber(owner, 'retention.subscriberExpiryMs', retention.subscriberExpiryMs);
    this.paths = {
      log: joinPath(topic, 'log'),
      clients: joinPath(topic, 'clients'),
      offsets: joinPath(topic, 'offsets'),
      compacting: joinPath(topic, 'compacting'),
    };
    this.segments = new SegmentedFolder(
      connection,
      topic,
      'log',
      options.segments,
      MAX_LOG_SEGMENTS,
      (event) => this.events.next(event),
    );
    this.appender = new BatchAppender(
      connection,
      `broadcast log ${topic}`,
      this.segments,
      options,
      () => this.ready(),
      () => this.appended(),
    );
  }

  /** Retention overruns, missing entries, registrations and background failures. */
  get events$(): Observable<BroadcastLogEvent> {
    return this.events.asObservable();
  }

  /**
   * Appends one message, or each message of an array (to publish an array as one message, wrap
   * it: `publish([list])`). Resolves once every message is in the log, with the offset of each
   * (in the order given): the offsets its subscribers will see in their deliveries.
   */
  publish(messages: T | readonly T[]): Promise<number[]> {
    return this.appender
      .publish(messages)
      .then((positions) =>
        positions.map(({ path, index }) => messageOffset(this.segments.sequenceOf(path), index)),
      );
  }

  /**
   * Registers `subscriberId` and delivers the log from its committed offset on (see the class
   * comment). Each subscription of the Observable is one registered client; unsubscribing
   * commits the last acks and removes the client node, keeping the offset.
   */
  deliveries(
    subscriberId: string,
    options: SubscribeOptions = {},
  ): Observable<BroadcastDelivery<T>> {
    assertSubscriberId(subscriberId);
    return new Observable<BroadcastDelivery<T>>((sink) => {
      const subscription = new LogSubscription<T>(this.context(), subscriberId, options, sink);
      this.subscriptions.add(subscription);
      void subscription.start();
      return () => {
        this.subscriptions.delete(subscription);
        subscription.stop();
      };
    });
  }

  /**
   * Starts moving the batches of `source` (a WorkQueue on the same connection) into this log,
   * exactly once and fenced: each step is one transaction that passes `fence`, appends whole
   * source batches as one log batch and deletes them (see LogRelay). The relay must be the
   * source's only consumer. Needs transactions (wire driver); CapabilityMissingError otherwise.
   */
  async relay(source: RelaySource, options: RelayOptions<T>): Promise<LogRelay> {
    if (source.connection !== this.connection)
      throw new InvalidOptionsError(`a relay into ${this.topic} needs a source on its connection`);
    if (!this.connection.capabilities.multi)
      throw new CapabilityMissingError('multi', this.connection.driver, 'BroadcastLog.relay');
    check.nonNegativeMs(`the relay into ${this.topic}`, 'lingerMs', options.lingerMs);
    const { map } = options;
    const serializer = this.appender.serializer;
    const relay = new LogRelay(source, {
      log: this.segments,
      maxBatchBytes: options.maxBatchBytes ?? this.options.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES,
      transform: map ? (payload) => serializer.serialize(map(payload)) : (payload) => payload,
      fence: options.fence,
      lingerMs: options.lingerMs ?? 0,
      ready: () => this.ready(),
      appended: () => this.appended(),
    });
    this.relays.add(relay);
    void this.track(relay.closed.then(() => this.relays.delete(relay)));
    await relay.start();
    return relay;
  }

  /** Deletes the batches every durable subscriber committed past (and what the limits allow). */
  async compact(): Promise<CompactResult> {
    await this.ready();
    return compactLog(
      this.connection,
      this.paths,
      this.segments,
      this.options.retention ?? {},
      (event) => this.events.next(event),
    );
  }

  /** The committed offset of every durable subscriber (corrupt ones left out, `offset-corrupt`). */
  async committedOffsets(): Promise<Map<string, number>> {
    await this.ready();
    return readCommitted(this.connection, this.paths.offsets, (subscriberId, error) =>
      this.events.next({ type: 'offset-corrupt', subscriberId, error }),
    );
  }

  /** Counts what the log holds from one listing (batch names carry their message counts). */
  async stats(): Promise<LogStats> {
    await this.ready();
    const entries = await this.segments.entries();
    const last = entries.at(-1);
    return {
      entries: entries.length,
      messages: entries.reduce((sum, entry) => sum + entry.count, 0),
      firstOffset: entries.length > 0 ? messageOffset(entries[0].sequence, 0) : undefined,
      lastOffset: last ? lastOffsetOf(last) : undefined,
    };
  }

  /** Forgets a subscriber for good: retention stops waiting for it. */
  async removeSubscriber(subscriberId: string): Promise<void> {
    assertSubscriberId(subscriberId);
    await this.connection.delete(joinPath(this.paths.offsets, subscriberId)).catch((error) => {
      if (!(error instanceof NoNodeError)) throw error;
    });
  }

  /** Resolves when every message published so far is in the log. */
  flush(): Promise<void> {
    return this.appender.flush();
  }

  /** Writes what is queued, ends every subscription (committing its acks) and waits for both. */
  async close(): Promise<void> {
    await this.appender.close();
    for (const subscription of this.subscriptions) subscription.stop();
    this.subscriptions.clear();
    await Promise.all([...this.relays].map((relay) => relay.stop()));
    while (this.work.size > 0) await Promise.allSettled([...this.work]);
    this.events.complete();
  }

  private context() {
    return {
      connection: this.connection,
      paths: this.paths,
      segments: this.segments,
      serializer: this.appender.serializer,
      commitIntervalMs: this.options.commitIntervalMs ?? 200,
      ready: () => this.ready(),
      emit: (event: BroadcastLogEvent) => this.events.next(event),
      committed: () => this.compactSoon(),
      track: (work: Promise<unknown>) => this.track(work),
    };
  }

  /** Limits (maxEntries has a default) are enforced soon after an append, not only after commits. */
  private appended(): void {
    this.compactSoon();
  }

  private ready(): Promise<void> {
    return this.prepared.run();
  }

  private async prepare(): Promise<void> {
    await Promise.all([
      this.segments.prepare(),
      this.connection.mkdirp(this.paths.clients),
      this.connection.mkdirp(this.paths.offsets),
    ]);
  }

  private compactSoon(): void {
    const retention = this.options.retention ?? {};
    if (retention.auto === false || this.compacting) return;
    if (Date.now() - this.lastCompaction < (retention.intervalMs ?? 5_000)) return;
    this.lastCompaction = Date.now();
    this.compacting = this.track(
      this.compact()
        .catch((error: unknown) => this.events.next({ type: 'compaction-failed', error }))
        .finally(() => (this.compacting = undefined)),
    );
  }

  private track<W>(work: Promise<W>): Promise<W> {
    this.work.add(work);
    void work.finally(() => this.work.delete(work)).catch(() => undefined);
    return work;
  }
}

function assertSubscriberId(subscriberId: string): void {
  if (typeof subscriberId !== 'string' || !isSafeNodeName(subscriberId)) {
    throw new InvalidOptionsError(
      `subscriber id ${JSON.stringify(subscriberId)} must be 1-200 characters of A-Z a-z 0-9 . _ : @ -`,
    );
  }
}
