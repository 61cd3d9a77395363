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
 * A distributed mutex that Curator's InterProcessMutex on the same path respects, and the other
 * way round: each contender queues a protected ephemeral sequential `lock-` node under `path`, the
 * lowest sequence number holds the lock, and every waiter watches only the node just before its
 * own, so a release wakes one waiter.
 *
 * Guarantee: while `isHeld` is true our node is first and the session was alive at the last word
 * from the server. The client declares the link lost (`lost$`: `suspended`, `isHeld` false) after
 * two thirds of the session timeout without an answer, while the server waits the whole timeout
 * before it expires the session and lets the next waiter in; so a holder cut off from the ensemble
 * stops before anyone else starts, unless its process is paused (GC, SIGSTOP) across that margin.
 * Work that must never overlap even then should be fenced at the resource it touches too (for
 * example with a versioned write).
 *
 * Failure modes: a holder's process that dies keeps the lock until its session times out; a
 * holder whose session expires loses the lock (`lost$`: `expired`) and the next waiter gets it; a
 * waiter whose node vanishes queues again at the back.
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
