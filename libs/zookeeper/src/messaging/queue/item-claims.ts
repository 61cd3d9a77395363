import { CreateMode } from '../../connection/create-mode.enum.js';
import { joinPath } from '../../connection/paths.js';
import { TransactionOp } from '../../connection/transaction.js';
import { ZookeeperConnection } from '../../connection/zookeeper-connection.js';
import { TransactionFailedError } from '../../errors/driver-errors.js';
import { ConnectionLossError, NodeExistsError } from '../../errors/zookeeper-errors.js';
import { ignoreNoNode, whenNoNode } from '../../internal/no-node.js';
import { SegmentEntry } from '../shared/entry-names.js';
import { decodeProgress, encodeProgress, FRESH, ItemProgress, Progress } from './item-progress.js';
import { QueuePaths } from './queue-types.js';

/** An item whose lock and progress this consumer holds (the progress is the token with `multi`). */
export interface Taken {
  readonly entry: SegmentEntry;
  readonly progress: ItemProgress;
}

/** An item this consumer holds, with its bytes. */
export interface Claim extends Taken {
  readonly data: Buffer;
}

/** A take: the item is ours, another consumer holds it, or it is no longer in the queue. */
export type TakeOutcome = Claim | 'locked' | 'gone';

/** How an acknowledgement ended: the item deleted, or refused because the item is not ours. */
export type FinishOutcome = { done: true } | { done: false; error?: unknown };

/**
 * An acknowledgement combined with the take of the next item. `next` is the take: ours (its bytes
 * still to be read when only Taken), locked, gone, or undefined when it was not taken (left for
 * a take of its own).
 */
export interface Handoff {
  readonly finished: FinishOutcome;
  readonly next: Taken | TakeOutcome | undefined;
  /** With a Taken `next`: its bytes, being read (pass them to `load`). */
  readonly bytes?: Promise<Buffer | undefined>;
}

/**
 * Taking, acknowledging and giving back items, in as few server transactions as the driver
 * allows (see WorkQueue): TransactionalClaims with the driver's `multi`, SequentialClaims without.
 */
export interface ItemClaims {
  /** Acknowledgements are fenced by the server: one from a consumer that lost the item fails. */
  readonly fenced: boolean;
  take(entry: SegmentEntry): Promise<TakeOutcome>;
  /** Deletes the item with its lock and progress, unless it is no longer ours. */
  finish(claim: Claim): Promise<FinishOutcome>;
  /** Gives the item back unfinished, storing `at` first when it moved since the take. */
  release(claim: Taken, at?: Progress): Promise<void>;
  /**
   * With `multi` only: `finish(claim)` and `take(next)` in one transaction when both succeed;
   * when the take part fails, nothing applied, so the acknowledgement runs alone (its outcome as
   * `finish` gives it) and the take's failure says whether `next` is locked or gone. `data`, when
   * given, resolves to the bytes of `next` read beforehand (items are written once).
   */
  finishAndTake?(
    claim: Claim,
    next: SegmentEntry,
    data?: Promise<Buffer | undefined>,
  ): Promise<Handoff>;
  /** The bytes of a Taken item (`data` when read beforehand), or 'gone' (released) without. */
  load?(taken: Taken, data?: Promise<Buffer | undefined>): Promise<Claim | 'gone'>;
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

  protected pathsOf(entry: SegmentEntry): ItemPaths {
    return {
      item: entry.path,
      lock: joinPath(this.paths.locks, entry.name),
      progress: joinPath(this.paths.progress, entry.name),
    };
  }
}

/**
 * One transaction to take (check the item, create the ephemeral lock, create the progress node or
 * bump its version), one to acknowledge (delete progress at the taken version, item and lock),
 * or, while a backlog is known, one to do both (`finishAndTake`: the acknowledgement's three
 * deletes, then the take's three operations). The progress version is the token: after an
 * expiry, the server has deleted the lock, and a new owner has bumped the version, so the old
 * holder's acknowledgement applies nothing (nor, combined, its take).
 */
class TransactionalClaims extends ClaimsBase implements ItemClaims {
  readonly fenced = true;

  /** `progressExists`: the item is known to have progress (skips the create that would fail). */
  async take(entry: SegmentEntry, progressExists = false): Promise<TakeOutcome> {
    const at = this.pathsOf(entry);
    let start = FRESH;
    let progressOp: TransactionOp = { type: 'create', path: at.progress };
    let bytes: Promise<Buffer | undefined> | undefined;
    // A third failure on the progress node means someone keeps writing it: leave the item be.
    for (let attempt = 0; attempt < 3; attempt++) {
      if (progressExists) {
        // The item has progress (an earlier holder stopped, failed or crashed): take its version on.
        const node = await this.connection.get(at.progress).catch(whenNoNode(undefined));
        start = node ? decodeProgress(node.data) : FRESH;
        progressOp = node
          ? { type: 'set', path: at.progress, data: node.data, version: node.stat.version }
          : { type: 'create', path: at.progress };
      }
      try {
        const committed = this.connection.multi([...takeOps(at), progressOp]);
        // Beside the take rather than after it (one round trip less): items are written once.
        bytes ??= this.readItem(at.item);
        const [, , written] = await committed;
        const version = written.type === 'set' ? written.stat.version : 0;
        return this.claimed(entry, at, start, version, bytes);
      } catch (error) {
        if (!(error instanceof TransactionFailedError)) return this.recoverTake(entry, at, error);
        if (error.index === 0) return 'gone';
        if (error.index === 1) return 'locked';
      }
      progressExists = true;
    }
    return 'locked';
  }

