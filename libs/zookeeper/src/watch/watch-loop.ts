import { isConnectionProblem } from '../errors/zookeeper.error.js';
import { ConnectionClosedError } from '../errors/library-errors.js';
import { WatchKind } from '../connection/one-shot-watches.js';
import { Watcher, WatchEventType } from '../connection/zookeeper-types.js';

/** Handed to a read step: decides whether a request carries a new one-shot watch. */
export interface WatchArming {
  /**
   * Runs `request` with a new one-shot watcher of `kind`, or with none while a watch of that kind
   * is still pending: the pending one already covers every later change, and a second one would
   * only double the notifications.
   */
  request<R>(kind: WatchKind, request: (watch: Watcher | undefined) => Promise<R>): Promise<R>;
}

/** One read of the watched state; it arms the watches that will announce the next change. */
export type ReadStep<T> = (arming: WatchArming) => Promise<T>;

/** Where a loop delivers what it reads. */
export interface LoopSink<T> {
  value(value: T): void;
  fail(error: unknown): void;
}

/** What a loop needs from the connection-wide registry. */
export interface LoopContext {
  isConnected(): boolean;
  /** Resolves once reads on the current session cannot be older than anything read before. */
  freshView(): Promise<void>;
}

const FIRST_RETRY_DELAY_MS = 100;
const MAX_RETRY_DELAY_MS = 5_000;

/**
 * The re-arming read loop behind every watch of this layer. ZooKeeper watches are one-shot, so
 * after each notification the state is read again with a new watch. The loop never has two reads
 * in flight: a notification arriving during a read only marks the state dirty, and the next read
 * starts after the current one has been delivered, so results reach the sink in the order the
 * server produced them. Notifications that arrive while a read is pending are coalesced.
 *
 * A parked loop (no subscriber left) reads nothing but keeps its pending watches, so a new
 * subscriber to the same path can adopt it instead of stacking a second watch on the server;
 * `released` is called once it holds no watch any more.
 */
export class WatchLoop<T> implements WatchArming {
  private readonly armed: Record<WatchKind, object | undefined> = {
    data: undefined,
    children: undefined,
  };
  private sink?: LoopSink<T>;
  private dirty = false;
  private running = false;
  private retryTimer?: NodeJS.Timeout;
  private retryDelayMs = FIRST_RETRY_DELAY_MS;

  constructor(
    private readonly context: LoopContext,
    private readonly read: ReadStep<T>,
    private readonly released: () => void,
  ) {}

  /** Pending one-shot watches this loop registered (0, 1 or 2: one per kind). */
  get armedCount(): number {
    return (this.armed.data ? 1 : 0) + (this.armed.children ? 1 : 0);
  }

  /** Starts (or restarts after `park`) delivering to `sink`, beginning with a fresh read. */
  resume(sink: LoopSink<T>): void {
    this.sink = sink;
    this.refresh();
  }

  /** Stops reading; pending watches stay registered until they fire. */
  park(): void {
    this.sink = undefined;
    this.dirty = false;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    if (this.armedCount === 0) this.released();
  }

  /** Reads again soon: now, after the current read, or once the connection is usable. */
  refresh(): void {
    if (!this.sink) return;
    this.dirty = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    if (!this.running) void this.run();
  }

  async request<R>(
    kind: WatchKind,
    request: (watch: Watcher | undefined) => Promise<R>,
  ): Promise<R> {
    if (this.armed[kind] || !this.sink) return request(undefined);
    const token = {};
    this.armed[kind] = token;
    try {
      return await request((event) => {
        this.disarm(kind, token);
        // SESSION_LOST: the registry refreshes every loop on the next CONNECTED.
        if (event.type !== WatchEventType.SESSION_LOST) this.refresh();
      });
    } catch (error) {
      // A failed request withdraws its watcher, so it will never fire.
      this.disarm(kind, token);
      throw error;
    }
  }

  private disarm(kind: WatchKind, token: object): void {
    if (this.armed[kind] !== token) return;
    this.armed[kind] = undefined;
    if (!this.sink && this.armedCount === 0) this.released();
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      while (this.dirty && this.sink && this.context.isConnected()) {
        this.dirty = false;
        try {
          await this.context.freshView();
          if (!this.sink) break;
          const value = await this.read(this);
          this.retryDelayMs = FIRST_RETRY_DELAY_MS;
          this.sink?.value(value);
        } catch (error) {
          this.onReadError(error);
        }
      }
    } finally {
      this.running = false;
    }
  }

  private onReadError(error: unknown): void {
    const sink = this.sink;
    // After close() the registry completes every subscriber; nothing to report here.
    if (!sink || error instanceof ConnectionClosedError) return;
    if (!isConnectionProblem(error)) {
      sink.fail(error);
      return;
    }
    if (!this.context.isConnected()) {
      // The registry calls refresh() when the connection is usable again.
      this.dirty = true;
      return;
    }
    // Connected, yet the request gave up (retry deadline, throttling): back off, then read again.
    const delay = this.retryDelayMs;
    this.retryDelayMs = Math.min(MAX_RETRY_DELAY_MS, delay * 2);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.refresh();
    }, delay);
  }
}
