import { isConnectedState } from '../../connection/connection-state.enum.js';
import { CreateMode } from '../../connection/create-mode.enum.js';
import { joinPath, nodeName, validatePath } from '../../connection/paths.js';
import { ZookeeperConnection } from '../../connection/zookeeper-connection.js';
import { ConnectionClosedError, InvalidOptionsError } from '../../errors/library-errors.js';
import { ChangeSignal, deadlineOf } from '../../internal/change-signal.js';
import { ignoreNoNode } from '../../internal/no-node.js';
import { Mutex } from '../mutex/index.js';

export interface SemaphoreOptions {
  /** Data of each lease node (Curator's `setNodeData`), e.g. who holds it. Default empty. */
  leaseData?: Buffer | string;
}

export interface SemaphoreAcquireOptions {
  /** Give up after this long, resolving undefined; default: wait as long as it takes. */
  timeoutMs?: number;
}

/** One of the semaphore's leases, held by this process until `release()` or its session ends. */
export interface Lease {
  /** The lease znode, `<path>/leases/_c_<uuid>-lease-<seq>`. */
  readonly path: string;
  /** The session the lease lives in: it is lost when that session ends. */
  readonly sessionId: string;
  /** False once the session that holds the lease is gone, or while the connection is down. */
  isHeld(): boolean;
  /** Gives the lease back; idempotent. */
  release(): Promise<void>;
}

const SESSION_LOST = Symbol('session lost');

/**
 * Never more than `maxLeases` leases held at once among every client using this path, Curator's
 * InterProcessSemaphoreV2 included, as long as all follow this protocol and agree on `maxLeases`.
 * A lease lives exactly as long as its session: while SUSPENDED it may already be gone and
 * someone else's, so check `lease.isHeld()` before acting on it.
 *
 * Layout, Curator's InterProcessSemaphoreV2's so both can share one: a lease is a protected
 * EPHEMERAL_SEQUENTIAL znode `<path>/leases/_c_<uuid>-lease-<seq>`, and acquirers take turns
 * through a mutex at `<path>/locks` ({@link Mutex}, the InterProcessMutex layout). The lock holder
 * adds its lease node and, if there are then more than `maxLeases`, keeps the lock and waits for
 * a lease node to go; so only one acquirer at a time can be over the count, and it does not
 * return until it is not.
 *
 * Guaranteed (with every participant following this protocol and agreeing on `maxLeases`):
 * - Never more than `maxLeases` live lease nodes are held.
 * - A lease is released by `release()` or, when its holder dies or its session expires, by
 *   ZooKeeper within the session timeout.
 * - An acquirer whose session expires while it waits starts over in the new session.
 * - Waiters are served in lock order, which is FIFO.
 *
 * Not guaranteed (partitions, pauses):
 * - That a holder still holds its lease. After EXPIRED it is gone (and may be someone else's),
 *   and while SUSPENDED it may be. Check `lease.isHeld()` or watch the connection's `state$`
 *   before acting on a lease.
 * - Room freed as soon as a client gives up on its session: lease nodes of a session that the
 *   client declared expired locally still count until the server expires them.
 */
export class Semaphore {
  private readonly lockPath: string;
  private readonly leasesPath: string;
  private readonly leaseData: Buffer | string;
  private readonly held = new Set<Lease>();

  constructor(
    private readonly connection: ZookeeperConnection,
    readonly path: string,
    readonly maxLeases: number,
    options: SemaphoreOptions = {},
  ) {
    validatePath(path, 'Semaphore');
    if (!Number.isInteger(maxLeases) || maxLeases < 1)
      throw new InvalidOptionsError(`maxLeases must be a positive integer, got ${maxLeases}`);
    this.lockPath = joinPath(path, 'locks');
    this.leasesPath = joinPath(path, 'leases');
    this.leaseData = options.leaseData ?? '';
  }

  /** Waits for a lease. With `timeoutMs`, resolves undefined if none was free in time. */
  acquire(): Promise<Lease>;
  acquire(options: SemaphoreAcquireOptions): Promise<Lease | undefined>;
  async acquire(options: SemaphoreAcquireOptions = {}): Promise<Lease | undefined> {
    const deadline = deadlineOf(options.timeoutMs);
    for (;;) {
      await this.connection.whenConnected();
      const sessionId = this.connection.session.id;
      // One mutex per attempt: concurrent acquires through one Semaphore are separate contenders.
      const lock = new Mutex(this.connection, this.lockPath);
      const timeoutMs = deadline === undefined ? undefined : Math.max(0, deadline - Date.now());
      if (!(await lock.acquire({ timeoutMs }))) return undefined;
      try {
        const outcome = await this.claim(sessionId, deadline);
        if (outcome !== SESSION_LOST) return outcome;
      } finally {
        await lock.release().catch(() => undefined);
      }
    }
  }

  /** Releases every lease this instance handed out and still holds (on module destroy). */
  async releaseAll(): Promise<void> {
    await Promise.allSettled([...this.held].map((lease) => lease.release()));
  }

  /** The current lease node names (held leases, plus at most one acquirer waiting for room). */
  async leaseNodes(): Promise<string[]> {
    return this.connection.getChildren(this.leasesPath).catch((error: unknown) => {
      ignoreNoNode(error);
      return [];
    });
  }

  private hold(path: string, sessionId: string): Lease {
    const lease = new SemaphoreLease(this.connection, path, sessionId, () =>
      this.held.delete(lease),
    );
    this.held.add(lease);
    return lease;
  }

  /** Adds our lease node while holding the lock; waits until it is within the count. */
  private async claim(
    sessionId: string,
    deadline: number | undefined,
  ): Promise<Lease | undefined | typeof SESSION_LOST> {
    const leasePath = await this.connection.create(
      joinPath(this.leasesPath, 'lease-'),
      this.leaseData,
      {
        mode: CreateMode.EPHEMERAL_SEQUENTIAL,
        createParents: true,
      },
    );
    const withdraw = () => this.connection.delete(leasePath).catch(() => undefined);
    try {
      for (;;) {
        // The lock died with the old session: someone else may be counting now.
        if (this.connection.session.id !== sessionId) {
          await withdraw();
          return SESSION_LOST;
        }
        const signal = new ChangeSignal();
        const leases = await this.connection.getChildren(this.leasesPath, {
          watch: signal.watcher,
        });
        if (!leases.includes(nodeName(leasePath))) return SESSION_LOST;
        if (leases.length <= this.maxLeases) return this.hold(leasePath, sessionId);
        if (!(await signal.wait(deadline))) {
          await withdraw();
          return undefined;
        }
      }
    } catch (error) {
      await withdraw();
      throw error;
    }
  }
}

class SemaphoreLease implements Lease {
  private released?: Promise<void>;

  constructor(
    private readonly connection: ZookeeperConnection,
    readonly path: string,
    readonly sessionId: string,
    private readonly onReleased: () => void,
  ) {}

  isHeld(): boolean {
    return (
      !this.released &&
      isConnectedState(this.connection.state) &&
      this.connection.session.id === this.sessionId
    );
  }

  release(): Promise<void> {
    // A closed connection took its session, and the lease node, with it.
    this.released ??= this.connection
      .delete(this.path)
      .catch((error: unknown) => {
        if (!(error instanceof ConnectionClosedError)) ignoreNoNode(error);
      })
      .finally(this.onReleased);
    return this.released;
  }
}
