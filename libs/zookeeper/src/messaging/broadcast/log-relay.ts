import { Observable, Subject, Subscription } from 'rxjs';
import { nodeName } from '../../connection/paths.js';
import { JsonSerializer } from '../../codec/serializers.js';
import { NoNodeError } from '../../errors/zookeeper-errors.js';
import { ignoreNoNode } from '../../internal/no-node.js';
import { SerialRunner } from '../../internal/serial-runner.js';
import { sleep } from '../../internal/sleep.js';
import { parseBatchEntry, SegmentEntry } from '../shared/entry-names.js';
import { SegmentListing } from '../shared/segmented-folder.js';
import { BATCH_HEADER_BYTES, decodeBatch } from '../shared/message-batch.js';
import { MessageTooLargeError, NotAppendedError } from '../shared/messaging-errors.js';
import {
  DirectAppend,
  DirectAppends,
  DirectStepContext,
  writeDirectBatch,
} from './direct-appends.js';
import { appendLogBatch, batchHasRoom, logBatchBytes } from './log-batch-op.js';
import { OwnBatches } from './own-batches.js';
import { RelayedCreates } from './relayed-creates.js';
import { LogRelayEvent, RelaySource, RelayTarget, TransactionFence } from './relay-types.js';

export type { LogRelayEvent, RelaySource, RelayTarget, TransactionFence };

interface ReadItem {
  entry: SegmentEntry;
  path: string;
  /** The version the step deletes it at. */
  version: number;
  payloads: Buffer[];
}

const DEFAULT_SERIALIZER = new JsonSerializer();
/** How long a stopping relay still looks for a direct step whose reply was lost. */
const STOP_SEARCH_GRACE_MS = 2000;

