import { CreateMode } from '../../connection/create-mode.enum.js';
import { joinPath } from '../../connection/paths.js';
import { TransactionOp } from '../../connection/transaction.js';
import { ZookeeperConnection } from '../../connection/zookeeper-connection.js';
import { TransactionFailedError } from '../../errors/driver-errors.js';
import { ConnectionLossError, NodeExistsError } from '../../errors/zookeeper-errors.js';
import { ignoreNoNode, whenNoNode } from '../../internal/no-node.js';
import { BatchEntry } from '../shared/entry-names.js';
import { decodeProgress, encodeProgress, FRESH, ItemProgress, Progress } from './item-progress.js';
import { QueuePaths } from './queue-types.js';

/** An item this consumer holds: its bytes and its progress (the ownership token with `multi`). */
export interface Claim {
  readonly entry: BatchEntry;
  readonly data: Buffer;
  readonly progress: ItemProgress;
}

/** A take: the item is ours, another consumer holds it, or it is no longer in the queue. */
export type TakeOutcome = Claim | 'locked' | 'gone';

/** How an acknowledgement ended: the item deleted, or refused because the item is not ours. */
export type FinishOutcome = { done: true } | { done: false; error?: unknown };

/**
 * Taking, acknowledging and giving back items, in as few server transactions as the driver
 * allows (see WorkQueue): TransactionalClaims with the driver's `multi`, SequentialClaims without.
 */
export interface ItemClaims {
  /** Acknowledgements are fenced by the server: one from a consumer that lost the item fails. */
  readonly fenced: boolean;
  take(entry: BatchEntry): Promise<TakeOutcome>;
  /** Deletes the item with its lock and progress, unless it is no longer ours. */
  finish(claim: Claim): Promise<FinishOutcome>;
  /** Gives the item back unfinished, storing `at` first when it moved since the take. */
  release(claim: Claim, at?: Progress): Promise<void>;
}

export function itemClaims(connection: ZookeeperConnection, paths: QueuePaths): ItemClaims {
  return connection.capabilities.multi
    ? new TransactionalClaims(connection, paths)
    : new SequentialClaims(connection, paths);
}

interface ItemPaths {
  item: string;
  lock: string;
  progress: string;
}

/** What both strategies share: the connection and where an item's nodes are. */
abstract class ClaimsBase {
  constructor(
    protected readonly connection: ZookeeperConnection,
    private readonly paths: QueuePaths,
  ) {}

  protected pathsOf(name: string): ItemPaths {
    return {
      item: joinPath(this.paths.items, name),
      lock: joinPath(this.paths.locks, name),
      progress: joinPath(this.paths.progress, name),
    };
  }
}

/**
 * One transaction to take (check the item, create the ephemeral lock, create the progress node or
 * bump its version), one to acknowledge (delete progress at the taken version, item and lock).
 * The progress version is the token: after an expiry, the server has deleted the lock, and a new
 * owner has bumped the version, so the old holder's acknowledgement applies nothing.
 */
class TransactionalClaims extends ClaimsBase implements ItemClaims {
  readonly fenced = true;

