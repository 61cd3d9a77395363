import { filter, Subscription } from 'rxjs';
import { ConnectionState } from '../../connection/connection-state.enum.js';
import { CreateMode } from '../../connection/create-mode.enum.js';
import { joinPath } from '../../connection/paths.js';
import { NodeExistsError } from '../../errors/zookeeper-errors.js';
import { SerialRunner } from '../../internal/serial-runner.js';
import { watchChildren } from '../../watch/children-watch.js';
import { BatchEntry, parseBatchEntries } from '../shared/entry-names.js';
import { ConsumerLine } from './consumer-line.js';
import { HeldItem, ItemWorker } from './item-worker.js';
import { ConsumeOptions, ConsumerContext, ConsumerStats, MessageHandler } from './queue-types.js';

/**
 * One competing consumer. While it has a free slot it stands in the queue's line of idle
 * consumers (see ConsumerLine); only while active (in the front of the line) does it follow the
 * item list through a children watch, taking free items in sequence order, as many as it has free
 * slots, by creating `<locks>/<item>` as an ephemeral node. Once full it leaves the line, handing
 * the watch to the next waiter, and joins again at the end when a slot frees. An item found locked
 * gets an exists watch on its lock, so it looks again only when that lock goes (a crashed holder's
 * session ends), not on every change of the queue; a newly active consumer lists the items anew.
 */
export class QueueConsumer<T> {
  /** Counters of this consumer's work (see ConsumerStats). */
  readonly stats: ConsumerStats = { listings: 0, turns: 0, backlogChecks: 0 };
  private readonly concurrency: number;
  private readonly held = new Map<string, HeldItem>();
  private readonly lockedByOthers = new Set<string>();
  private readonly finished = new Set<string>();
  private readonly links: Subscription[] = [];
  private line?: ConsumerLine;
  private itemsLink?: Subscription;
  private names: readonly string[] = [];
  private readonly filler = new SerialRunner(
    () => this.takeFreeItems(),
    (error) => {
      this.context.emit({ type: 'consumer-error', error });
      setTimeout(() => this.fill(), 500);
    },
  );
  private checkBacklog = false;
  private stopping = false;

  private readonly worker: ItemWorker<T>;

  constructor(
    private readonly context: ConsumerContext,
    private readonly options: ConsumeOptions,
    handler: MessageHandler<T>,
  ) {
    this.concurrency = Math.max(1, options.concurrency ?? 1);
    this.worker = new ItemWorker(
      context,
      options,
      handler,
      () => this.stopping,
      (item) => this.finished.add(item),
    );
  }

  async start(): Promise<void> {
    await this.context.ready();
    const { connection, paths } = this.context;
    this.line = new ConsumerLine(
      connection,
      paths.waiters,
      (isActive) => this.onTurn(isActive),
      (error) => this.context.emit({ type: 'consumer-error', error }),
      this.options.lineFront ?? 2,
    );
    this.line.start();
    this.links.push(
      // Locks are ephemeral: after an expiry none of ours is held any more.
      connection.state$.pipe(filter((s) => s === ConnectionState.EXPIRED)).subscribe(() => {
        for (const held of this.held.values()) held.lost = true;
      }),
      connection.state$.pipe(filter((s) => s === ConnectionState.CONNECTED)).subscribe(() => {
        this.lockedByOthers.clear();
        this.fill();
      }),
    );
    this.line.join();
  }

  /** Takes no new item; held items stop after their current message and are released. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const link of this.links) link.unsubscribe();
    this.onTurn(false);
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

  /** Active: follow the item list. Not (any more): leave it to the next waiters. */
  private onTurn(isActive: boolean): void {
    this.itemsLink?.unsubscribe();
    this.itemsLink = undefined;
    this.names = [];
    if (!isActive || this.stopping) return;
    this.stats.turns++;
    this.itemsLink = watchChildren(this.context.connection, this.context.paths.items).subscribe({
      next: (names) => {
        this.stats.listings++;
        this.names = names;
        for (const name of this.finished) if (!names.includes(name)) this.finished.delete(name);
        this.fill();
      },
      error: (error: unknown) => this.context.emit({ type: 'consumer-error', error }),
    });
  }

  private fill(): void {
    if (!this.stopping) this.filler.kick();
  }

  private async takeFreeItems(): Promise<void> {
    if (this.stopping) return;
    if (this.checkBacklog) await this.takeBacklog();
    await this.takeFrom(this.names, () => this.line?.isActive === true);
  }

  /**
   * After an item, one look at the list before joining the line again. A dead consumer's node stays
   * in the line until its session expires, and while dead ones fill the front nobody watches the
   * items; with this, consumers that are working keep taking the backlog. One read per finished
   * item, not per idle consumer.
   */
  private async takeBacklog(): Promise<void> {
    this.checkBacklog = false;
    try {
      this.stats.backlogChecks++;
      const names = await this.context.connection.getChildren(this.context.paths.items);
      await this.takeFrom(names, () => true);
    } finally {
      if (!this.stopping && this.held.size < this.concurrency) this.line?.join();
    }
  }

  private async takeFrom(names: readonly string[], allowed: () => boolean): Promise<void> {
    for (const entry of parseBatchEntries(names)) {
      if (this.stopping || !allowed() || this.held.size >= this.concurrency) return;
      const { name } = entry;
      if (this.held.has(name) || this.finished.has(name) || this.lockedByOthers.has(name)) {
        continue;
      }
      await this.tryTake(entry);
    }
  }

  private async tryTake(entry: BatchEntry): Promise<void> {
    const { connection, paths } = this.context;
    const lockPath = joinPath(paths.locks, entry.name);
    try {
      await connection.create(lockPath, '', { mode: CreateMode.EPHEMERAL });
    } catch (error) {
      if (!(error instanceof NodeExistsError)) throw error;
      this.lockedByOthers.add(entry.name);
      const release = () => {
        this.lockedByOthers.delete(entry.name);
        this.fill();
      };
      if (!(await connection.exists(lockPath, { watch: release }))) release();
      return;
    }
    const held: HeldItem = { lost: false };
    this.held.set(entry.name, held);
    // Full: the next waiter watches the items while this consumer works. Else to the end of the
    // line, behind the consumers that are waiting.
    if (this.held.size >= this.concurrency) this.line?.leave();
    else this.line?.passTurn();
    held.done = this.worker
      .work(entry, held)
      .catch((error: unknown) => {
        this.context.emit({ type: 'item-abandoned', item: entry.name, error });
        return this.worker.releaseLock(lockPath).catch(() => undefined);
      })
      .finally(() => {
        this.held.delete(entry.name);
        // The line is joined again after the backlog check (takeBacklog).
        this.checkBacklog = !this.stopping;
        this.fill();
      });
  }
}
