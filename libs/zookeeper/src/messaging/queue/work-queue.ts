import { Observable, Subject } from 'rxjs';
import { joinPath, validatePath } from '../../connection/paths.js';
import { ZookeeperConnection } from '../../connection/zookeeper-connection.js';
import type { Serializer } from '../../codec/serializers.js';
import { InvalidOptionsError } from '../../errors/library-errors.js';
import { NoNodeError } from '../../errors/zookeeper-errors.js';
import { byteLimit, nonNegativeMs, positiveInteger } from '../../internal/option-checks.js';
import { RetryableOnce } from '../../internal/retryable-once.js';
import { BatchAppender, BatchAppenderOptions, WrittenBatch } from '../shared/batch-appender.js';
import { MAX_ROLLOVER_AT, SegmentedFolder } from '../shared/segmented-folder.js';
import { DeadLetter, letterPayloads, readDeadLetters } from './dead-letters.js';
import { consumerDeliveries, QueueDelivery } from './queue-deliveries.js';
import { QueueConsumer } from './queue-consumer.js';
import { ConsumeOptions, MessageHandler, QueuePaths, WorkQueueEvent } from './queue-types.js';

export type WorkQueueOptions = BatchAppenderOptions;

/** Consume options are checked here, where they are received, before a consumer is built. */
function checkConsumeOptions(owner: string, options: ConsumeOptions): void {
  positiveInteger(owner, 'concurrency', options.concurrency);
  positiveInteger(owner, 'lineFront', options.lineFront);
  positiveInteger(owner, 'maxAttempts', options.maxAttempts);
  nonNegativeMs(owner, 'retryDelayMs', options.retryDelayMs);
  nonNegativeMs(owner, 'progressIntervalMs', options.progressIntervalMs);
}

/**
 * A work queue: competing consumers, each message handled by one of them, at least once.
 *
 * Layout under the queue path: `items/` batch znodes (persistent sequential, protected names
 * ending in `m<count>-<sequence>`; rolled over to `items.1/`, `items.2/`, ... well before ZooKeeper's
 * sequence counter wraps at 2^31, and read across them in order, see SegmentedFolder), `locks/<item>` the ephemeral lock of the consumer holding an
 * item, `progress/<item>` how far the item got (next message, failed attempts of it) and, with
 * transactions, the holder's ownership token, `dead/` messages that failed `maxAttempts` times,
 * `waiters/` the line of idle consumers.
 *
 * Server writes per message, unbatched (one message per publish, one consumer): with the driver's
 * `multi` (wire), three transactions: publish (one create), take (one transaction: check the item,
 * create the lock, create the progress node or bump its version) and acknowledge (one
 * transaction: delete progress at the taken version, item and lock); two through a backlog, where
 * an item's acknowledgement and the take of the next one known are one transaction (see
 * QueueConsumer), so one round trip separates two items. Without `multi` (native),
 * four: publish, create the lock, delete the item, delete the lock (the progress node only when a
 * write needs it). Progress is written only after a failure, when stopping, and every
 * `progressIntervalMs` within items of several messages; batched publishes share all of these.
 *
 * Guarantees:
 * - Delivery: at-least-once. An item is deleted only after each of its messages was handled or
 *   dead-lettered; a consumer that crashes loses its lock with its session, and the next consumer
 *   resumes the item from its last progress write: only messages handled since then (at most
 *   `progressIntervalMs` worth, and the one running) are handled again.
 * - Fencing (with `multi`): a consumer whose session expired while it held an item cannot
 *   acknowledge it: the server deleted its lock, and a new owner bumped the progress version, so
 *   its transaction applies nothing and the item stays for its owner (who runs it again). Without
 *   `multi`, a consumer that has heard of its expiry does not acknowledge; one that has not yet
 *   (cut off, paused) may delete an item another consumer is running: its messages were all
 *   handled, so nothing is lost, but they may run twice.
 * - Order: FIFO for a single consumer with concurrency 1 (items by sequence, messages by index);
 *   with more consumers, items are taken in order but handled in parallel.
 * - Retries: a failing message runs again (its attempt count is stored first, so crashes after a
 *   failure count too); after `maxAttempts` it is written to `dead/` and the item goes on.
 * - Backpressure: a consumer holds at most `concurrency` items.
 * - Cost per item independent of the backlog: a consumer reads the item list once and takes item
 *   after item from its sorted copy, reading again when the copy runs dry (see QueueConsumer).
 * - No lone publish held back: an awaited `publish` with nothing else pending is written at once;
 *   `lingerMs` applies under load only (see BatcherOptions).
 * - No herd, no polling: consumers with a free slot wait in a line (`waiters/`, see ConsumerLine);
 *   only its front (`lineFront`, default 2) watches the items, so a new item wakes two consumers,
 *   not every idle one, and items go round the line. A consumer leaves the line when full only if
 *   others wait behind the front, so a lone consumer, or one working through a backlog, does not
 *   leave and rejoin it per item.
 *
 * Failure modes:
 * - A rejected `publish` may or may not have appended its batches; a resolved one is durable.
 * - A consumer cut off for longer than its session timeout loses its locks: another consumer may
 *   run the same messages meanwhile (it stops at its next progress write, fenced by version, and
 *   its acknowledgement fails, see Fencing).
 * - A handler that never settles holds its item forever (add your own timeout).
 * - When every consumer in the front of the line has died without stopping, new items wait until
 *   one of their sessions expires (with the default front of 2, one dead consumer never does this;
 *   items already taken, and the backlog of busy consumers, go on). A full consumer that stayed in
 *   the front (nobody waited when it took its item) gives way to a consumer that joined later only
 *   when the items change or it takes its next item.
 */