  async take(entry: BatchEntry): Promise<TakeOutcome> {
    const at = this.pathsOf(entry.name);
    let start = FRESH;
    let progressOp: TransactionOp = { type: 'create', path: at.progress };
    // A third failure on the progress node means someone keeps writing it: leave the item be.
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const [, , written] = await this.connection.multi([
          { type: 'check', path: at.item, version: 0 },
          { type: 'create', path: at.lock, mode: CreateMode.EPHEMERAL },
          progressOp,
        ]);
        return this.claimed(entry, at, start, written.type === 'set' ? written.stat.version : 0);
      } catch (error) {
        if (!(error instanceof TransactionFailedError)) return this.recoverTake(entry, at, error);
        if (error.index === 0) return 'gone';
        if (error.index === 1) return 'locked';
      }
      // The item has progress (an earlier holder stopped, failed or crashed): take its version on.
      const node = await this.connection.get(at.progress).catch(whenNoNode(undefined));
      start = node ? decodeProgress(node.data) : FRESH;
      progressOp = node
        ? { type: 'set', path: at.progress, data: node.data, version: node.stat.version }
        : { type: 'create', path: at.progress };
    }
    return 'locked';
  }

  async finish(claim: Claim): Promise<FinishOutcome> {
    const at = this.pathsOf(claim.entry.name);
    for (;;) {
      try {
        await this.connection.multi([
          { type: 'delete', path: at.progress, version: claim.progress.version ?? 0 },
          { type: 'delete', path: at.item },
          { type: 'delete', path: at.lock },
        ]);
        return { done: true };
      } catch (error) {
        if (error instanceof TransactionFailedError) return { done: false, error };
        // Lost reply: applied if the item is gone; else (still ours or not) the same again.
        if (!(error instanceof ConnectionLossError)) throw error;
        if (!(await this.connection.exists(at.item))) return { done: true };
      }
    }
  }

  async release(claim: Claim, progress?: Progress): Promise<void> {
    const at = this.pathsOf(claim.entry.name);
    const version = claim.progress.version ?? 0;
    const first: TransactionOp = progress
      ? { type: 'set', path: at.progress, data: encodeProgress(progress), version }
      : { type: 'check', path: at.progress, version };
    await this.connection.multi([first, { type: 'delete', path: at.lock }]).catch((error) => {
      // Not ours any more: the lock went with our session, and maybe to another consumer.
      if (!(error instanceof TransactionFailedError)) throw error;
    });
  }

  /** A take whose reply was lost: ours if the lock is, with the progress version it left. */
  private async recoverTake(
    entry: BatchEntry,
    at: ItemPaths,
    error: unknown,
  ): Promise<TakeOutcome> {
    if (!(error instanceof ConnectionLossError)) throw error;
    const lock = await this.connection.exists(at.lock);
    if (!lock) throw error;
    if (lock.ephemeralOwner !== this.connection.session.id) return 'locked';
    const { data, stat } = await this.connection.get(at.progress);
    return this.claimed(entry, at, decodeProgress(data), stat.version);
  }

  private async claimed(
    entry: BatchEntry,
    at: ItemPaths,
    start: Progress,
    version: number,
  ): Promise<TakeOutcome> {
    const progress = new ItemProgress(this.connection, at.progress, start, version);
    const item = await this.connection.get(at.item).catch(whenNoNode(undefined));
    if (item) return { entry, data: item.data, progress };
    // Deleted without its lock (by hand): let go of lock and progress.
    await this.connection
      .multi([
        { type: 'delete', path: at.progress, version },
        { type: 'delete', path: at.lock },
      ])
      .catch(() => undefined);
    return 'gone';
  }
}

/**
 * Without transactions: create the lock to take (the progress is read, and written only when
 * needed), then delete item, progress (if any) and lock one by one to acknowledge. Ownership is
 * checked by reading the lock before the deletes; a session that expires between that read and the
 * deletes is not fenced (its messages were all handled, so nothing is lost: a new owner may run
 * them again).
 */
class SequentialClaims extends ClaimsBase implements ItemClaims {
  readonly fenced = false;

  async take(entry: BatchEntry): Promise<TakeOutcome> {
    const at = this.pathsOf(entry.name);
    try {
      await this.connection.create(at.lock, '', { mode: CreateMode.EPHEMERAL });
    } catch (error) {
      if (error instanceof NodeExistsError) return 'locked';
      throw error;
    }
    const item = await this.connection.get(at.item).catch(whenNoNode(undefined));
    if (!item) {
      // Finished by another consumer between our listing and our lock.
      await this.releaseLock(at.lock);
      return 'gone';
    }
    const progress = await ItemProgress.read(this.connection, at.progress);
    return { entry, data: item.data, progress };
  }

  async finish(claim: Claim): Promise<FinishOutcome> {
    const at = this.pathsOf(claim.entry.name);
    const lock = await this.connection.exists(at.lock);
    if (lock?.ephemeralOwner !== this.connection.session.id) return { done: false };
    // The item goes first: a crash after it leaves only an orphan progress node (removed when a
    // WorkQueue prepares), never a finished item without its progress (which would run it all
    // again).
    await this.connection.delete(at.item).catch(ignoreNoNode);
    if (claim.progress.version !== undefined) {
      await this.connection.delete(at.progress).catch(ignoreNoNode);
    }
    await this.connection.delete(at.lock, { version: lock.version }).catch(ignoreNoNode);
    return { done: true };
  }

  async release(claim: Claim, progress?: Progress): Promise<void> {
    if (progress) await claim.progress.save(progress);
    await this.releaseLock(this.pathsOf(claim.entry.name).lock);
  }

  /** Deletes the lock only while it is ours: after an expiry it may be another consumer's. */
  private async releaseLock(lockPath: string): Promise<void> {
    const stat = await this.connection.exists(lockPath);
    if (stat && stat.ephemeralOwner === this.connection.session.id) {
      await this.connection.delete(lockPath, { version: stat.version }).catch(ignoreNoNode);
    }
  }
}
