import { filter, Subscription } from 'rxjs';
import { ConnectionState } from '../../connection/connection-state.enum.js';
import { joinPath } from '../../connection/paths.js';
import { SerialRunner } from '../../internal/serial-runner.js';
import { SegmentEntry } from '../shared/entry-names.js';
import { ConsumerLine } from './consumer-line.js';
import { Claim, FinishOutcome, Handoff, ItemClaims, itemClaims, Taken } from './item-claims.js';
import { ItemListing } from './item-listing.js';
import { HeldItem, ItemWorker } from './item-worker.js';
import { ConsumeOptions, ConsumerContext, ConsumerStats, MessageHandler } from './queue-types.js';

/**
 * One competing consumer. While it has a free slot it stands in the queue's line of idle
 * consumers (see ConsumerLine); while active (in the front of the line) it keeps a sorted copy of
 * the item list (ItemListing) with a children watch, and takes free items from it in sequence
 * order, as many as it has free slots (see ItemClaims for what a take writes). The copy is read
 * once and consumed item after item; a watch firing only marks it stale, and it is read again when
 * it runs dry, so a backlog costs one listing, not one per item. Once full, the consumer leaves the
 * line only when others wait behind the front (see ConsumerLine.makeRoom). After finishing an item
 * it keeps taking from the backlog it knows (reading the list again, without a watch, when it
 * runs dry), and joins the line again when there is nothing left for it: a dead consumer in the
 * front of the line never stalls the consumers that are working. An item found locked gets an
 * exists watch on its lock, so it is looked at again only when that lock goes (a crashed holder's
 * session ends), not on every change of the queue.
 *
 * With the driver's `multi`, a slot whose item is done while its copy of the list knows a next
 * free item acknowledges the one and takes the other in a single transaction (see
 * ItemClaims.finishAndTake), and the next item's bytes are read while the current one runs
 * (items are written once; the transaction still decides whether the item is ours). Through a
 * backlog, one server round trip separates two items, as in the plain queue recipe.
 */
export class QueueConsumer<T> {
  /** Counters of this consumer's work (see ConsumerStats). */
  readonly stats: ConsumerStats = { listings: 0, turns: 0, backlogChecks: 0 };
  private readonly concurrency: number;
  private readonly held = new Map<string, HeldItem>();
  private readonly lockedByOthers = new Set<string>();
  /** Corrupt items left in place (too large for a dead letter): never taken again. */
  private readonly keptAside = new Set<string>();
  /** Set while the connection is SUSPENDED: resolved when it is back, expired, or on stop. */
  private suspension?: { promise: Promise<void>; resume: () => void };
  /** Items this consumer is taking now (a take or a handoff in flight). */
  private readonly taking = new Set<string>();
  /** Bytes of next items, read while the current ones run (items are written once). */
  private readonly readAhead = new Map<string, Promise<Buffer | undefined>>();
  private readonly links: Subscription[] = [];
  private readonly listing: ItemListing;
  private line?: ConsumerLine;
  private claims?: ItemClaims;
  private worker?: ItemWorker<T>;
  private readonly filler = new SerialRunner(
    () => this.takeFreeItems(),
    (error) => {
      this.context.emit({ type: 'consumer-error', error });
      setTimeout(() => this.fill(), 500);
    },
  );
  /** An item finished: go on with the backlog known, then join the line again. */
  private draining = false;
  private stopping = false;

  constructor(
    private readonly context: ConsumerContext,
    private readonly options: ConsumeOptions,
    private readonly handler: MessageHandler<T>,
  ) {
    this.concurrency = Math.max(1, options.concurrency ?? 1);
    this.listing = new ItemListing(context.connection, context.segments, () => {
      // New items (or items finished by others) while full: let a waiter have them.
      if (this.held.size >= this.concurrency) this.line?.makeRoom();
      this.fill();
    });
  }

