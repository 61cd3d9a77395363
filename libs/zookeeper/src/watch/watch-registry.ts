import { Observable, skip, Subscriber, Subscription } from 'rxjs';
import { ConnectionState, isConnectedState } from '../connection/connection-state.enum.js';
import { ZookeeperConnection } from '../connection/zookeeper-connection.js';
import { AuthFailedError } from '../errors/zookeeper-errors.js';
import { LoopContext, LoopSink, ReadStep, WatchLoop } from './watch-loop.js';

/** How one kind of watched state is read and ordered. */
export interface WatchSpec<T> {
  /** One read loop per key and connection: the kind of state and the path. */
  readonly key: string;
  readonly read: ReadStep<T>;
  /** The zxid that orders states of this kind, or undefined when a state carries none. */
  order(value: T): number | undefined;
  /** True when `next` would tell subscribers nothing new after `current`. */
  same(current: T, next: T): boolean;
}

/** Counts of the watch layer's bookkeeping for one connection, for leak checks. */
export interface WatchRegistryStats {
  /** Read loops with subscribers. */
  activeLoops: number;
  /** Loops without subscribers that still hold a one-shot watch (dropped when it fires). */
  parkedLoops: number;
  /** Subscribers over all active loops. */
  subscribers: number;
  /** One-shot watches registered by the loops and not fired yet. */
  armedWatches: number;
  /** Subscriptions to the connection's state$ (0 or 1). */
  stateListeners: number;
}

const registries = new WeakMap<ZookeeperConnection, WatchRegistry>();

/**
 * The watch layer's state for one connection: one shared read loop per watched key, whatever the
 * number of subscribers, and the reactions to connection states that every loop needs (read again
 * after a reconnect or a new session, complete on CLOSED). Loops without subscribers are parked
 * until their pending watch fires, so a quick resubscription adopts the watch already on the
 * server instead of adding one.
 */
export class WatchRegistry implements LoopContext {
  // Keyed by WatchSpec.key, which also fixes the value type: a key is only ever used with one T.
  private readonly active = new Map<string, SharedWatch<unknown>>();
  private readonly parked = new Map<string, WatchLoop<unknown>>();
  private stateSubscription?: Subscription;
  private synced?: { sessionId: string; done: Promise<void> };

  private constructor(private readonly connection: ZookeeperConnection) {}

  static of(connection: ZookeeperConnection): WatchRegistry {
    let registry = registries.get(connection);
    if (!registry) registries.set(connection, (registry = new WatchRegistry(connection)));
    return registry;
  }

  static statsOf(connection: ZookeeperConnection): WatchRegistryStats {
    return (
      registries.get(connection)?.stats() ?? {
        activeLoops: 0,
        parkedLoops: 0,
        subscribers: 0,
        armedWatches: 0,
        stateListeners: 0,
      }
    );
  }

  /** The state of `spec.key`, shared: the latest value is replayed to each new subscriber. */
  observe<T>(spec: WatchSpec<T>): Observable<T> {
    return new Observable<T>((subscriber) => {
      const state = this.connection.state;
      if (state === ConnectionState.CLOSED) return subscriber.complete();
      if (state === ConnectionState.AUTH_FAILED) return subscriber.error(authFailed());
      const shared = this.acquire(spec);
      shared.add(subscriber);
      return () => this.release(shared, subscriber);
    });
  }

  /** Makes the loop of `key`, if it runs, read again (a caller learned its state may be stale). */
  refresh(key: string): void {
    this.active.get(key)?.loop.refresh();
  }

  isConnected(): boolean {
    return isConnectedState(this.connection.state);
  }

  /**
   * A new session starts without the client's last-seen zxid and may land on a server that lags
   * behind what the old session read, so a sync comes first (once per session, for every loop).
   */
  freshView(): Promise<void> {
    const sessionId = this.connection.session.id;
    let synced = this.synced;
    if (synced?.sessionId !== sessionId) {
      const attempt = { sessionId, done: this.connection.sync('/') };
      attempt.done.catch(() => {
        if (this.synced === attempt) this.synced = undefined;
      });
      this.synced = synced = attempt;
    }
    return synced.done;
  }

