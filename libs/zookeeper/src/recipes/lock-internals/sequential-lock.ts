import { Observable, Subject } from 'rxjs';
import { ZookeeperConnection } from '../../connection/zookeeper-connection.js';
import { NodeOwnership, OwnershipEvent, OwnershipLossReason } from './node-ownership.js';
import { BlockerRule, JoinedNode, SequentialQueue } from '../../sequential/sequential-queue.js';
import { msUntil, settledWithin } from '../../internal/sleep.js';
import { ZookeeperError } from '../../errors/zookeeper.error.js';
import { LibraryErrorCode } from '../../errors/library-errors.js';

export interface AcquireOptions {
  /** Give up after this long and return false (the node queued for us is removed). Default: wait. */
  timeoutMs?: number;
}

/**
 * `held`: ours. `suspended`: the link is down, the lock may already be someone else's; do not act
 * on it until it is `held` again. `lost`: certainly gone; call `release()` to reset the count.
 */
export type LockStatus = 'released' | 'held' | 'suspended' | 'lost';

export interface LockLoss {
  reason: 'suspended' | OwnershipLossReason;
  /** false for `suspended`: the session may survive; then the status returns to `held`. */
  definite: boolean;
  /** The lock node that was held. */
  path: string;
}

/** Thrown by `release()` without a matching `acquire()`, and by a re-entrant acquire of a lost lock. */
export class LockStateError extends ZookeeperError {
  constructor(message: string) {
    super(LibraryErrorCode.LOCK_STATE, message);
  }
}

/** @internal How a concrete lock queues and when it may go. */
export interface SequentialLockConfig {
  /** Marker this lock's nodes carry ('lock-', '__READ__', '__WRITE__'). */
  marker: string;
  /** Every marker whose nodes share the queue. */
  markers: readonly string[];
  rule: BlockerRule;
  data?: Buffer | string;
  /** Returns a reason to refuse an acquire (e.g. a read-to-write upgrade that would deadlock). */
  refuse?: () => string | undefined;
}

/**
 * A lock that an instance gets only once its node comes first under its rule (no node before it
 * for `Mutex` and a write lock; for a read lock, no writer before it, or the write lock held by
 * the same `ReadWriteLock`), re-entrant per instance: the count goes up with each acquire and the
 * node is deleted when as many releases have followed. During a partition the holder is told to
 * stop (`lost$`: `suspended`) before its session can expire and its node let the next contender
 * in.
 *
 * Each instance is one owner; share an instance only between code that may hold the lock
 * together. The base of `Mutex` and of both sides of `ReadWriteLock`: contenders queue protected
 * ephemeral sequential nodes under `path` and each waiter watches one node (see those classes
 * for the layouts).
 *
 * Guaranteed:
 * - `status` says whether the lock can be trusted: `held` while ours and the link is up,
 *   `suspended` while the link is down (the lock may already be someone else's; `held` again if
 *   the session survives with our node), `lost` once it is certainly gone (`lost$`: `expired`,
 *   `deleted`, `closed`).
 * - An acquire that times out removes the node queued for it; a waiter whose node vanishes
 *   queues again at the back.
 * - The last `release()` deletes the node, retrying on each reconnect of the same session while
 *   the link is down, so no node of ours is left to block the others.
 *
 * Not guaranteed (partitions, pauses):
 * - That the lock is still ours after `suspended`: the server expires the session after the
 *   session timeout and lets the next contender in.
 * - Exclusion across a process pause (GC, SIGSTOP) that spans the suspension margin: fence at the
 *   resource.
 */
export class SequentialLock {
  protected readonly queue: SequentialQueue;
  private holds = 0;
  private owned?: NodeOwnership;
  private currentStatus: LockStatus = 'released';
  private pending?: Promise<boolean>;
  private readonly losses = new Subject<LockLoss>();

