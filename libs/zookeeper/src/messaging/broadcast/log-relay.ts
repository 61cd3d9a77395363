import { Observable, Subject, Subscription } from 'rxjs';
import { nodeName } from '../../connection/paths.js';
import { Transaction } from '../../connection/transaction.js';
import { ZookeeperConnection } from '../../connection/zookeeper-connection.js';
import { NoNodeError } from '../../errors/zookeeper-errors.js';
import { ignoreNoNode } from '../../internal/no-node.js';
import { SerialRunner } from '../../internal/serial-runner.js';
import { sleep } from '../../internal/sleep.js';
import { WrittenBatch } from '../shared/batch-appender.js';
import { SegmentEntry } from '../shared/entry-names.js';
import { SegmentedFolder, SegmentListing } from '../shared/segmented-folder.js';
import { BATCH_HEADER_BYTES, decodeBatch } from '../shared/message-batch.js';
import { appendLogBatch, batchHasRoom, logBatchBytes } from './log-batch-op.js';
import { OwnBatches } from './own-batches.js';
import { RelayedCreates } from './relayed-creates.js';

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
  ready(): Promise<void>;
  appended(): void;
}

interface ReadItem {
  entry: SegmentEntry;
  path: string;
  /** The version the step deletes it at. */
  version: number;
  payloads: Buffer[];
}

const READ_AHEAD = 16;
/** Source batches per transaction at most: bounds the request and its delete list. */
const MAX_ITEMS_PER_STEP = 256;
const RETRY_DELAY_MS = 500;

/**
 * Moves whole source batches into whole log batches, exactly once: each step is ONE transaction
 * that passes the fence, creates the log batch (the source batches' messages, in order) and
 * deletes those source batches at the versions read. A step either applies whole or not at all;
 * a source batch deleted by an earlier step (or a step whose reply was lost) fails the delete of
 * any later attempt, so no message is appended twice, and a relay that lost its right to write
 * (fence) appends nothing. Source batches are taken in sequence order, one step at a time, so
 * each publisher's messages keep their order in the log. A publisher's retried copy of a batch
 * this relay already appended is dropped (see RelayedCreates for the one case it misses).
 *
 * Assumes it is the only consumer of the source while it runs (no QueueConsumer on it).
 */
export class LogRelay {
  private readonly events = new Subject<LogRelayEvent>();
  private readonly subscriptions: Subscription[] = [];
  private latest?: SegmentListing;
  private readonly own = new OwnBatches();
  /**
   * Source batches relayed that the last listing still held (it was read before their step's
   * deletes): skipped instead of read again only to find them gone.
   */
  private readonly relayedPaths = new Set<string>();
  private readonly passes = new SerialRunner(
    () => this.pass(),
    (error) => this.events.next({ type: 'relay-failed', error }),
  );
  private stopped = false;
  private count = 0;
  private readonly relayedCreates = new RelayedCreates();
  private ended?: () => void;
  /** Resolves once stopped. */
  readonly closed = new Promise<void>((resolve) => (this.ended = resolve));

  constructor(
    private readonly source: RelaySource,
    private readonly target: RelayTarget,
  ) {}

  /** Messages appended to the log by this relay. */
  get relayed(): number {
    return this.count;
  }

  get events$(): Observable<LogRelayEvent> {
    return this.events.asObservable();
  }

  async start(): Promise<void> {
    await this.target.ready();
    if (this.stopped) return;
    const written = this.source.writtenBatches$?.subscribe((batch) => {
      // A batch a listing brought and a step relayed before its publish returned is not taken again.
      if (!this.relayedCreates.has(nodeName(batch.path)) && this.own.add(batch)) this.passes.kick();
    });
    if (written) this.subscriptions.push(written);
    this.subscriptions.push(
      this.source.segments.watchEntries().subscribe({
        next: (listing) => {
          this.latest = listing;
          this.passes.kick();
        },
        error: (error: unknown) => this.events.next({ type: 'relay-failed', error }),
      }),
    );
  }

