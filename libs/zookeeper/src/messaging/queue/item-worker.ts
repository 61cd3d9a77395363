import { sleep } from '../../internal/sleep.js';
import { decodeBatch } from '../shared/message-batch.js';
import { DeliveryReleasedError } from '../shared/messaging-errors.js';
import { CorruptProgressError } from './item-progress.js';
import { CorruptBatchError } from '../shared/messaging-errors.js';
import { letterFits, writeDeadLetter } from './dead-letters.js';
import { Claim, FinishOutcome, ItemClaims } from './item-claims.js';
import { ConsumeOptions, ConsumerContext, MessageHandler } from './queue-types.js';

/** An item a consumer holds the lock of. */
export interface HeldItem {
  /** The lock went with an expired session: another consumer may own the item now. */
  lost: boolean;
  /** Settles once the consumer is done with the item. */
  done?: Promise<void>;
}

/**
 * Runs the messages of one claimed item in order: resumes from its stored progress, retries a
 * failing message (its attempt count stored first, so crashes after a failure count too) and
 * dead-letters it after `maxAttempts`, writes progress every `progressIntervalMs` while an item's
 * messages succeed (never for a one-message item, never before the handler), then acknowledges
 * the item (see ItemClaims: one fenced transaction with `multi`).
 */
export class ItemWorker<T> {
  constructor(
    private readonly context: ConsumerContext,
    private readonly claims: ItemClaims,
    private readonly options: ConsumeOptions,
    private readonly handler: MessageHandler<T>,
    private readonly isStopping: () => boolean,
    /** The item is gone from the queue: never take it again from the listing. */
    private readonly markFinished: (item: string) => void,
    /** A corrupt item left in place (too large for a letter): never take it again. */
    private readonly keepAside: (item: string) => void,
    /**
     * Resolves at once while the connection is up; while it is SUSPENDED, once it is back (the
     * same session or not: `held.lost` tells) or the consumer stops. No message starts meanwhile.
     */
    private readonly whenConnected: () => Promise<void>,
  ) {}

  /**
   * `acknowledge` deletes the finished item (by default `finish` alone; the consumer may take its
   * next item in the same transaction).
   */
  async work(
    claim: Claim,
    held: HeldItem,
    acknowledge: (claim: Claim) => Promise<FinishOutcome> = (done) => this.claims.finish(done),
  ): Promise<void> {
    const { connection, paths, serializer } = this.context;
    const { entry, progress } = claim;
    let payloads: Buffer[];
    try {
      payloads = checkedItem(claim, entry.path);
    } catch (error) {
      return this.quarantine(claim, held, error, acknowledge);
    }
    const start = progress.start;
    const maxAttempts = Math.max(1, this.options.maxAttempts ?? 5);
    const interval = this.options.progressIntervalMs ?? 100;
    let savedAt = Date.now();
    let saved = start.next;
    const abandon = (error?: unknown) =>
      this.context.emit({ type: 'item-abandoned', item: entry.name, error });

    for (let index = start.next; index < payloads.length; index++) {
      // Cut off (SUSPENDED): the lock may be another consumer's by now; start nothing until the
      // connection is back, then go on only if the session (so the lock) is still ours.
      await this.whenConnected();
      if (held.lost) return abandon();
      if (this.isStopping()) {
        return this.claims.release(claim, saved < index ? { next: index, attempts: 0 } : undefined);
      }
      let attempts = index === start.next ? start.attempts : 0;
      for (;;) {
        try {
          const message = serializer.deserialize(payloads[index]) as T;
          await this.handler(message, {
            item: entry.name,
            path: entry.path,
            index,
            attempt: attempts + 1,
          });
          break;
        } catch (error) {
          if (error instanceof DeliveryReleasedError) {
            // Given back unsettled (an Observable consumer was unsubscribed): not an attempt.
            const moved = saved < index || attempts !== (index === start.next ? start.attempts : 0);
            return this.claims.release(claim, moved ? { next: index, attempts } : undefined);
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
          if (held.lost) return abandon();
          // Stored before the next run, so a crash-looping message still reaches maxAttempts.
          await progress.save({ next: index, attempts });
          if (this.isStopping()) return this.claims.release(claim);
          await sleep(this.options.retryDelayMs ?? 100);
          await this.whenConnected();
          if (held.lost) return abandon();
          if (this.isStopping()) return this.claims.release(claim);
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
    // Without server-side fencing, a lock known lost is not acknowledged; with it, the
    // transaction is the judge (it fails once the lock is gone or has a new owner).
    if (held.lost && !this.claims.fenced) return abandon();
    const outcome = await acknowledge(claim);
    // Refused: another consumer may own the item now, or nobody (its lock went with our session):
    // it stays takeable, so a lone consumer takes it again (a take finds another's lock).
    if (outcome.done) this.markFinished(entry.name);
    else abandon(outcome.error);
  }

  /**
   * Moves an item that cannot be run as it is to the dead letters whole (raw bytes, `wholeItem`)
   * and deletes it, as an acknowledgement does (fenced the same way); one too large for a letter
   * stays where it is and this consumer skips it. Either way `item-corrupt` says so, and the
   * queue goes on: never a retry loop on it, never a message of it deleted without a copy.
   */
  private async quarantine(
    claim: Claim,
    held: HeldItem,
    error: unknown,
    acknowledge: (claim: Claim) => Promise<FinishOutcome>,
  ): Promise<void> {
    const { connection, paths } = this.context;
    const item = claim.entry.name;
    const abandon = (cause?: unknown) =>
      this.context.emit({ type: 'item-abandoned', item, error: cause });
    await this.whenConnected();
    if (held.lost) return abandon();
    if (!letterFits(connection, claim.data.length)) {
      this.keepAside(item);
      this.context.emit({ type: 'item-corrupt', item, error, kept: true });
      return this.claims.release(claim);
    }
    await writeDeadLetter(connection, paths.dead, claim.data, {
      error: `corrupt item: ${describe(error)}`,
      attempts: 0,
      item,
      index: -1,
      failedAt: Date.now(),
      wholeItem: true,
    });
    this.context.emit({ type: 'item-corrupt', item, error });
    if (held.lost && !this.claims.fenced) return abandon();
    const outcome = await acknowledge(claim);
    if (outcome.done) this.markFinished(item);
    else abandon(outcome.error);
  }
}

/**
 * The messages of a claimed item, checked against its name and its progress; throws
 * CorruptBatchError or CorruptProgressError when the item cannot be run as it is.
 */
function checkedItem(claim: Claim, path: string): Buffer[] {
  const { entry, progress } = claim;
  const payloads = decodeBatch(claim.data, path);
  if (payloads.length === 0) throw new CorruptBatchError(path, 'no message in it');
  if (payloads.length !== entry.count) {
    throw new CorruptBatchError(
      path,
      `it holds ${payloads.length} messages, its name says ${entry.count}`,
    );
  }
  const { start } = progress;
  if (start.corrupt !== undefined) throw new CorruptProgressError(progress.path, start.corrupt);
  if (start.next > payloads.length) {
    throw new CorruptProgressError(
      progress.path,
      `next is ${start.next}, beyond the item's ${payloads.length} messages`,
    );
  }
  return payloads;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
