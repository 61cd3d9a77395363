import { Subscriber, Subscription, filter } from 'rxjs';
import { ConnectionState } from '../../connection/connection-state.enum.js';
import { CreateMode } from '../../connection/create-mode.enum.js';
import { joinPath } from '../../connection/paths.js';
import { ZookeeperConnection } from '../../connection/zookeeper-connection.js';
import { ZookeeperErrorCode } from '../../errors/zookeeper-error-code.enum.js';
import { ZookeeperError } from '../../errors/zookeeper.error.js';
import { NoAuthError } from '../../errors/zookeeper-errors.js';
import { Serializer } from '../../codec/serializers.js';
import { followChildNames } from '../../watch/child-names.js';
import { watchChildren } from '../../watch/children-watch.js';
import {
  namesFromSequence,
  parseSegmentEntries,
  SegmentEntry,
  SEQUENCE_STRIDE,
} from '../shared/entry-names.js';
import { SegmentedFolder, segmentIndices } from '../shared/segmented-folder.js';
import { decodeBatch, MAX_BATCH_MESSAGES } from '../shared/message-batch.js';
import { CorruptBatchError, CorruptOffsetError } from '../shared/messaging-errors.js';
import { BEFORE_FIRST_OFFSET, lastOffsetOf, messageOffset, OffsetStore } from './offsets.js';
import { afterCompactions, TopicPaths } from './retention.js';
import { UnackedWindow } from './unacked-window.js';
import type { BroadcastLogEvent } from './broadcast-log.js';
import { whenNoNode } from '../../internal/no-node.js';
import { sleep } from '../../internal/sleep.js';
import { BroadcastDelivery, DEFAULT_MAX_UNACKED, SubscribeOptions } from './subscription-types.js';

// Kept importable from here: transport/server-zookeeper.ts imports it from this file.
export type { BroadcastDelivery } from './subscription-types.js';

/** What a subscription needs from its BroadcastLog. */
export interface SubscriptionContext {
  readonly connection: ZookeeperConnection;
  readonly paths: TopicPaths;
  readonly segments: SegmentedFolder;
  readonly serializer: Serializer;
  readonly commitIntervalMs: number;
  ready(): Promise<void>;
  emit(event: BroadcastLogEvent): void;
  committed(): void;
  track(work: Promise<unknown>): void;
}

const READ_AHEAD = 8;
/** Messages handed out in one turn of the event loop at most (the driver's pings go between). */
const YIELD_EVERY = 1000;
const RETRY_DELAY_MS = 500;

/**
 * The life of one subscription: its client node (re-created after a session expiry), its stored
 * offset, and a reader that follows the log through a children watch and emits every message
 * after the committed offset exactly once, in log order.
 */
export class LogSubscription<T> {
  private readonly store: OffsetStore;
  private readonly links: Subscription[] = [];
  private clientPath?: string;
  private delivered = BEFORE_FIRST_OFFSET;
  private acked = BEFORE_FIRST_OFFSET;
  private readonly unacked: UnackedWindow;
  private sinceYield = 0;
  /** The log segment being read, its watch, and the newest segment that exists. */
  private segment = 0;
  private segmentLink?: Subscription;
  private newest = 0;
  private latestNames?: readonly string[];
  private draining = false;
  private stopped = false;
  private commitTimer?: NodeJS.Timeout;
  private committing?: Promise<void>;

  constructor(
    private readonly context: SubscriptionContext,
    private readonly subscriberId: string,
    private readonly options: SubscribeOptions,
    private readonly sink: Subscriber<BroadcastDelivery<T>>,
  ) {
    this.store = new OffsetStore(context.connection, joinPath(context.paths.offsets, subscriberId));
    this.unacked = new UnackedWindow(options.maxUnacked ?? DEFAULT_MAX_UNACKED);
  }

  async start(): Promise<void> {
    try {
      await this.context.ready();
      // The offset first: once the client node is visible, nothing published can be missed.
      const start = await this.startingOffset();
      this.delivered = this.acked = start;
      if (this.stopped) return;
      await this.register();
      if (this.stopped) {
        await this.context.connection.delete(this.clientPath!).catch(ignore);
        return;
      }
      this.links.push(
        this.context.connection.state$
          .pipe(filter((state) => state === ConnectionState.EXPIRED))
          .subscribe(() => (this.clientPath = undefined)),
        this.context.connection.state$
          .pipe(filter((state) => state === ConnectionState.CONNECTED))
          .subscribe(() => void this.reregister()),
        watchChildren(this.context.connection, this.context.segments.parent).subscribe({
          next: (names) => this.onSegments(names),
          error: (error: unknown) => this.fail(error),
        }),
      );
      this.follow(segmentOfOffset(start));
    } catch (error) {
      if (error instanceof CorruptOffsetError) {
        this.context.emit({ type: 'offset-corrupt', subscriberId: this.subscriberId, error });
      }
      this.fail(error);
    }
  }

