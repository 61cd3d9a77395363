import { PersistentWatchMode } from '../driver-session.interface.js';
import { EventCode } from './op-codes.js';
import { Register } from './pending-queue.js';
import { WatchLists } from './records/set-watches.js';

/**
 * Which server paths (chroot included) this session watches, as the server knows them, so that
 * a reconnect can register them again (SetWatches). One-shot watches follow ZooKeeper's rules:
 * exists on a missing node sets an exist watch, exists/getData on a node a data watch,
 * getChildren a child watch; an event consumes the watches it fires (created/changed: data and
 * exist; children: child; deleted: all three). Persistent ones stay until removed.
 */
export class WatchRegistry {
  readonly data = new Set<string>();
  readonly exist = new Set<string>();
  readonly child = new Set<string>();
  readonly persistent = new Set<string>();
  readonly persistentRecursive = new Set<string>();

  get size(): number {
    return (
      this.data.size +
      this.exist.size +
      this.child.size +
      this.persistent.size +
      this.persistentRecursive.size
    );
  }

  /**
   * Records the watch that a successful request with `register` (a Register value) set on
   * `path`. Returns the one-shot watches to set again when the request removed more than meant
   * (removeWatches ANY drops the path's one-shot watches too).
   */
  registered(register: number, path: string): WatchLists | undefined {
    switch (register) {
      case Register.EXISTS:
      case Register.DATA:
        this.data.add(path);
        break;
      case Register.CHILD:
        this.child.add(path);
        break;
      case Register.PERSISTENT:
        this.addPersistent(path, PersistentWatchMode.PERSISTENT);
        break;
      case Register.PERSISTENT_RECURSIVE:
        this.addPersistent(path, PersistentWatchMode.PERSISTENT_RECURSIVE);
        break;
      case Register.REMOVE_PERSISTENT:
        this.removePersistent(path);
        return this.oneShotOf(path);
    }
    return undefined;
  }

  addPersistent(path: string, mode: PersistentWatchMode): void {
    if (mode === PersistentWatchMode.PERSISTENT_RECURSIVE) this.persistentRecursive.add(path);
    else this.persistent.add(path);
  }

  /** Forgets the persistent watches of `path` (removeWatches ANY also ends its one-shot ones). */
  removePersistent(path: string): void {
    this.persistent.delete(path);
    this.persistentRecursive.delete(path);
  }

  /** Forgets the one-shot watches an event of `type` on `path` consumed. */
  fired(type: number, path: string): void {
    switch (type) {
      case EventCode.CREATED:
      case EventCode.DATA_CHANGED:
        this.data.delete(path);
        this.exist.delete(path);
        break;
      case EventCode.CHILDREN_CHANGED:
        this.child.delete(path);
        break;
      case EventCode.DELETED:
        this.data.delete(path);
        this.exist.delete(path);
        this.child.delete(path);
        break;
    }
  }

  /** The one-shot watches of `path` only. */
  oneShotOf(path: string): WatchLists {
    const has = (set: Set<string>): string[] => (set.has(path) ? [path] : []);
    return {
      data: has(this.data),
      exist: has(this.exist),
      child: has(this.child),
      persistent: [],
      persistentRecursive: [],
    };
  }

  lists(): WatchLists {
    return {
      data: [...this.data],
      exist: [...this.exist],
      child: [...this.child],
      persistent: [...this.persistent],
      persistentRecursive: [...this.persistentRecursive],
    };
  }

  clear(): void {
    this.data.clear();
    this.exist.clear();
    this.child.clear();
    this.persistent.clear();
    this.persistentRecursive.clear();
  }
}
