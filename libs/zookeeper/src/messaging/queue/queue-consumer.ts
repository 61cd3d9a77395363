import { filter, Subscription } from 'rxjs';
import { ConnectionState } from '../../connection/connection-state.enum.js';
import { joinPath } from '../../connection/paths.js';
import { SerialRunner } from '../../internal/serial-runner.js';
import { BatchEntry } from '../shared/entry-names.js';
import { ConsumerLine } from './consumer-line.js';
import { ItemClaims, itemClaims } from './item-claims.js';
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
 */
export class QueueConsumer<T> {
  /** Counters of this consumer's work (see ConsumerStats). */
  readonly stats: ConsumerStats = { listings: 0, turns: 0, backlogChecks: 0 };
  private readonly concurrency: number;
  private readonly held = new Map<string, HeldItem>();
  private readonly lockedByOthers = new Set<string>();
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
    this.listing = new ItemListing(context.connection, context.paths.items, () => {
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
    this.links.push(
      // Locks are ephemeral: after an expiry none of ours is held any more.
      state(ConnectionState.EXPIRED).subscribe(() => {
        for (const held of this.held.values()) held.lost = true;
        this.listing.invalidate();
      }),
      state(ConnectionState.CONNECTED).subscribe(() => {
        // A new session: the exists watches on other consumers' locks went with the old one.
        this.lockedByOthers.clear();
        this.listing.invalidate();
        this.fill();
      }),
      state(ConnectionState.RECONNECTED).subscribe(() => {
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
      const entry = this.listing.next(
        (name) => this.held.has(name) || this.lockedByOthers.has(name),
      );
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

  private async tryTake(entry: BatchEntry): Promise<boolean> {
    const claims = this.claims!;
    const outcome = await claims.take(entry);
    if (outcome === 'gone') {
      this.listing.markGone(entry.name);
      return false;
    }
    if (outcome === 'locked') {
      await this.watchLock(entry.name);
      return false;
    }
    const held: HeldItem = { lost: false };
    this.held.set(entry.name, held);
    // Full: a waiter takes the next items if one waits. Else to the end of the line, behind
    // the consumers that are waiting.
    if (this.held.size >= this.concurrency) this.line?.makeRoom();
    else this.line?.passTurn();
    held.done = this.worker!.work(outcome, held)
      .catch((error: unknown) => {
        this.context.emit({ type: 'item-abandoned', item: entry.name, error });
        return claims.release(outcome).catch(() => undefined);
      })
      .finally(() => {
        this.held.delete(entry.name);
        this.draining = !this.stopping;
        this.fill();
      });
    return true;
  }

  /** Another consumer holds the item: look again only once its lock goes. */
  private async watchLock(item: string): Promise<void> {
    const { connection, paths } = this.context;
    this.lockedByOthers.add(item);
    const release = () => {
      // Finished, most likely: one read rather than a take that fails.
      void connection
        .exists(joinPath(paths.items, item))
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
