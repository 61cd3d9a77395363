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
 * A writer holds the lock alone and readers hold it together, among every client using this path,
 * Curator's InterProcessReadWriteLock included, read locks taken under a write lock (downgrades,
 * below) excepted. As with `Mutex`, during a partition a holder is told to stop (`lost$`:
 * `suspended`) before its session can expire and its node let the next contender in; only a
 * process paused across that margin (GC, SIGSTOP) can still act after someone else got the lock.
 *
 * Layout, shared with Curator's InterProcessReadWriteLock so both can share a path: readers and
 * writers queue in one sequence of protected ephemeral sequential nodes under `path`
 * (`_c_<uuid>-__READ__<seq>`, `_c_<uuid>-__WRITE__<seq>`). Waiters watch one node each: a writer
 * its predecessor, a reader the nearest writer before it.
 *
 * Guaranteed:
 * - A writer waits for every node before its own, read or write; a reader only for writers before
 *   it, so readers hold together, and a waiting writer keeps later readers out: writers do not
 *   starve.
 * - Like Curator's, the read lock may be taken while this instance holds the write lock (so a
 *   writer can downgrade: acquire read, then release write). The reverse, an upgrade, would wait
 *   for our own read node forever and is refused with LockStateError.
 * - Both sides are re-entrant per instance and report losses like `Mutex` (`lost$`, `isHeld`).
 *
 * Not guaranteed (partitions, pauses):
 * - As for `Mutex`: exclusion across a process pause (fence at the resource too); keeping a side
 *   whose session expired (`lost$`: `expired`, the next contender gets in); a quick hand-over
 *   from a dead holder, which keeps its side until its session times out.
 * - Exclusion after a downgrade: a writer that queued while the write lock was held (so before
 *   our read node) gets the write lock once we release it, while our read lock is still held, as
 *   with Curator's lock, whose rules are the same.
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
