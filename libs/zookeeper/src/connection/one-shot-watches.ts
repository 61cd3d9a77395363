import { WatchLimitError } from '../errors/library-errors.js';
import { WatchEvent, Watcher, WatchEventType } from './zookeeper-types.js';

/** A SetWatches packet without its paths, with room to spare: length, header, zxid, list sizes. */
export const SET_WATCHES_HEADER_BYTES = 1024;

/** ZooKeeper keeps one data watch (get/exists) and one child watch (getChildren) per path. */
export type WatchKind = 'data' | 'children';

/**
 * The one-shot watchers waiting on each server path, as ZooKeeper keeps them: a data watch (set by
 * exists/get) fires on created, changed and deleted; a child watch (set by getChildren) fires on
 * children and deleted. Every registration fires exactly once: with the event, or with
 * SESSION_LOST when the session that held it is gone, so no caller waits forever.
 *
 * With `limitBytes`, a watch on a new path is refused (WatchLimitError) when the watched paths
 * would no longer fit one SetWatches packet of that size: the native driver registers them all
 * again in one packet on every reconnect (the wire driver splits them and has no limit).
 */
export class OneShotWatches {
  private readonly byKind: Record<WatchKind, Map<string, Set<Watcher>>> = {
    data: new Map(),
    children: new Map(),
  };
  /** What the watched paths take in a SetWatches packet (a length and the bytes each). */
  private watchedBytes = 0;

  constructor(
    private readonly onWatcherError: (error: unknown) => void,
    private readonly limitBytes = Infinity,
  ) {}

  /** Registers `watcher`; the returned function withdraws it (when the server set no watch). */
  add(kind: WatchKind, serverPath: string, watcher: Watcher): () => void {
    const table = this.byKind[kind];
    let watchers = table.get(serverPath);
    if (!watchers) {
      const bytes = packetBytes(serverPath);
      if (this.watchedBytes + bytes > this.limitBytes) {
        throw new WatchLimitError(serverPath, this.watchedBytes + bytes, this.limitBytes);
      }
      this.watchedBytes += bytes;
      table.set(serverPath, (watchers = new Set()));
    }
    watchers.add(watcher);
    return () => {
      const current = table.get(serverPath);
      if (current?.delete(watcher) && current.size === 0) this.forget(table, serverPath);
    };
  }

  /** Bytes the watched paths take in a SetWatches packet now. */
  get packetSize(): number {
    return this.watchedBytes;
  }

  /** True while `watcher` waits on `serverPath` (it has been neither fired nor told of a lost session). */
  isPending(kind: WatchKind, serverPath: string, watcher: Watcher): boolean {
    return this.byKind[kind].get(serverPath)?.has(watcher) ?? false;
  }

  /** Delivers a server event to the watchers it triggers, and forgets them. */
  dispatch(type: WatchEventType, serverPath: string, clientPath: string): void {
    const kinds: WatchKind[] =
      type === WatchEventType.DELETED
        ? ['data', 'children']
        : type === WatchEventType.CHILDREN
          ? ['children']
          : ['data'];
    for (const kind of kinds) {
      const watchers = this.byKind[kind].get(serverPath);
      if (!watchers) continue;
      this.forget(this.byKind[kind], serverPath);
      for (const watcher of watchers) this.notify(watcher, type, clientPath);
    }
  }

  /** The session died: every pending watcher learns that its watch is gone. */
  loseAll(clientPathOf: (serverPath: string) => string): void {
    for (const table of Object.values(this.byKind)) {
      const entries = [...table.entries()];
      table.clear();
      this.watchedBytes = 0;
      for (const [serverPath, watchers] of entries) {
        for (const watcher of watchers)
          this.notify(watcher, WatchEventType.SESSION_LOST, clientPathOf(serverPath));
      }
    }
  }

  /** Number of registered watchers (to check that nothing accumulates). */
  get size(): number {
    let count = 0;
    for (const table of Object.values(this.byKind))
      for (const watchers of table.values()) count += watchers.size;
    return count;
  }

  private forget(table: Map<string, Set<Watcher>>, serverPath: string): void {
    table.delete(serverPath);
    this.watchedBytes -= packetBytes(serverPath);
  }

  private notify(watcher: Watcher, type: WatchEventType, path: string): void {
    notifyWatcher(watcher, { type, path }, this.onWatcherError);
  }
}

/** Calls a watcher; one that throws neither keeps the others from the event nor crashes the process. */
export function notifyWatcher(
  watcher: Watcher,
  event: WatchEvent,
  onWatcherError: (error: unknown) => void,
): void {
  try {
    watcher(event);
  } catch (error) {
    onWatcherError(error);
  }
}

/** A path in a jute string list: its length (4 bytes), then its UTF-8 bytes. */
function packetBytes(serverPath: string): number {
  return 4 + Buffer.byteLength(serverPath, 'utf8');
}