export class WorkQueue<T = unknown> {
  readonly paths: QueuePaths;
  /** The queue's item segments: `items`, then `items.1`, ... (see SegmentedFolder). */
  readonly segments: SegmentedFolder;
  private readonly appender: BatchAppender;
  private readonly prepared = new RetryableOnce(() => this.prepare());
  private readonly events = new Subject<WorkQueueEvent>();
  private readonly consumers = new Set<QueueConsumer<T>>();
  private readonly written = new Subject<WrittenBatch>();

  constructor(
    readonly connection: ZookeeperConnection,
    readonly path: string,
    options: WorkQueueOptions = {},
  ) {
    validatePath(path, 'workQueue');
    nonNegativeMs(`WorkQueue '${path}'`, 'lingerMs', options.lingerMs);
    const rolloverAt = options.segments?.rolloverAt;
    positiveInteger(`WorkQueue '${path}'`, 'segments.rolloverAt', rolloverAt, MAX_ROLLOVER_AT);
    byteLimit(
      `WorkQueue '${path}'`,
      'maxBatchBytes',
      options.maxBatchBytes,
      connection.maxFrameBytes,
    );
    this.paths = {
      items: joinPath(path, 'items'),
      locks: joinPath(path, 'locks'),
      progress: joinPath(path, 'progress'),
      dead: joinPath(path, 'dead'),
      waiters: joinPath(path, 'waiters'),
    };
    this.segments = new SegmentedFolder(
      connection,
      path,
      'items',
      options.segments,
      Infinity,
      (event) => this.events.next(event),
    );
    this.appender = new BatchAppender(
      connection,
      `work queue ${path}`,
      this.segments,
      options,
      () => this.ready(),
      (batch) => this.written.next(batch),
    );
  }

  /**
   * The batches this instance appends, as each is written: a relay of this queue (see
   * BroadcastLog.relay) takes them at once instead of listing and reading them.
   */
  get writtenBatches$(): Observable<WrittenBatch> {
    return this.written.asObservable();
  }

  /** How this queue stores a message (a relay of it encodes its direct appends with it). */
  get serializer(): Serializer {
    return this.appender.serializer;
  }

  /** Failed runs, dead letters, abandoned items and background errors. */
  get events$(): Observable<WorkQueueEvent> {
    return this.events.asObservable();
  }

  /**
   * Enqueues one message, or each message of an array (wrap an array to send it as one message).
   * Resolves once every message is stored.
   */
  publish(messages: T | readonly T[]): Promise<void> {
    return this.appender.publish(messages).then(() => undefined);
  }