  async finish(claim: Claim): Promise<FinishOutcome> {
    const at = this.pathsOf(claim.entry);
    for (;;) {
      try {
        await this.connection.multi(finishOps(claim, at));
        return { done: true };
      } catch (error) {
        if (error instanceof TransactionFailedError) return { done: false, error };
        // Lost reply: applied if the item is gone; else (still ours or not) the same again.
        if (!(error instanceof ConnectionLossError)) throw error;
        if (!(await this.connection.exists(at.item))) return { done: true };
      }
    }
  }

  async finishAndTake(
    claim: Claim,
    next: SegmentEntry,
    data?: Promise<Buffer | undefined>,
  ): Promise<Handoff> {
    const at = this.pathsOf(claim.entry);
    const to = this.pathsOf(next);
    const committed = this.connection.multi([
      ...finishOps(claim, at),
      ...takeOps(to),
      { type: 'create', path: to.progress },
    ]);
    // Without bytes read beforehand, read them now, beside the transaction rather than after
    // it: written once, they are right whenever the read lands, and unused if the take fails.
    const bytes = data ?? this.readItem(to.item);
    try {
      await committed;
      const progress = new ItemProgress(this.connection, to.progress, FRESH, 0);
      return { finished: { done: true }, next: { entry: next, progress }, bytes };
    } catch (error) {
      if (error instanceof TransactionFailedError) {
        // The acknowledgement failed: nothing applied, as for `finish` alone.
        if (error.index < 3) return { finished: { done: false, error }, next: undefined };
        // The take failed, so the acknowledgement did not apply either: it goes alone.
        const finished = await this.finish(claim);
        if (error.index === 3) return { finished, next: 'gone' };
        if (error.index === 4) return { finished, next: 'locked' };
        return { finished, next: await this.take(next, true) };
      }
      if (!(error instanceof ConnectionLossError)) throw error;
      return { ...(await this.recoverHandoff(claim, next, at, to)), bytes };
    }
  }

  async load(taken: Taken, data?: Promise<Buffer | undefined>): Promise<Claim | 'gone'> {
    const { entry, progress } = taken;
    const at = this.pathsOf(entry);
    return this.claimed(entry, at, progress.start, progress.version ?? 0, data);
  }

  async release(claim: Taken, progress?: Progress): Promise<void> {
    const at = this.pathsOf(claim.entry);
    const version = claim.progress.version ?? 0;
    const first: TransactionOp = progress
      ? { type: 'set', path: at.progress, data: encodeProgress(progress), version }
      : { type: 'check', path: at.progress, version };
    await this.connection.multi([first, { type: 'delete', path: at.lock }]).catch((error) => {
      // Not ours any more: the lock went with our session, and maybe to another consumer.
      if (!(error instanceof TransactionFailedError)) throw error;
    });
  }

  /** The bytes of an item, or undefined (gone, or the read failed: it is read again). */
  private readItem(path: string): Promise<Buffer | undefined> {
    return this.connection.get(path).then(
      (node) => node.data,
      () => undefined,
    );
  }

  /** A take whose reply was lost: ours if the lock is, with the progress version it left. */
  private async recoverTake(
    entry: SegmentEntry,
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

  /**
   * A combined transaction whose reply was lost. It applied as a whole or not at all: applied if
   * the next item's lock is ours. Else each half is recovered as on its own: the acknowledgement
   * is done if the item is gone and sent again otherwise; the next item is left for a take of its
   * own (or watched, when another consumer holds it).
   */
  private async recoverHandoff(
    claim: Claim,
    next: SegmentEntry,
    at: ItemPaths,
    to: ItemPaths,
  ): Promise<Handoff> {
    const lock = await this.connection.exists(to.lock);
    if (lock?.ephemeralOwner === this.connection.session.id) {
      const { data, stat } = await this.connection.get(to.progress);
      const progress = new ItemProgress(
        this.connection,
        to.progress,
        decodeProgress(data),
        stat.version,
      );
      return { finished: { done: true }, next: { entry: next, progress } };
    }
    const finished = (await this.connection.exists(at.item))
      ? await this.finish(claim)
      : { done: true as const };
    return { finished, next: lock ? 'locked' : undefined };
  }

  /** A take that applied: the item with its bytes (`bytes` when being read already). */
  private async claimed(
    entry: SegmentEntry,
    at: ItemPaths,
    start: Progress,
    version: number,
    bytes?: Promise<Buffer | undefined>,
  ): Promise<Claim | 'gone'> {
    const progress = new ItemProgress(this.connection, at.progress, start, version);
    const data = await bytes;
    if (data) return { entry, data, progress };
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

/** The first two operations of a take: the item is there, unchanged; the lock is created. */
function takeOps(at: ItemPaths): TransactionOp[] {
  return [
    { type: 'check', path: at.item, version: 0 },
    { type: 'create', path: at.lock, mode: CreateMode.EPHEMERAL },
  ];
}

/** An acknowledgement: progress at the taken version (the fence), item, lock. */
function finishOps(claim: Claim, at: ItemPaths): TransactionOp[] {
  return [
    { type: 'delete', path: at.progress, version: claim.progress.version ?? 0 },
    { type: 'delete', path: at.item },
    { type: 'delete', path: at.lock },
  ];
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

  async take(entry: SegmentEntry): Promise<TakeOutcome> {
    const at = this.pathsOf(entry);
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
    const at = this.pathsOf(claim.entry);
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
    await this.releaseLock(this.pathsOf(claim.entry).lock);
  }

  /** Deletes the lock only while it is ours: after an expiry it may be another consumer's. */
  private async releaseLock(lockPath: string): Promise<void> {
    const stat = await this.connection.exists(lockPath);
    if (stat && stat.ephemeralOwner === this.connection.session.id) {
      await this.connection.delete(lockPath, { version: stat.version }).catch(ignoreNoNode);
    }
  }
}