  async start(): Promise<void> {
    await this.context.ready();
    const { connection, paths } = this.context;
    // The connection is open now: its driver says whether there are transactions.
    this.claims = itemClaims(connection, paths);
    this.worker = new ItemWorker(
      this.context,
      this.claims,
      this.options,
      this.handler,
      () => this.stopping,
      (item) => this.listing.markGone(item),
      (item) => this.keptAside.add(item),
      () => this.suspension?.promise ?? Promise.resolve(),
    );
    this.line = new ConsumerLine(
      connection,
      paths.waiters,
      (isActive) => this.onTurn(isActive),
      (error) => this.context.emit({ type: 'consumer-error', error }),
      this.options.lineFront ?? 2,
    );
    this.line.start();
    const state = (wanted: ConnectionState) => connection.state$.pipe(filter((s) => s === wanted));
    if (connection.state === ConnectionState.SUSPENDED) this.suspend();
    this.links.push(
      // Cut off: our locks may expire on the server (and go to other consumers) before we hear of
      // it, so the held items start no new message until the connection is back.
      state(ConnectionState.SUSPENDED).subscribe(() => this.suspend()),
      // Locks are ephemeral: after an expiry none of ours is held any more.
      state(ConnectionState.EXPIRED).subscribe(() => {
        for (const held of this.held.values()) held.lost = true;
        this.listing.invalidate();
        this.resume();
      }),
      // The connection ended for good: nothing to wait for (the items' requests fail).
      state(ConnectionState.CLOSED).subscribe(() => this.resume()),
      state(ConnectionState.AUTH_FAILED).subscribe(() => this.resume()),
      state(ConnectionState.CONNECTED).subscribe(() => {
        // Items held over an expiry were marked lost on EXPIRED (and are abandoned).
        for (const held of this.held.values()) held.lost = true;
        this.resume();
        // A new session: the exists watches on other consumers' locks went with the old one.
        this.lockedByOthers.clear();
        this.listing.invalidate();
        this.fill();
      }),
      state(ConnectionState.RECONNECTED).subscribe(() => {
        // The same session: our locks held all along, the items go on.
        this.resume();
        this.listing.invalidate();
        this.fill();
      }),
    );
    this.line.join();
  }

  /** Takes no new item; held items stop after their current message and are released. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const link of this.links) link.unsubscribe();
    // Held items stop before their next message (released once the connection allows).
    this.resume();
    this.listing.invalidate();
    await this.line?.close();
    while (this.held.size > 0) {
      await Promise.allSettled([...this.held.values()].map((held) => held.done));
    }
    this.context.stopped();
  }

  /** Items this consumer holds now. */
  get heldItems(): string[] {
    return [...this.held.keys()];
  }

  private suspend(): void {
    if (this.suspension || this.stopping) return;
    let resume!: () => void;
    const promise = new Promise<void>((resolve) => (resume = resolve));
    this.suspension = { promise, resume };
  }

  private resume(): void {
    const suspension = this.suspension;
    this.suspension = undefined;
    suspension?.resume();
  }

  /** Active: follow the item list (the next read arms a watch). Not (any more): no watch. */
  private onTurn(isActive: boolean): void {
    this.listing.invalidate();
    if (!isActive || this.stopping) return;
    this.stats.turns++;
    this.fill();
  }

  private fill(): void {
    if (!this.stopping) this.filler.kick();
  }

  private async takeFreeItems(): Promise<void> {
    // Set by a read that found nothing to take: one read per pass then, not a loop of them.
    let readInVain = false;
    while (!this.stopping && this.held.size < this.concurrency) {
      const active = this.line?.isActive === true;
      if (!active && !this.draining) return;
      const entry = this.listing.next(this.unavailable);
      if (entry) {
        if (await this.tryTake(entry)) readInVain = false;
        continue;
      }
      if (!this.listing.stale || readInVain) break;
      if (active) this.stats.listings++;
      else this.stats.backlogChecks++;
      await this.listing.read(active);
      readInVain = true;
    }
    // Nothing left that this consumer knows of: back in line (a no-op if it never left).
    if (this.draining && !this.stopping && this.held.size < this.concurrency) {
      this.draining = false;
      this.line?.join();
    }
  }

  /** Held, being taken, or another consumer's: not to be taken now. */
  private readonly unavailable = (name: string): boolean =>
    this.held.has(name) ||
    this.taking.has(name) ||
    this.lockedByOthers.has(name) ||
    this.keptAside.has(name);

  private async tryTake(entry: SegmentEntry): Promise<boolean> {
    this.taking.add(entry.name);
    const outcome = await this.claims!.take(entry).finally(() => this.taking.delete(entry.name));
    if (outcome === 'gone') {
      this.listing.markGone(entry.name);
      return false;
    }
    if (outcome === 'locked') {
      await this.watchLock(entry);
      return false;
    }
    this.serve(outcome, { lost: false });
    return true;
  }

