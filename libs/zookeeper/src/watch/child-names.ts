import { Observable, Subscriber, Subscription } from 'rxjs';
import { ConnectionState, isConnectedState } from '../connection/connection-state.enum.js';
import { parentPath, validatePath } from '../connection/paths.js';
import { ZookeeperConnection } from '../connection/zookeeper-connection.js';
import { WatchEvent } from '../connection/zookeeper-types.js';
import { WatchEventType } from '../driver/driver-types.js';
import { ConnectionClosedError } from '../errors/library-errors.js';
import { whenNoNode } from '../internal/no-node.js';
import { SerialRunner } from '../internal/serial-runner.js';
import { watchChildren } from './children-watch.js';

const RETRY_DELAY_MS = 500;

/**
 * The names of the children of `path` (in no particular order), on subscribe and after each
 * change: what {@link watchChildren} gives, at a cost per change that does not grow with the
 * number of children. On a driver with persistent watches, one recursive watch reports each
 * child created or deleted by name, and the children are listed only at the start, after a
 * reconnect and on a new session (watchChildren lists every child again after each change: a
 * log holding a thousand batches cost each subscriber a thousand names per new batch). Without
 * persistent watches it is watchChildren. `[]` while the node does not exist.
 *
 * Not guaranteed: changes while disconnected are seen once the listing after the reconnect is
 * read (not one by one); a child created and deleted meanwhile is never seen.
 */
export function followChildNames(
  connection: ZookeeperConnection,
  path: string,
): Observable<readonly string[]> {
  validatePath(path, 'followChildNames');
  if (!connection.capabilities.persistentWatches) return watchChildren(connection, path);
  return new Observable<readonly string[]>((subscriber) => {
    const follower = new ChildNamesFollower(connection, path, subscriber);
    follower.start();
    return () => follower.stop();
  });
}

/**
 * Keeps the set of names from a listing plus the events after it. Events that arrive while a
 * listing is being read are kept and applied on top of it, in order: one that the listing already
 * reflects changes nothing (a child's last event decides whether it exists, and sequential names
 * are never reused), one that came after it is not lost.
 */
class ChildNamesFollower {
  private names = new Set<string>();
  private listed = false;
  /** Events since the listing in flight was sent (undefined while none is). */
  private pending?: WatchEvent[];
  private removeWatch?: () => Promise<void>;
  private watchSession?: string;
  private stopped = false;
  private states?: Subscription;
  private retryTimer?: NodeJS.Timeout;
  private readonly syncs = new SerialRunner(
    () => this.resync(),
    (error) => this.failed(error),
  );

  constructor(
    private readonly connection: ZookeeperConnection,
    private readonly path: string,
    private readonly subscriber: Subscriber<readonly string[]>,
  ) {}

  /** The first listing comes from the current state, which `state$` replays on subscribe. */
  start(): void {
    this.states = this.connection.state$.subscribe((state) => {
      // Events may have been missed while disconnected; a new session lost the watch as well.
      if (isConnectedState(state)) this.syncs.kick();
      else if (state === ConnectionState.CLOSED) this.subscriber.complete();
    });
  }

  stop(): void {
    this.stopped = true;
    this.states?.unsubscribe();
    clearTimeout(this.retryTimer);
    const remove = this.removeWatch;
    this.removeWatch = undefined;
    void this.syncs
      .idle()
      .then(() => remove?.())
      .catch(() => undefined);
  }

  private async resync(): Promise<void> {
    if (this.stopped || !isConnectedState(this.connection.state)) return;
    const session = this.connection.session.id;
    // Kept from before the watch is added: an event the server sends right after registering
    // it may be handled before the add's continuation runs, and it belongs on top of the
    // listing (sent after the watch is in place), not on top of the names of an older one.
    const since: WatchEvent[] = [];
    this.pending = since;
    try {
      if (!this.removeWatch || this.watchSession !== session) {
        this.removeWatch = undefined;
        const remove = await this.connection.addPersistentWatch(
          this.path,
          (event) => this.onEvent(event),
          { recursive: true },
        );
        if (this.stopped) return void (await remove().catch(() => undefined));
        this.removeWatch = remove;
        this.watchSession = session;
      }
      const listing = await this.connection.getChildren(this.path).catch(whenNoNode([]));
      if (this.stopped) return;
      this.names = new Set(listing);
      for (const event of since) this.apply(event);
      this.listed = true;
      this.emit();
    } finally {
      if (this.pending === since) this.pending = undefined;
    }
  }

  private onEvent(event: WatchEvent): void {
    if (this.stopped) return;
    if (event.type === WatchEventType.SESSION_LOST) {
      // Added again on the next session (CONNECTED), and the children listed again; nothing is
      // emitted until then (changes meanwhile were not seen: the names are out of date).
      this.removeWatch = undefined;
      this.listed = false;
      return;
    }
    if (this.pending) return void this.pending.push(event);
    if (this.apply(event) && this.listed) this.emit();
  }

  /** Applies one event to the names; true when they may have changed. */
  private apply(event: WatchEvent): boolean {
    if (event.path === this.path) {
      // The node itself: created (list its children), or deleted (with them).
      if (event.type === WatchEventType.CREATED) this.syncs.kick();
      if (event.type !== WatchEventType.DELETED) return false;
      this.names.clear();
      return true;
    }
    // A recursive watch reports grandchildren too: only children count.
    if (parentPath(event.path) !== this.path) return false;
    const name = event.path.slice(this.path.length + (this.path === '/' ? 0 : 1));
    if (event.type === WatchEventType.CREATED) this.names.add(name);
    else if (event.type === WatchEventType.DELETED) this.names.delete(name);
    else return false;
    return true;
  }

  private emit(): void {
    this.subscriber.next([...this.names]);
  }

  /** A listing or watch that failed (the connection's retries gave up): tried again soon. */
  private failed(error: unknown): void {
    if (this.stopped) return;
    if (error instanceof ConnectionClosedError) return void this.subscriber.complete();
    this.retryTimer = setTimeout(() => this.syncs.kick(), RETRY_DELAY_MS);
    this.retryTimer.unref?.();
  }
}
