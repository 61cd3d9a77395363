import { filter, Subscription } from 'rxjs';
import { ConnectionState } from '../../connection/connection-state.enum.js';
import { CreateMode } from '../../connection/create-mode.enum.js';
import { joinPath } from '../../connection/paths.js';
import { ZookeeperConnection } from '../../connection/zookeeper-connection.js';
import { NodeExistsError, NoNodeError } from '../../errors/zookeeper-errors.js';
import { Serializer } from '../../codec/serializers.js';
import { watchChildren } from '../../watch/children-watch.js';
import { BatchEntry, parseBatchEntries } from '../shared/entry-names.js';
import { decodeBatch } from '../shared/message-batch.js';
import { DeliveryReleasedError } from '../shared/messaging-errors.js';
import { ConsumerLine } from './consumer-line.js';
import { writeDeadLetter } from './dead-letters.js';
import { ItemProgress } from './item-progress.js';
import { ignoreNoNode } from '../../internal/no-node.js';
import { SerialRunner } from '../../internal/serial-runner.js';
import { sleep } from '../../internal/sleep.js';

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
   * How often an item's progress is written while its messages succeed. A crash redelivers the
   * messages handled since the last write. Default 100 ms.
   */
  progressIntervalMs?: number;
}

export interface MessageContext {
  /** The item (batch znode) and the message's index in it. */
  readonly item: string;
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
  | { type: 'consumer-error'; error: unknown };

export interface QueuePaths {
  items: string;
  locks: string;
  progress: string;
  dead: string;
  /** The line of idle consumers (see ConsumerLine). */
  waiters: string;
}

/** What a consumer did, for tests and metrics. */
export interface ConsumerStats {
  /** Item lists read and acted on (one per children-watch delivery while active in the line). */
  listings: number;
  /** Times this consumer became active (moved into the front of the line of idle consumers). */
  turns: number;
  /** Item lists read after finishing an item, before joining the line again. */
  backlogChecks: number;
}

/** What a consumer needs from its WorkQueue. */
export interface ConsumerContext {
  readonly connection: ZookeeperConnection;
  readonly paths: QueuePaths;
  readonly serializer: Serializer;
  ready(): Promise<void>;
  emit(event: WorkQueueEvent): void;
  /** Called once `stop()` has released everything. */
  stopped(): void;
}

interface Held {
  lost: boolean;
  done?: Promise<void>;
}

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
  private readonly held = new Map<string, Held>();
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

  constructor(
    private readonly context: ConsumerContext,
    private readonly options: ConsumeOptions,
    private readonly handler: MessageHandler<T>,
  ) {
    this.concurrency = Math.max(1, options.concurrency ?? 1);
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
    const held: Held = { lost: false };
    this.held.set(entry.name, held);
    // Full: the next waiter watches the items while this consumer works. Else to the end of the
    // line, behind the consumers that are waiting.
    if (this.held.size >= this.concurrency) this.line?.leave();
    else this.line?.passTurn();
    held.done = this.work(entry, held)
      .catch((error: unknown) => {
        this.context.emit({ type: 'item-abandoned', item: entry.name, error });
        return this.releaseLock(lockPath).catch(() => undefined);
      })
      .finally(() => {
        this.held.delete(entry.name);
        // The line is joined again after the backlog check (takeBacklog).
        this.checkBacklog = !this.stopping;
        this.fill();
      });
  }

  private async work(entry: BatchEntry, held: Held): Promise<void> {
    const { connection, paths, serializer } = this.context;
    const itemPath = joinPath(paths.items, entry.name);
    const lockPath = joinPath(paths.locks, entry.name);
    const progressPath = joinPath(paths.progress, entry.name);
    let data: Buffer;
    try {
      data = (await connection.get(itemPath)).data;
    } catch (error) {
      if (!(error instanceof NoNodeError)) throw error;
      // Finished by another consumer between our listing and our lock.
      await connection.delete(progressPath).catch(ignoreNoNode);
      this.finished.add(entry.name);
      return this.releaseLock(lockPath);
    }
    const payloads = decodeBatch(data, itemPath);
    const progress = new ItemProgress(connection, progressPath);
    const start = await progress.load();
    const maxAttempts = Math.max(1, this.options.maxAttempts ?? 5);
    const interval = this.options.progressIntervalMs ?? 100;
    let savedAt = Date.now();
    let saved = start.next;

    for (let index = start.next; index < payloads.length; index++) {
      if (held.lost || this.stopping) {
        if (!held.lost && saved < index) await progress.save({ next: index, attempts: 0 });
        if (held.lost) this.context.emit({ type: 'item-abandoned', item: entry.name });
        return held.lost ? undefined : this.releaseLock(lockPath);
      }
      let attempts = index === start.next ? start.attempts : 0;
      for (;;) {
        try {
          const message = serializer.deserialize(payloads[index]) as T;
          await this.handler(message, { item: entry.name, index, attempt: attempts + 1 });
          break;
        } catch (error) {
          if (error instanceof DeliveryReleasedError) {
            // Given back unsettled (an Observable consumer was unsubscribed): not an attempt.
            await progress.save({ next: index, attempts });
            return this.releaseLock(lockPath);
          }
          attempts++;
          if (attempts >= maxAttempts) {
            await writeDeadLetter(connection, paths.dead, payloads[index], {
              error: describe(error),
              attempts,
              item: entry.name,
              index,
              failedAt: Date.now(),
            });
            this.context.emit({ type: 'dead-lettered', item: entry.name, index, attempts, error });
            await progress.save({ next: index + 1, attempts: 0 });
            saved = index + 1;
            break;
          }
          this.context.emit({
            type: 'handler-failed',
            item: entry.name,
            index,
            attempt: attempts,
            error,
          });
          // Retrying an item whose lock went with the session would run it beside its next owner.
          if (held.lost) return this.context.emit({ type: 'item-abandoned', item: entry.name });
          // Stored before the next run, so a crash-looping message still reaches maxAttempts.
          await progress.save({ next: index, attempts });
          if (this.stopping) return this.releaseLock(lockPath);
          await sleep(this.options.retryDelayMs ?? 100);
        }
      }
      // Not once the lock is lost: the next owner may have loaded the progress already, and this
      // write would knock it off the item (its next write fails the version check).
      if (!held.lost && index + 1 < payloads.length && Date.now() - savedAt >= interval) {
        await progress.save({ next: index + 1, attempts: 0 });
        saved = index + 1;
        savedAt = Date.now();
      }
    }
    // The item goes first: a crash after it leaves only an orphan progress node, never a
    // finished item without its progress (which would run it all again).
    await connection.delete(itemPath).catch(ignoreNoNode);
    this.finished.add(entry.name);
    await connection.delete(progressPath).catch(ignoreNoNode);
    await this.releaseLock(lockPath);
  }

  /** Deletes the lock only while it is ours: after an expiry it may be another consumer's. */
  private async releaseLock(lockPath: string): Promise<void> {
    const stat = await this.context.connection.exists(lockPath);
    if (stat && stat.ephemeralOwner === this.context.connection.session.id) {
      await this.context.connection.delete(lockPath, { version: stat.version }).catch(ignoreNoNode);
    }
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
