import { ZookeeperConnection } from '../../connection/zookeeper-connection.js';
import { predecessorRule } from '../../sequential/sequential-queue.js';
import { SequentialLock } from '../lock-internals/sequential-lock.js';

/** The marker of Curator's InterProcessMutex nodes: `_c_<uuid>-lock-0000000042`. */
export const MUTEX_NODE_MARKER = 'lock-';

export interface MutexOptions {
  /** Stored in the lock node, for people inspecting the tree (Curator stores the host address). */
  data?: Buffer | string;
}

/**
 * At most one holder at a time among every client using this path, Curator's InterProcessMutex
 * included. During a partition the holder is told to stop (`lost$`: `suspended`, `isHeld` false)
 * before its session can expire and the lock pass on; only a process paused across that margin
 * (GC, SIGSTOP) can still act after the next holder started.
 *
 * Layout, shared with Curator's InterProcessMutex (each respects the other on the same path):
 * each contender queues a protected ephemeral sequential `lock-` node (`_c_<uuid>-lock-<seq>`)
 * under `path`, the lowest sequence number holds the lock, and every waiter watches only the node
 * just before its own, so a release wakes one waiter.
 *
 * Guaranteed:
 * - While `isHeld` is true our node is first and the session was alive at the last word from the
 *   server.
 * - A holder cut off from the ensemble stops before anyone else starts: the client declares the
 *   link lost (`lost$`: `suspended`, `isHeld` false) after two thirds of the session timeout
 *   without an answer, while the server waits the whole timeout before it expires the session
 *   and lets the next waiter in.
 * - Re-entrant per instance; waiters are served in queue (sequence) order, each watching its
 *   predecessor.
 * - A waiter whose node vanishes queues again at the back.
 *
 * Not guaranteed (partitions, pauses):
 * - Exclusion across a process pause: a holder paused (GC, SIGSTOP) across that margin notices
 *   nothing and may act after the next waiter got the lock. Work that must never overlap even
 *   then should be fenced at the resource it touches too (for example with a versioned write).
 * - Keeping the lock through an outage: a holder whose session expires loses the lock (`lost$`:
 *   `expired`) and the next waiter gets it.
 * - A quick hand-over: a holder's process that dies keeps the lock until its session times out.
 */
export class Mutex extends SequentialLock {
  constructor(connection: ZookeeperConnection, path: string, options: MutexOptions = {}) {
    super(connection, path, {
      marker: MUTEX_NODE_MARKER,
      markers: [MUTEX_NODE_MARKER],
      rule: predecessorRule,
      data: options.data,
    });
  }
}
