import { joinPath } from '../../connection/paths.js';
import { NoNodeError } from '../../errors/zookeeper-errors.js';
import { ignoreNoNode } from '../../internal/no-node.js';
import { sleep } from '../../internal/sleep.js';
import { BatchEntry } from '../shared/entry-names.js';
import { decodeBatch } from '../shared/message-batch.js';
import { DeliveryReleasedError } from '../shared/messaging-errors.js';
import { writeDeadLetter } from './dead-letters.js';
import { ItemProgress } from './item-progress.js';
import { ConsumeOptions, ConsumerContext, MessageHandler } from './queue-types.js';

/** An item a consumer holds the lock of. */
export interface HeldItem {
  /** The lock went with an expired session: another consumer may own the item now. */
  lost: boolean;
  /** Settles once the consumer is done with the item. */
  done?: Promise<void>;
}

/**
 * Runs the messages of one locked item in order: resumes from its stored progress, retries a
 * failing message (its attempt count stored first, so crashes count too) and dead-letters it after
 * `maxAttempts`, writes progress every `progressIntervalMs`, then deletes the item (before its
 * progress, so a crash never leaves a finished item without it) and releases the lock.
 */
export class ItemWorker<T> {
  constructor(
    private readonly context: ConsumerContext,
    private readonly options: ConsumeOptions,
    private readonly handler: MessageHandler<T>,
    private readonly isStopping: () => boolean,
    /** The item is gone from the queue: never take it again from a stale listing. */
    private readonly markFinished: (item: string) => void,
  ) {}

  async work(entry: BatchEntry, held: HeldItem): Promise<void> {
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
      this.markFinished(entry.name);
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
      if (held.lost || this.isStopping()) {
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
          if (this.isStopping()) return this.releaseLock(lockPath);
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
    this.markFinished(entry.name);
    await connection.delete(progressPath).catch(ignoreNoNode);
    await this.releaseLock(lockPath);
  }

  /** Deletes the lock only while it is ours: after an expiry it may be another consumer's. */
  async releaseLock(lockPath: string): Promise<void> {
    const stat = await this.context.connection.exists(lockPath);
    if (stat && stat.ephemeralOwner === this.context.connection.session.id) {
      await this.context.connection.delete(lockPath, { version: stat.version }).catch(ignoreNoNode);
    }
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