  /** Ends a shared watch: its loop is parked, its subscribers are left to the caller. */
  retire<T>(shared: SharedWatch<T>): void {
    const key = shared.spec.key;
    if (this.active.get(key) !== (shared as SharedWatch<unknown>)) return;
    this.active.delete(key);
    shared.loop.park();
    if (shared.loop.armedCount > 0) this.parked.set(key, shared.loop as WatchLoop<unknown>);
    if (this.active.size === 0) {
      this.stateSubscription?.unsubscribe();
      this.stateSubscription = undefined;
    }
  }

  private acquire<T>(spec: WatchSpec<T>): SharedWatch<T> {
    const existing = this.active.get(spec.key) as SharedWatch<T> | undefined;
    if (existing) return existing;
    const parked = this.parked.get(spec.key) as WatchLoop<T> | undefined;
    const loop = parked ?? this.createLoop(spec.key, spec.read);
    this.parked.delete(spec.key);
    const shared = new SharedWatch(spec, loop, this);
    this.active.set(spec.key, shared as SharedWatch<unknown>);
    // The current state is covered by the loop's first read; only later transitions matter.
    this.stateSubscription ??= this.connection.state$
      .pipe(skip(1))
      .subscribe((state) => this.onState(state));
    loop.resume(shared);
    return shared;
  }

  private createLoop<T>(key: string, read: ReadStep<T>): WatchLoop<T> {
    const loop: WatchLoop<T> = new WatchLoop(this, read, () => {
      if (this.parked.get(key) === (loop as WatchLoop<unknown>)) this.parked.delete(key);
    });
    return loop;
  }

  private release<T>(shared: SharedWatch<T>, subscriber: Subscriber<T>): void {
    shared.subscribers.delete(subscriber);
    if (shared.subscribers.size === 0) this.retire(shared);
  }

  private onState(state: ConnectionState): void {
    const all = [...this.active.values()];
    if (state === ConnectionState.CONNECTED || state === ConnectionState.RECONNECTED) {
      for (const shared of all) shared.loop.refresh();
    } else if (state === ConnectionState.CLOSED) {
      for (const shared of all) shared.end((subscriber) => subscriber.complete());
    } else if (state === ConnectionState.AUTH_FAILED) {
      for (const shared of all) shared.end((subscriber) => subscriber.error(authFailed()));
    }
  }

  private stats(): WatchRegistryStats {
    const loops = [...this.parked.values(), ...[...this.active.values()].map((s) => s.loop)];
    return {
      activeLoops: this.active.size,
      parkedLoops: this.parked.size,
      subscribers: [...this.active.values()].reduce((sum, s) => sum + s.subscribers.size, 0),
      armedWatches: loops.reduce((sum, loop) => sum + loop.armedCount, 0),
      stateListeners: this.stateSubscription ? 1 : 0,
    };
  }
}

/** One loop's subscribers and the latest state they were given. */
class SharedWatch<T> implements LoopSink<T> {
  readonly subscribers = new Set<Subscriber<T>>();
  private latest?: { value: T };
  private highestZxid = -Infinity;

  constructor(
    readonly spec: WatchSpec<T>,
    readonly loop: WatchLoop<T>,
    private readonly registry: WatchRegistry,
  ) {}

  add(subscriber: Subscriber<T>): void {
    this.subscribers.add(subscriber);
    if (this.latest) subscriber.next(this.latest.value);
  }

  value(next: T): void {
    const zxid = this.spec.order(next);
    // A state older than one already delivered (a lagging server after a session change).
    if (zxid !== undefined && zxid < this.highestZxid) return;
    if (zxid !== undefined) this.highestZxid = zxid;
    if (this.latest && this.spec.same(this.latest.value, next)) return;
    this.latest = { value: next };
    for (const subscriber of [...this.subscribers]) {
      // An earlier subscriber may have unsubscribed a later one from its callback.
      if (this.subscribers.has(subscriber)) subscriber.next(next);
    }
  }

  fail(error: unknown): void {
    this.end((subscriber) => subscriber.error(error));
  }

  end(notify: (subscriber: Subscriber<T>) => void): void {
    this.registry.retire(this);
    const subscribers = [...this.subscribers];
    this.subscribers.clear();
    for (const subscriber of subscribers) notify(subscriber);
  }
}

function authFailed(): AuthFailedError {
  return new AuthFailedError({ operation: 'watch' });
}