  /**
   * Starts a competing consumer; `stop()` it (or `close()` the queue) to release its items.
   * `consume(handler)` takes the default options.
   */
  consume(handler: MessageHandler<T>): Promise<QueueConsumer<T>>;
  consume(options: ConsumeOptions, handler: MessageHandler<T>): Promise<QueueConsumer<T>>;
  async consume(
    optionsOrHandler: ConsumeOptions | MessageHandler<T>,
    maybeHandler?: MessageHandler<T>,
  ): Promise<QueueConsumer<T>> {
    const [options, handler] =
      typeof optionsOrHandler === 'function'
        ? [{}, optionsOrHandler]
        : [optionsOrHandler, maybeHandler];
    if (typeof handler !== 'function') {
      throw new InvalidOptionsError('WorkQueue.consume needs a handler function');
    }
    checkConsumeOptions(`WorkQueue '${this.path}' consume`, options);
    const consumer: QueueConsumer<T> = new QueueConsumer<T>(
      {
        connection: this.connection,
        paths: this.paths,
        segments: this.segments,
        serializer: this.appender.serializer,
        ready: () => this.ready(),
        emit: (event) => this.events.next(event),
        // Done for good: forgotten, so consumers started and stopped (e.g. on every leadership
        // change) do not pile up.
        stopped: () => this.consumers.delete(consumer),
      },
      options,
      handler,
    );
    this.consumers.add(consumer);
    await consumer.start();
    return consumer;
  }

  /**
   * The consumer as an Observable: subscribing starts a competing consumer that emits each
   * message as a delivery and goes on with the item once it is `ack()`ed; `nack(error)` counts
   * as a failed attempt (retried, then dead-lettered, as a handler error). Unsubscribing stops
   * the consumer and gives unsettled deliveries back: their items are released for another
   * consumer, without counting an attempt.
   */
  deliveries(options: ConsumeOptions = {}): Observable<QueueDelivery<T>> {
    checkConsumeOptions(`WorkQueue '${this.path}' deliveries`, options);
    return consumerDeliveries<T>(
      (handler) => this.consume(options, handler),
      (consumer) => consumer.stop(),
    );
  }

  /** Messages that failed `maxAttempts` times, oldest first. */
  async deadLetters(): Promise<DeadLetter<T>[]> {
    await this.ready();
    return readDeadLetters(
      this.connection,
      this.paths.dead,
      (payload) => this.appender.serializer.deserialize(payload) as T,
    );
  }

  /**
   * Publishes dead letters again (all, or those with the given ids) with a fresh attempt count,
   * then deletes them; returns how many. A crash in between can leave a replayed letter in
   * `dead/` as well. A corrupt record (`replayable: false`) is left for `discard`. A whole item
   * (`wholeItem`, see the `item-corrupt` event) is published again message by message.
   */
  async replay(ids?: readonly string[]): Promise<number> {
    const letters = (await this.deadLetters()).filter(
      (letter) => letter.replayable && (!ids || ids.includes(letter.id)),
    );
    await this.appender.publishPayloads(letters.flatMap((letter) => letterPayloads(letter)));
    await this.discard(letters.map((letter) => letter.id));
    return letters.length;
  }

  /** Deletes dead letters for good. */
  async discard(ids: readonly string[]): Promise<void> {
    await Promise.all(
      ids.map((id) =>
        this.connection.delete(joinPath(this.paths.dead, id)).catch((error) => {
          if (!(error instanceof NoNodeError)) throw error;
        }),
      ),
    );
  }

  /** Items (batches) waiting or in progress. */
  async pendingItems(): Promise<number> {
    await this.ready();
    return (await this.segments.entries()).length;
  }

  /** Resolves when every message published so far is stored. */
  flush(): Promise<void> {
    return this.appender.flush();
  }

  /** Writes what is queued, stops every consumer (releasing unfinished items) and waits. */
  async close(): Promise<void> {
    await this.appender.close();
    await Promise.all([...this.consumers].map((consumer) => consumer.stop()));
    this.consumers.clear();
    this.events.complete();
  }

  private ready(): Promise<void> {
    return this.prepared.run();
  }

  private async prepare(): Promise<void> {
    const { locks, dead, waiters } = this.paths;
    await Promise.all([
      this.segments.prepare(),
      ...[locks, this.paths.progress, dead, waiters].map((path) => this.connection.mkdirp(path)),
    ]);
    // Progress left by a consumer that crashed between deleting an item and its progress.
    // Listed before the items: a progress node whose item is missing from the later listing
    // belongs to a finished item (names are never reused), not to one published meanwhile.
    const progress = await this.connection.getChildren(this.paths.progress);
    const items = new Set((await this.segments.entries()).map((entry) => entry.name));
    for (const name of progress) {
      if (items.has(name)) continue;
      await this.connection.delete(joinPath(this.paths.progress, name)).catch(() => undefined);
    }
  }
}
