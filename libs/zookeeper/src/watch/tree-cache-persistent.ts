import { skip, Subscription } from 'rxjs';
import { ConnectionState, isConnectedState } from '../connection/connection-state.enum.js';
import { joinPath } from '../connection/paths.js';
import { ZookeeperConnection } from '../connection/zookeeper-connection.js';
import { WatchEvent, WatchEventType } from '../connection/zookeeper-types.js';
import { ConnectionClosedError } from '../errors/library-errors.js';
import { isConnectionProblem } from '../errors/zookeeper.error.js';
import { AuthFailedError } from '../errors/zookeeper-errors.js';
import { whenNoNode } from '../internal/no-node.js';
import { NodeSnapshot } from './node-watch.js';
import { ReadLimiter } from './read-limiter.js';
import { TreeView } from './tree-view.js';

/** Reads in flight while loading or re-reading the tree (one session pipelines them). */
const READS_IN_FLIGHT = 256;
const FIRST_RETRY_DELAY_MS = 100;
const MAX_RETRY_DELAY_MS = 5_000;

/** One full read of the tree, abandoned (no further reads) once it has failed. */
interface TreeRead {
  /** The event counter when the read began: later events own their paths. */
  readonly since: number;
  readonly seen: Set<string>;
  abandoned: boolean;
}

/**
 * Feeds a {@link TreeView} from ONE persistent recursive watch on the root (drivers with the
 * `persistentWatches` capability): the watch is added first, then the tree is read (getChildren
 * only where `numChildren > 0`, a get per node, pipelined), and each created or changed event
 * reads that node again; deleted events remove the node and what is held below it.
 *
 * Ordering without per-node watches: every event gets a number, and a read remembers the number
 * current when it was sent. A read no event on its path has overtaken is authoritative (it may
 * add the node); one overtaken may only replace a node still held with a newer `mzxid`, so a read
 * answered before a deletion never brings the node back. A read that finds no node is dropped:
 * the deletion event is on its way or already applied.
 *
 * Events may be missed while disconnected, so RECONNECTED reads the whole tree again and emits the
 * differences (nodes held but not found, and not touched by an event since, are removed). After a
 * new session the lost watch is added again (after a `sync`), then the tree is read again.
 */
export class PersistentTreeSource {
  private readonly limiter = new ReadLimiter(READS_IN_FLIGHT);
  private stateSubscription?: Subscription;
  /** The current registration: events of an older one (a lost session) are ignored. */
  private token?: object;
  private removeWatch?: () => Promise<void>;
  private watchSession?: string;
  private adding?: Promise<void>;
  private hadWatch = false;
  private eventCount = 0;
  /** The number of the last event of each path, while a read may still be compared with it. */
  private readonly lastEvent = new Map<string, number>();
  private readsPending = 0;
  /** Paths with a read started by an event; `dirty` when another event came meanwhile. */
  private readonly eventReads = new Map<string, { dirty: boolean }>();
  private resyncWanted = false;
  private resyncing = false;
  private retryTimer?: NodeJS.Timeout;
  private retryDelayMs = FIRST_RETRY_DELAY_MS;

  constructor(
    private readonly connection: ZookeeperConnection,
    private readonly view: TreeView,
  ) {}

  start(): void {
    this.view.onStop(() => this.stop());
    this.stateSubscription = this.connection.state$
      .pipe(skip(1))
      .subscribe((state) => this.onState(state));
    this.onState(this.connection.state);
  }

  private async stop(): Promise<void> {
    this.stateSubscription?.unsubscribe();
    clearTimeout(this.retryTimer);
    this.token = undefined;
    const remove = this.removeWatch;
    this.removeWatch = undefined;
    // Leaves no watch on the server (unlike one-shot watches, a persistent one can be removed).
    await Promise.allSettled([remove?.(), this.adding]);
  }

  private onState(state: ConnectionState): void {
    if (isConnectedState(state)) this.requestResync();
    else if (state === ConnectionState.CLOSED) void this.view.close();
    else if (state === ConnectionState.AUTH_FAILED)
      this.view.fail(new AuthFailedError({ operation: 'watch' }));
  }

  private requestResync(): void {
    this.resyncWanted = true;
    if (!this.resyncing) void this.resync();
  }

  /** Makes sure the watch is set on the current session, then reads the whole tree. */
  private async resync(): Promise<void> {
    this.resyncing = true;
    try {
      while (this.resyncWanted && !this.view.isClosed && this.isConnected()) {
        this.resyncWanted = false;
        try {
          await this.ensureWatch();
          await this.readTree();
          this.retryDelayMs = FIRST_RETRY_DELAY_MS;
          this.view.ready();
        } catch (error) {
          this.onFailure(error);
        }
      }
    } finally {
      this.resyncing = false;
    }
  }

