import { ZookeeperConnection } from '../../connection/zookeeper-connection.js';
import { QueuedNode } from '../../sequential/sequence-order.js';
import { BlockerRule, predecessorRule } from '../../sequential/sequential-queue.js';
import { SequentialLock } from '../lock-internals/sequential-lock.js';

/** Markers of Curator's InterProcessReadWriteLock: `_c_<uuid>-__READ__0000000007`. */
export const READ_NODE_MARKER = '__READ__';
export const WRITE_NODE_MARKER = '__WRITE__';
const MARKERS = [READ_NODE_MARKER, WRITE_NODE_MARKER] as const;

export interface ReadWriteLockOptions {
  /** Stored in the lock nodes, for people inspecting the tree. */
  data?: Buffer | string;
}

/**
 * A distributed read-write lock laid out like Curator's InterProcessReadWriteLock, so both can
 * share a path: readers and writers queue in one sequence, a writer waits for every node before
 * its own, a reader only for writers before it (so readers hold together, and a waiting writer
 * keeps later readers out: writers do not starve). Waiters watch one node each: a writer its
 * predecessor, a reader the nearest writer before it.
 *
 * Like Curator's, the read lock may be taken while this instance holds the write lock (so a
 * writer can downgrade: acquire read, then release write). The reverse, an upgrade, would wait
 * for our own read node forever and is refused with LockStateError.
 *
 * Both sides are re-entrant per instance and report losses like `Mutex` (`lost$`, `isHeld`).
 */
export class ReadWriteLock {
  readonly readLock: SequentialLock;
  readonly writeLock: SequentialLock;

  constructor(connection: ZookeeperConnection, path: string, options: ReadWriteLockOptions = {}) {
    this.writeLock = new SequentialLock(connection, path, {
      marker: WRITE_NODE_MARKER,
      markers: MARKERS,
      rule: predecessorRule,
      data: options.data,
      refuse: () =>
        this.readLock.holdCount > 0
          ? `cannot take the write lock of ${path} while holding its read lock (release it first)`
          : undefined,
    });
    const readerRule: BlockerRule = (nodes, ownIndex) =>
      this.writeLock.holdCount > 0 ? undefined : nearestWriterBefore(nodes, ownIndex);
    this.readLock = new SequentialLock(connection, path, {
      marker: READ_NODE_MARKER,
      markers: MARKERS,
      rule: readerRule,
      data: options.data,
    });
  }
}

function nearestWriterBefore(
  nodes: readonly QueuedNode[],
  ownIndex: number,
): QueuedNode | undefined {
  for (let index = ownIndex - 1; index >= 0; index--) {
    if (nodes[index].marker === WRITE_NODE_MARKER) return nodes[index];
  }
  return undefined;
}
