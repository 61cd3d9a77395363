import { validatePath } from '../../connection/paths.js';
import { ZookeeperConnection } from '../../connection/zookeeper-connection.js';
import { ChangeSignal, deadlineOf } from '../../internal/change-signal.js';
import { ignoreNodeExists, ignoreNoNode } from '../../internal/no-node.js';

export interface BarrierWaitOptions {
  /** Give up after this long (resolving false); default: wait as long as it takes. */
  timeoutMs?: number;
}

/**
 * A waiter passes only after it has read the barrier node as absent, and a raised barrier stays up
 * through connection loss, session expiry and the death of the process that raised it, until
 * someone removes it. A short opening can be missed: a waiter that does not read the node while
 * the barrier is down keeps waiting.
 *
 * Layout, like Curator's DistributedBarrier: the barrier is a persistent znode at `path`; it is up
 * while the node exists.
 *
 * Guaranteed:
 * - `waitOnBarrier` resolves true only after it read the node as absent, and it keeps waiting
 *   through connection loss and session expiry (the node is persistent, so a session ending
 *   changes nothing: a barrier raised by a process that died stays up until removed).
 *
 * Not guaranteed (partitions, pauses):
 * - That a waiter notices a short opening. If the barrier is removed and set again before a
 *   waiter's next read (ZooKeeper's watches are one-shot), that waiter keeps waiting.
 */
export class Barrier {
  constructor(
    private readonly connection: ZookeeperConnection,
    readonly path: string,
  ) {
    validatePath(path, 'Barrier');
  }

  /** Raises the barrier (creating missing parents); idempotent. */
  async set(): Promise<void> {
    await this.connection.create(this.path, '', { createParents: true }).catch(ignoreNodeExists);
  }

  /** Removes the barrier, releasing every waiter; idempotent. */
  async remove(): Promise<void> {
    await this.connection.delete(this.path).catch(ignoreNoNode);
  }

  /** Resolves true once the barrier is down, false if `timeoutMs` passes first. */
  async waitOnBarrier(options: BarrierWaitOptions = {}): Promise<boolean> {
    const deadline = deadlineOf(options.timeoutMs);
    for (;;) {
      const signal = new ChangeSignal();
      if (!(await this.connection.exists(this.path, { watch: signal.watcher }))) return true;
      if (!(await signal.wait(deadline))) return false;
    }
  }
}