  constructor(
    protected readonly connection: ZookeeperConnection,
    readonly path: string,
    private readonly config: SequentialLockConfig,
  ) {
    this.queue = new SequentialQueue(connection, path, config.markers);
  }

  /** True while this instance holds the lock and the link is up. */
  get isHeld(): boolean {
    return this.currentStatus === 'held';
  }

  get status(): LockStatus {
    return this.currentStatus;
  }

  /** Acquires not yet matched by a release. */
  get holdCount(): number {
    return this.holds;
  }

  /** The lock node while held. */
  get nodePath(): string | undefined {
    return this.owned?.node.path;
  }

  /**
   * Tells the holder when the lock may be lost (`suspended`: stop work that needs exclusivity) and
   * when it is lost (`expired`, `deleted`, `closed`). Hot: only losses after subscribing.
   */
  get lost$(): Observable<LockLoss> {
    return this.losses.asObservable();
  }

  /**
   * Resolves true once the lock is held, false when `timeoutMs` passed first. While an acquire of
   * this instance is still waiting, a second one waits for its outcome and then re-enters.
   */
  async acquire(options: AcquireOptions = {}): Promise<boolean> {
    const deadline = options.timeoutMs === undefined ? undefined : Date.now() + options.timeoutMs;
    while (this.pending) {
      const settled = await settledWithin(this.pending, msUntil(deadline));
      if (!settled) return false;
    }
    if (this.holds > 0) {
      if (this.currentStatus === 'lost')
        throw new LockStateError(`the lock ${this.path} was lost: release() it before acquiring`);
      this.holds++;
      return true;
    }
    const refusal = this.config.refuse?.();
    if (refusal) throw new LockStateError(refusal);
    this.pending = this.attempt(deadline);
    try {
      return await this.pending;
    } finally {
      this.pending = undefined;
    }
  }

  /** Undoes one acquire; the last one deletes the node, which lets the next waiter in. */
  async release(): Promise<void> {
    if (this.holds === 0) throw new LockStateError(`the lock ${this.path} is not held`);
    if (--this.holds > 0) return;
    const owned = this.owned!;
    this.owned = undefined;
    this.currentStatus = 'released';
    owned.stop();
    await this.queue.leave(owned.node);
  }

  /** Names of the queued nodes, holder first (as Curator's getParticipantNodes). */
  async participantNodes(): Promise<string[]> {
    return (await this.queue.contenders()).map((node) => node.name);
  }

  private async attempt(deadline: number | undefined): Promise<boolean> {
    for (;;) {
      const node = await this.queue.join(this.config.marker, this.config.data);
      let outcome: 'first' | 'missing' | 'timeout';
      try {
        outcome = await this.queue.waitForTurn(node.path, this.config.rule, deadline);
      } catch (error) {
        await this.queue.leave(node).catch(() => undefined);
        throw error;
      }
      if (outcome === 'first') {
        this.hold(node);
        return true;
      }
      if (outcome === 'timeout') {
        await this.queue.leave(node);
        return false;
      }
      // Our node vanished while we waited (session expired, or deleted by hand): we never held
      // anything, so queueing again is safe.
      if (deadline !== undefined && Date.now() >= deadline) return false;
      await this.connection.whenConnected();
    }
  }

  private hold(node: JoinedNode): void {
    this.holds = 1;
    this.currentStatus = 'held';
    this.owned = new NodeOwnership(this.connection, node, (event) => this.onOwnership(event));
    this.owned.start();
  }

  private onOwnership(event: OwnershipEvent): void {
    const path = this.owned?.node.path;
    if (!path) return;
    if (event.kind === 'confirmed') {
      this.currentStatus = 'held';
      return;
    }
    this.currentStatus = event.kind === 'suspended' ? 'suspended' : 'lost';
    const reason = event.kind === 'suspended' ? 'suspended' : event.reason;
    this.losses.next({ reason, definite: event.kind === 'lost', path });
  }
}