  private async ensureWatch(): Promise<void> {
    if (this.removeWatch && this.watchSession === this.connection.session.id) return;
    const stale = this.removeWatch;
    this.removeWatch = undefined;
    const token = {};
    this.token = token;
    this.adding = (async () => {
      // A registration the session lost is only forgotten locally; nothing else to remove.
      await stale?.();
      // A new session may be on a server behind what the old one read: catch up first.
      if (this.hadWatch) await this.connection.sync('/');
      const remove = await this.connection.addPersistentWatch(
        this.view.rootPath,
        (event) => this.onEvent(token, event),
        { recursive: true },
      );
      if (this.token !== token) return void (await remove());
      this.removeWatch = remove;
      this.watchSession = this.connection.session.id;
      this.hadWatch = true;
    })();
    await this.adding;
    if (this.token !== token) throw new ConnectionClosedError({ operation: 'TreeCache' });
  }

  private onEvent(token: object, event: WatchEvent): void {
    if (token !== this.token || this.view.isClosed) return;
    if (event.type === WatchEventType.SESSION_LOST) {
      // Added again (and the tree read again) once the next session is connected.
      this.removeWatch = undefined;
      this.requestResync();
      return;
    }
    const path = event.path;
    if (!this.view.covers(path)) return;
    this.lastEvent.set(path, ++this.eventCount);
    if (event.type === WatchEventType.DELETED) this.view.removeSubtree(path);
    else if (event.type === WatchEventType.CREATED || event.type === WatchEventType.CHANGED)
      this.readAfterEvent(path);
  }

  /** At most one read per path at a time; events meanwhile make it read once more. */
  private readAfterEvent(path: string): void {
    const running = this.eventReads.get(path);
    if (running) {
      running.dirty = true;
      return;
    }
    const reads = { dirty: true };
    this.eventReads.set(path, reads);
    void (async () => {
      try {
        while (reads.dirty && !this.view.isClosed) {
          reads.dirty = false;
          await this.readNode(path, undefined);
        }
      } catch (error) {
        this.onFailure(error);
      } finally {
        this.eventReads.delete(path);
      }
    })();
  }

  /**
   * Reads the whole tree below the root (the watch is already set, so nothing that changes after
   * a node's read goes unnoticed), applies what it finds, then removes the nodes held that it did
   * not find, unless an event touched them since the read began.
   */
  private async readTree(): Promise<void> {
    const read: TreeRead = { since: this.eventCount, seen: new Set(), abandoned: false };
    this.readsPending++;
    try {
      await this.visit(this.view.rootPath, read);
      for (const path of this.view.paths()) {
        if (!read.seen.has(path) && (this.lastEvent.get(path) ?? 0) <= read.since)
          this.view.remove(path);
      }
    } catch (error) {
      read.abandoned = true;
      throw error;
    } finally {
      this.readPassed();
    }
  }

  private async visit(path: string, read: TreeRead): Promise<void> {
    const node = await this.readNode(path, read);
    if (!node || node.stat.numChildren === 0 || read.abandoned) return;
    const children = await this.limiter.run(() =>
      this.connection.getChildren(path).catch(whenNoNode<string[]>([])),
    );
    const kept = children.filter((name) => !this.view.ignores(name));
    await Promise.all(kept.map((name) => this.visit(joinPath(path, name), read)));
  }

  /** Reads one node and applies it (see the class doc); undefined when it is missing. */
  private async readNode(
    path: string,
    read: TreeRead | undefined,
  ): Promise<NodeSnapshot | undefined> {
    let sentAt = 0;
    this.readsPending++;
    try {
      const node = await this.limiter.run(() => {
        if (read?.abandoned || this.view.isClosed) return Promise.resolve(undefined);
        sentAt = this.eventCount;
        return this.connection
          .get(path)
          .then(({ data, stat }): NodeSnapshot => ({ path, data, stat }), whenNoNode(undefined));
      });
      if (!node || this.view.isClosed) return undefined;
      read?.seen.add(path);
      const overtaken = (this.lastEvent.get(path) ?? 0) > sentAt;
      if (!overtaken || this.view.get(path)) this.view.put(path, node);
      return node;
    } finally {
      this.readPassed();
    }
  }

  /** With no read left to compare, the event numbers per path are not needed any more. */
  private readPassed(): void {
    if (--this.readsPending === 0) this.lastEvent.clear();
  }

  /**
   * A connection problem means events may have been missed: the tree is read again once the
   * connection is usable (at once on the next CONNECTED or RECONNECTED, else after a back-off).
   * Other failures (NoAuth, ...) end the cache with that error.
   */
  private onFailure(error: unknown): void {
    if (this.view.isClosed || error instanceof ConnectionClosedError) return;
    if (!isConnectionProblem(error)) return this.view.fail(error);
    if (!this.isConnected()) {
      this.resyncWanted = true;
      return;
    }
    if (this.retryTimer) return;
    const delay = this.retryDelayMs;
    this.retryDelayMs = Math.min(MAX_RETRY_DELAY_MS, delay * 2);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.requestResync();
    }, delay);
  }

  private isConnected(): boolean {
    return isConnectedState(this.connection.state);
  }
}