  /** Ends the subscription: the last acks are committed and the client node removed. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.unacked.release();
    for (const link of this.links) link.unsubscribe();
    this.segmentLink?.unsubscribe();
    clearTimeout(this.commitTimer);
    this.context.track(
      (async () => {
        // A stop from inside a `next` handler (e.g. `take(n)`) comes before that handler's auto-ack.
        await Promise.resolve();
        await this.commit();
        if (this.clientPath) await this.context.connection.delete(this.clientPath).catch(ignore);
      })(),
    );
  }

  private async register(): Promise<void> {
    this.clientPath = await this.context.connection.create(
      joinPath(this.context.paths.clients, 'client-'),
      this.subscriberId,
      { mode: CreateMode.EPHEMERAL_SEQUENTIAL },
    );
    this.context.emit({
      type: 'registered',
      subscriberId: this.subscriberId,
      path: this.clientPath,
    });
  }

  // After an expiry the ephemeral client node is gone with the old session; a new one announces
  // the subscriber again. Delivery itself never stopped depending on it.
  private async reregister(): Promise<void> {
    if (this.clientPath || this.stopped) return;
    try {
      await this.register();
      if (this.stopped) await this.context.connection.delete(this.clientPath!).catch(ignore);
      else await this.store.touch();
    } catch {
      // The next CONNECTED (after another expiry) tries again; reading goes on meanwhile.
    }
  }

  private async startingOffset(): Promise<number> {
    // A stored offset is rewritten as it is: retention sees this subscriber is back (an expiry
    // that read the old version cannot delete it any more). Gone meanwhile: start afresh.
    const stored = await this.store.touch();
    if (stored !== undefined) return stored;
    let start = BEFORE_FIRST_OFFSET;
    if (this.options.from === 'latest') {
      const last = (await this.context.segments.entries()).at(-1);
      if (last) start = lastOffsetOf(last);
    }
    // Stored at once: from now on retention keeps every entry this subscriber has not passed,
    // once a compaction that read the offsets before this one was stored is over.
    const initialized = await this.store.initialize(start);
    if (initialized.created) await afterCompactions(this.context.connection, this.context.paths);
    return initialized.offset;
  }

  /** Reads segment `index` from now on (its first listing comes through the watch). */
  private follow(index: number): void {
    this.segment = index;
    this.latestNames = undefined;
    this.segmentLink?.unsubscribe();
    // Followed by name (a persistent watch where the driver has them): a log holding many
    // batches is not listed whole again for each new one.
    this.segmentLink = followChildNames(
      this.context.connection,
      this.context.segments.folder(index),
    ).subscribe({
      next: (names) => this.onLog(index, names),
      error: (error: unknown) => this.fail(error),
    });
  }

  private onSegments(names: readonly string[]): void {
    this.newest = segmentIndices(this.context.segments.base, names).at(-1) ?? 0;
    if (!this.draining) void this.drain();
  }

  private onLog(segment: number, names: readonly string[]): void {
    if (segment !== this.segment) return;
    this.latestNames = names;
    if (!this.draining) void this.drain();
  }

  private async drain(): Promise<void> {
    this.draining = true;
    while (!this.stopped) {
      const names = this.latestNames;
      const segment = this.segment;
      if (!names && this.newest <= segment) break;
      this.latestNames = undefined;
      try {
        if (names) {
          const folder = this.context.segments.folder(segment);
          // Only from the batch delivered last on: the log may hold thousands of batches behind.
          const from = Math.floor(this.delivered / MAX_BATCH_MESSAGES) - segment * SEQUENCE_STRIDE;
          const recent = namesFromSequence(names, from);
          await this.deliver(parseSegmentEntries(recent, folder, segment));
        } else {
          await this.moveOn(segment);
        }
      } catch (error) {
        if (isFatal(error)) return this.fail(error);
        // The connection's retries gave up (a long outage): read the same list again later,
        // unless the watch brought a newer one meanwhile.
        if (segment === this.segment) this.latestNames ??= names;
        await sleep(RETRY_DELAY_MS);
      }
    }
    this.draining = false;
  }

  /**
   * A newer segment exists and this one is read as far as listed: once this one is sealed (a roll
   * seals before it creates the next segment, so it is, unless something else made that one),
   * read its final listing (nothing can be added behind it after the seal), then go on to the
   * next segment that exists. An unsealed one is sealed here when this session may (ADMIN);
   * else the subscriber waits for its writers to seal it.
   */
  private async moveOn(from: number): Promise<void> {
    const segments = this.context.segments;
    if (!(await segments.isSealed(from))) {
      const sealed = await segments.seal(from).then(
        () => true,
        (error: unknown) => (error instanceof NoAuthError ? false : Promise.reject(error)),
      );
      if (!sealed) return void (await sleep(RETRY_DELAY_MS));
    }
    await this.deliver(await segments.segmentEntries(from));
    if (this.stopped || from !== this.segment) return;
    const next = (await segments.indices()).find((index) => index > from);
    if (next !== undefined) this.follow(next);
  }