/** How a pass over the source ended. */
type PassOutcome =
  /** Everything listed was relayed. */
  | 'done'
  /** It stopped at a batch too large to append, which stays in the source. */
  | 'stuck'
  | 'stopped';
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
  private lastStepAt = -Infinity;
  /** The newest log batch this relay appended (its sequence), -1 before the first. */
  private lastSequence = -1;
  /**
   * A listing that came after start() was relayed: batches of the source this process wrote
   * before the relay started (which it never saw as written) are in the log.
   */
  private caughtUp = false;
  private abandonSearches?: () => void;
  /** Resolves a grace period after stop(): a lost reply's search gives up then. */
  private readonly searchesAbandoned = new Promise<void>(
    (resolve) => (this.abandonSearches = resolve),
  );
  private readonly relayedCreates = new RelayedCreates();
  private readonly direct = new DirectAppends();

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

  /**
   * Appends `message` to the log through this relay's fenced steps, exactly once, without storing
   * it in the source first: one write instead of two, for a process that relays and also accepts
   * messages. It lands after every source batch this process wrote before the call (the ones
   * writtenBatches$ reported, and those from before start(): appends wait until the first
   * listing is relayed) and after the earlier calls; a publish to the source still in flight
   * when this is called may land after it. Resolves once the message is in the log. Rejects
   * with NotAppendedError when it is not and never will be (the relay stopped; its fence or the
   * server refused the step; a step of source batches before it failed; an earlier append
   * failed): publish it to the source instead. After a lost reply the log is searched for the
   * step's batch first; AppendOutcomeUnknownError when the search cannot tell (the relay
   * stopped, or retention may have deleted the batch first). MessageTooLargeError, at once, for
   * a message above the log's batch limit.
   */
  append(message: unknown): Promise<void> {
    if (this.stopped) return Promise.reject(new NotAppendedError('stopped'));
    let payload: Buffer;
    try {
      const serializer = this.source.serializer ?? DEFAULT_SERIALIZER;
      payload = this.target.transform(serializer.serialize(message));
    } catch (error) {
      return Promise.reject(error);
    }
    const bytes = logBatchBytes([payload]);
    if (bytes > this.target.maxBatchBytes) {
      return Promise.reject(new MessageTooLargeError(bytes, this.target.maxBatchBytes));
    }
    const appended = this.direct.add(payload);
    this.passes.kick();
    return appended;
  }

  /** Stops after the step in flight (which applies whole or not at all). */
  async stop(): Promise<void> {
    this.stopped = true;
    setTimeout(() => this.abandonSearches?.(), STOP_SEARCH_GRACE_MS).unref();
    for (const subscription of this.subscriptions.splice(0)) subscription.unsubscribe();
    await this.passes.idle();
    this.direct.rejectAll(new NotAppendedError('stopped'));
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
    const hasWork = this.latest || this.own.size > 0 || this.direct.size > 0;
    const wait = this.lastStepAt + this.target.lingerMs - performance.now();
    // Under load, what comes meanwhile shares the step; after a quiet spell it goes at once.
    if (hasWork && wait > 0 && !this.stopped) await sleep(wait);
    const listing = this.latest;
    this.latest = undefined;
    // Taken with the own batches (same turn): each direct append comes after every own batch
    // written before it. Until the first listing is relayed, or while an own batch waits for a
    // listing, they wait.
    const directReady = this.caughtUp && this.own.inOrder;
    const direct = directReady ? this.direct.take() : [];
    if ((!listing && this.own.size === 0 && direct.length === 0) || this.stopped) {
      return this.direct.putBack(direct);
    }
    try {
      const outcome = await this.relayAll(withOwn(this.unrelayed(listing), this.own.entries()));
      if (listing && outcome !== 'stopped') {
        // Past a batch too large to append as well: it stays in the source for good, and the
        // batches behind it with it; appends waiting on them would wait for ever.
        this.own.listingRelayed(listing.entries);
        this.caughtUp = true;
      }
      await this.appendDirect(direct.splice(0));
      // Older source segments emptied by the relay go (rare: one per roll-over).
      if (listing && listing.indices.length > 1) {
        await this.source.segments.removeEmpty([], listing.indices);
      }
    } catch (error) {
      if (this.stopped) return this.direct.putBack(direct);
      // Whatever failed, the own batches are read from the server from now on.
      this.own.distrust();
      const deposed = this.target.fence.isDeposed?.(error) ?? false;
      this.events.next({ type: deposed ? 'deposed' : 'relay-failed', error });
      // Nothing of the direct appends was written: their callers publish them to the source
      // (waiting here, they would wait as long as the failure lasts), and so do the later ones,
      // which would otherwise overtake them.
      const refused = new NotAppendedError(deposed ? 'deposed' : 'failed', error);
      for (const append of direct) append.reject(refused);
      this.direct.rejectAll(refused);
      // Read the same list again (read items that are gone are skipped), unless a newer came.
      this.latest ??= listing;
      await sleep(RETRY_DELAY_MS);
      this.passes.kick();
      return;
    }
    // Appends held back by this pass's start may go now.
    const nowReady = this.caughtUp && this.own.inOrder;
    if (!directReady && nowReady && this.direct.size > 0 && !this.stopped) this.passes.kick();
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

  /** Relays the entries in order. */
  private async relayAll(entries: readonly SegmentEntry[]): Promise<PassOutcome> {
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
          return 'stuck';
        }
        step.push(item);
        payloads.push(...mapped);
        size += bytes;
      }
      if (step.length > 0 && !this.stopped) await this.commit(step, payloads);
      return this.stopped ? 'stopped' : 'done';
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

  /**
   * Appends the direct appends in order, in as few log batches as the limits allow, each in its
   * own fenced step. A step that fails rejects its appends and every later one (they would not
   * keep their order behind it); the callers publish them to the source.
   */
  private async appendDirect(appends: readonly DirectAppend[]): Promise<void> {
    let next = 0;
    while (next < appends.length) {
      if (this.stopped) return this.direct.putBack(appends.slice(next));
      const step = [appends[next]];
      let size = logBatchBytes([appends[next].payload]);
      for (next++; next < appends.length && batchHasRoom(step.length); next++) {
        const bytes = logBatchBytes([appends[next].payload]) - BATCH_HEADER_BYTES;
        if (size + bytes > this.target.maxBatchBytes) break;
        step.push(appends[next]);
        size += bytes;
      }
      const payloads = step.map((append) => append.payload);
      this.lastStepAt = performance.now();
      let written: { path: string; segment: number };
      try {
        written = await writeDirectBatch(this.directContext, payloads);
      } catch (error) {
        const cause = error instanceof NotAppendedError ? error.cause : error;
        const deposed = error instanceof NotAppendedError && error.reason === 'deposed';
        this.events.next({ type: deposed ? 'deposed' : 'relay-failed', error: cause });
        for (const append of step) append.reject(error);
        // The later ones too, waiting or not yet taken: they would overtake these on their way
        // to the source.
        const later =
          error instanceof NotAppendedError ? error : new NotAppendedError('failed', error);
        for (const append of appends.slice(next)) append.reject(later);
        this.direct.rejectAll(later);
        return;
      }
      // Counted before the appends resolve; the batch stands whatever happens next (a failed
      // roll-over is retried by a later write).
      const rolled = this.appended(written.path, written.segment, 0, payloads.length);
      for (const append of step) append.resolve();
      await rolled.catch((error: unknown) => this.events.next({ type: 'relay-failed', error }));
    }
  }

  private get directContext(): DirectStepContext {
    const { source, target } = this;
    return {
      connection: source.connection,
      log: target.log,
      fence: target.fence,
      lastSequence: this.lastSequence,
      abandoned: this.searchesAbandoned,
    };
  }

  /** A log batch is in: rolls over when due, counts, reports. */
  private async appended(path: string, segment: number, items: number, messages: number) {
    const sequence = parseBatchEntry(nodeName(path), segment)?.sequence ?? -1;
    this.lastSequence = Math.max(this.lastSequence, sequence);
    this.count += messages;
    this.events.next({ type: 'relayed', items, messages, entry: path });
    this.target.appended();
    await this.target.log.created(segment, path);
  }

  private async commit(items: readonly ReadItem[], payloads: readonly Buffer[]): Promise<void> {
    const log = this.target.log;
    this.lastStepAt = performance.now();
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
    const path = created?.type === 'create' ? created.path : '?';
    await this.appended(path, segment, items.length, payloads.length);
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