  /** Stops after the step in flight (which applies whole or not at all). */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const subscription of this.subscriptions.splice(0)) subscription.unsubscribe();
    await this.passes.idle();
    this.own.clear();
    this.relayedPaths.clear();
    this.events.complete();
    this.ended?.();
  }

  /**
   * One pass over the newest listing. Passes never overlap, and a listing that comes while one
   * runs gets a pass of its own (SerialRunner): a listing can never be left unrelayed because it
   * came just as the last pass was ending.
   */
  private async pass(): Promise<void> {
    const listing = this.latest;
    this.latest = undefined;
    if ((!listing && this.own.size === 0) || this.stopped) return;
    try {
      const complete = await this.relayAll(withOwn(this.unrelayed(listing), this.own.entries()));
      if (listing && complete) this.own.listingRelayed(listing.entries);
      // Older source segments emptied by the relay go (rare: one per roll-over).
      if (listing && listing.indices.length > 1) {
        await this.source.segments.removeEmpty([], listing.indices);
      }
    } catch (error) {
      if (this.stopped) return;
      // Whatever failed, the own batches are read from the server from now on.
      this.own.distrust();
      const deposed = this.target.fence.isDeposed?.(error) ?? false;
      this.events.next({ type: deposed ? 'deposed' : 'relay-failed', error });
      // Read the same list again (read items that are gone are skipped), unless a newer came.
      this.latest ??= listing;
      await sleep(RETRY_DELAY_MS);
      this.passes.kick();
    }
  }

  /** The listing's entries not relayed yet; forgets relayed batches the listing no longer has. */
  private unrelayed(listing: SegmentListing | undefined): SegmentEntry[] {
    if (!listing) return [];
    if (this.relayedPaths.size === 0) return [...listing.entries];
    const listed = new Set(listing.entries.map((entry) => entry.path));
    // Listings come in order: a batch gone from one is gone from every later one.
    for (const path of this.relayedPaths) if (!listed.has(path)) this.relayedPaths.delete(path);
    return listing.entries.filter((entry) => !this.relayedPaths.has(entry.path));
  }

  /** Relays the entries in order; false when it stopped before the last one. */
  private async relayAll(entries: readonly SegmentEntry[]): Promise<boolean> {
    const reads = new Map<number, Promise<ReadItem | undefined>>();
    const readAt = (index: number) => {
      for (let ahead = index; ahead < Math.min(index + READ_AHEAD, entries.length); ahead++) {
        if (!reads.has(ahead)) reads.set(ahead, this.read(entries[ahead]));
      }
      const read = reads.get(index)!;
      reads.delete(index);
      return read;
    };
    try {
      let step: ReadItem[] = [];
      let payloads: Buffer[] = [];
      let size = BATCH_HEADER_BYTES;
      for (let index = 0; index < entries.length && !this.stopped; index++) {
        const item = await readAt(index);
        if (!item) continue;
        if (this.relayedCreates.has(item.entry.name)) {
          await this.dropDuplicate(item);
          continue;
        }
        const mapped = item.payloads.map((payload) => this.target.transform(payload));
        const bytes = logBatchBytes(mapped) - BATCH_HEADER_BYTES;
        const fits =
          step.length < MAX_ITEMS_PER_STEP &&
          batchHasRoom(payloads.length + mapped.length - 1) &&
          size + bytes <= this.target.maxBatchBytes;
        if (!fits && step.length > 0) {
          await this.commit(step, payloads);
          [step, payloads, size] = [[], [], BATCH_HEADER_BYTES];
        }
        if (step.length === 0 && BATCH_HEADER_BYTES + bytes > this.target.maxBatchBytes) {
          const size = BATCH_HEADER_BYTES + bytes;
          this.events.next({ type: 'item-too-large', item: item.path, bytes: size });
          return false;
        }
        step.push(item);
        payloads.push(...mapped);
        size += bytes;
      }
      if (step.length > 0 && !this.stopped) await this.commit(step, payloads);
      return !this.stopped;
    } finally {
      // Reads left behind by a failure or a stop must not surface as unhandled.
      for (const read of reads.values()) read.catch(() => undefined);
    }
  }

  /** Deletes a retried copy at the version read; already gone is fine. */
  private async dropDuplicate(item: ReadItem): Promise<void> {
    this.own.forget(item.path);
    await this.source.connection.delete(item.path, { version: item.version }).catch(ignoreNoNode);
    this.events.next({ type: 'duplicate-dropped', item: item.path });
  }

  /** A source batch and its version, or undefined when it is gone (relayed already). */
  private async read(entry: SegmentEntry): Promise<ReadItem | undefined> {
    const path = entry.path;
    // Created with these bytes and never changed: version 0.
    const own = this.own.data(path);
    if (own) return { entry, path, version: 0, payloads: decodeBatch(own, path) };
    try {
      const { data, stat } = await this.source.connection.get(path);
      return { entry, path, version: stat.version, payloads: decodeBatch(data, path) };
    } catch (error) {
      if (!(error instanceof NoNodeError)) throw error;
      this.own.forget(path);
      return undefined;
    }
  }

  private async commit(items: readonly ReadItem[], payloads: readonly Buffer[]): Promise<void> {
    const log = this.target.log;
    // A log that rolled over meanwhile refuses the step whole: it goes again to the new segment.
    const { value: results, segment } = await log.writeTo((folder) => {
      const tx = this.target.fence.fenced(this.source.connection.transaction());
      appendLogBatch(tx, folder, payloads);
      for (const item of items) tx.delete(item.path, { version: item.version });
      return tx.commit();
    });
    this.relayedCreates.add(items.map((item) => item.entry.name));
    for (const item of items) {
      this.own.forget(item.path);
      this.relayedPaths.add(item.path);
    }
    const created = results.find((result) => result.type === 'create');
    if (created?.type === 'create') await log.created(segment, created.path);
    this.count += payloads.length;
    this.events.next({
      type: 'relayed',
      items: items.length,
      messages: payloads.length,
      entry: created?.type === 'create' ? created.path : '?',
    });
    this.target.appended();
  }
}

/**
 * The listed entries and the own batches not listed yet, in sequence order. Own batches may come
 * before batches of other publishers that are older but not listed yet: each publisher's batches
 * still keep their order (its own come in the order written, the others' in the listing's).
 */
function withOwn(listed: readonly SegmentEntry[], own: readonly SegmentEntry[]): SegmentEntry[] {
  if (own.length === 0) return [...listed];
  const paths = new Set(listed.map((entry) => entry.path));
  const merged = [...listed, ...own.filter((entry) => !paths.has(entry.path))];
  return merged.sort((a, b) => a.sequence - b.sequence);
}