  /** Runs a taken item in a slot; a Taken one once its bytes (`bytes`, when being read) are in. */
  private serve(taken: Taken | Claim, held: HeldItem, bytes?: Promise<Buffer | undefined>): void {
    const claims = this.claims!;
    const name = taken.entry.name;
    this.held.set(name, held);
    // Full: a waiter takes the next items if one waits. Else to the end of the line, behind
    // the consumers that are waiting.
    if (this.held.size >= this.concurrency) this.line?.makeRoom();
    else this.line?.passTurn();
    const ahead = this.readNext();
    held.done = this.run(taken, held, bytes)
      .catch((error: unknown) => {
        this.context.emit({ type: 'item-abandoned', item: name, error });
        return claims.release(taken).catch(() => undefined);
      })
      .finally(() => {
        if (ahead) this.readAhead.delete(ahead);
        // Unless handed off: then the next item holds the slot already.
        if (this.held.get(name) === held) this.held.delete(name);
        this.draining = !this.stopping;
        this.fill();
      });
  }

  private async run(
    taken: Taken | Claim,
    held: HeldItem,
    bytes?: Promise<Buffer | undefined>,
  ): Promise<void> {
    const claim = 'data' in taken ? taken : await this.claims!.load!(taken, bytes);
    if (claim === 'gone') return this.listing.markGone(taken.entry.name);
    await this.worker!.work(claim, held, (done) => this.acknowledge(done, held));
  }

  /**
   * Acknowledges a finished item. While the listing knows a next free item (and the driver has
   * `multi`), takes that item in the same transaction, and this slot goes on with it: one server
   * round trip between two items of a backlog instead of two.
   */
  private async acknowledge(claim: Claim, held: HeldItem): Promise<FinishOutcome> {
    const claims = this.claims!;
    const next =
      claims.finishAndTake && !this.stopping && !held.lost
        ? this.listing.next(this.unavailable)
        : undefined;
    if (!next) return claims.finish(claim);
    const data = this.readAhead.get(next.name);
    this.readAhead.delete(next.name);
    this.taking.add(next.name);
    const handoff: Handoff = await claims.finishAndTake!(claim, next, data).finally(() =>
      this.taking.delete(next.name),
    );
    // Before the next item runs: its acknowledgement must not offer this one as its next.
    if (handoff.finished.done) this.listing.markGone(claim.entry.name);
    const taken = handoff.next;
    if (taken === 'gone') this.listing.markGone(next.name);
    else if (taken === 'locked')
      this.watchLock(next).catch((error: unknown) => this.lockWatchFailed(next.name, error));
    else if (taken) {
      // At once on the reply: an expiry from now on marks the next item lost as well.
      this.held.delete(claim.entry.name);
      this.serve(taken, { lost: false }, handoff.bytes);
    }
    return handoff.finished;
  }

  /** Starts reading the bytes of the next free item while the current one runs. */
  private readNext(): string | undefined {
    if (!this.claims?.finishAndTake || this.stopping) return undefined;
    const next = this.listing.next((name) => this.unavailable(name) || this.readAhead.has(name));
    if (!next) return undefined;
    this.readAhead.set(
      next.name,
      this.context.connection.get(next.path).then(
        (node) => node.data,
        () => undefined,
      ),
    );
    return next.name;
  }

  private lockWatchFailed(item: string, error: unknown): void {
    this.lockedByOthers.delete(item);
    this.context.emit({ type: 'consumer-error', error });
    this.fill();
  }

  /** Another consumer holds the item: look again only once its lock goes. */
  private async watchLock(entry: SegmentEntry): Promise<void> {
    const { connection, paths } = this.context;
    const item = entry.name;
    this.lockedByOthers.add(item);
    const release = () => {
      // Finished, most likely: one read rather than a take that fails.
      void connection
        .exists(entry.path)
        .then((stat) => stat || this.listing.markGone(item))
        .catch(() => undefined)
        .finally(() => {
          this.lockedByOthers.delete(item);
          this.fill();
        });
    };
    if (!(await connection.exists(joinPath(paths.locks, item), { watch: release }))) release();
  }
}