  private async deliver(entries: readonly SegmentEntry[]): Promise<void> {
    const pending = entries.filter((entry) => lastOffsetOf(entry) > this.delivered);
    const reads = new Map<number, Promise<Buffer | undefined>>();
    for (let index = 0; index < pending.length && !this.stopped; index++) {
      for (let ahead = index; ahead < Math.min(index + READ_AHEAD, pending.length); ahead++) {
        if (!reads.has(ahead)) reads.set(ahead, this.read(pending[ahead]));
      }
      const data = await reads.get(index)!;
      reads.delete(index);
      if (data === undefined) {
        this.context.emit({
          type: 'entry-missing',
          subscriberId: this.subscriberId,
          entry: pending[index].name,
          deliveredOffset: this.delivered,
        });
        this.delivered = Math.max(this.delivered, lastOffsetOf(pending[index]));
        continue;
      }
      await this.emitBatch(pending[index], data);
    }
    // Reads left behind by a stop are not awaited, but must not surface as unhandled.
    for (const read of reads.values()) read.catch(ignore);
  }

  /** The batch's bytes; undefined when it is gone (removed by retention meanwhile). */
  private read(entry: SegmentEntry): Promise<Buffer | undefined> {
    return this.context.connection.get(entry.path).then(({ data }) => data, whenNoNode(undefined));
  }

  private async emitBatch(entry: SegmentEntry, data: Buffer): Promise<void> {
    const path = entry.path;
    let payloads: Buffer[];
    try {
      payloads = decodeBatch(data, path);
      if (payloads.length !== entry.count) {
        throw new CorruptBatchError(
          path,
          `named for ${entry.count} messages, holds ${payloads.length}`,
        );
      }
    } catch (error) {
      // Written by something else: skipped by every subscriber, each reporting it.
      this.corrupt(entry, error);
      this.delivered = Math.max(this.delivered, lastOffsetOf(entry));
      return;
    }
    for (let index = 0; index < payloads.length && !this.stopped; index++) {
      const offset = messageOffset(entry.sequence, index);
      if (offset <= this.delivered) continue;
      // Nothing more is handed out (nor read ahead) while maxUnacked deliveries wait for acks.
      if (this.unacked.size >= this.unacked.max) await this.unacked.room(() => this.stopped);
      if (++this.sinceYield > YIELD_EVERY) {
        this.sinceYield = 1;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      if (this.stopped) return;
      let message: T;
      try {
        message = this.context.serializer.deserialize(payloads[index]) as T;
      } catch (error) {
        this.corrupt(entry, error, offset);
        this.delivered = offset;
        continue;
      }
      this.delivered = offset;
      this.unacked.add(offset);
      this.sink.next({ offset, message, ack: () => this.ack(offset) });
      if (this.options.autoAck) this.ack(offset);
    }
  }

  private corrupt(entry: SegmentEntry, error: unknown, offset?: number): void {
    this.context.emit({
      type: 'entry-corrupt',
      subscriberId: this.subscriberId,
      entry: entry.name,
      ...(offset === undefined ? {} : { offset }),
      error,
    });
  }

  private ack(offset: number): void {
    if (offset <= this.acked) return;
    this.acked = offset;
    this.unacked.ackThrough(offset);
    this.scheduleCommit();
  }

  private scheduleCommit(): void {
    if (!this.stopped && !this.commitTimer) {
      this.commitTimer = setTimeout(() => {
        this.commitTimer = undefined;
        void this.commit();
      }, this.context.commitIntervalMs);
    }
  }

  private async commit(): Promise<void> {
    // One commit in flight: the store's CAS loop would otherwise race with itself.
    while (this.committing) await this.committing;
    const offset = this.acked;
    this.committing = this.store
      .commit(offset)
      .then(() => this.context.committed())
      .catch((error: unknown) => {
        this.context.emit({ type: 'commit-failed', subscriberId: this.subscriberId, error });
        this.scheduleCommit();
      })
      .finally(() => (this.committing = undefined));
    await this.committing;
  }

  private fail(error: unknown): void {
    if (this.stopped) return;
    this.stop();
    this.sink.error(error);
  }
}

// Failures about the link, not the log: the reader waits and reads again.
function isFatal(error: unknown): boolean {
  if (!(error instanceof ZookeeperError)) return true;
  return !(error.isRetryable || error.code === ZookeeperErrorCode.SESSION_EXPIRED);
}

function ignore(): void {}

/** The log segment holding `offset` (segment 0 before the first offset). */
function segmentOfOffset(offset: number): number {
  if (offset < 0) return 0;
  return Math.floor(Math.floor(offset / MAX_BATCH_MESSAGES) / SEQUENCE_STRIDE);
}
