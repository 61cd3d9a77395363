import { LoggerService } from '@nestjs/common';
import { Observable, Subject, Subscription } from 'rxjs';
import { ConnectionState } from '../../connection/connection-state.enum.js';
import { NoNodeError } from '../../errors/zookeeper-errors.js';
import { SequentialQueue } from '../../sequential/sequential-queue.js';
import { SerialRunner } from '../../internal/serial-runner.js';

/** Who leads: the participant id stored in the leader's node (a Java LeaderLatch's id too). */
export interface LeaderInfo {
  id: string;
  nodeName: string;
}

const RETRY_DELAY_MS = 1000;

/**
 * Follows the first node of an election directory for `leader$` subscribers, and only while
 * there are some. It costs one data watch on the leader's node (plus a child watch on the
 * directory while it is empty), so every subscribed instance is woken when the leader goes:
 * the no-herd property of the election itself does not depend on it.
 */
export class LeaderTracker {
  private readonly changes = new Subject<LeaderInfo | undefined>();
  private current: LeaderInfo | undefined;
  private known = false;
  private observers = 0;
  /** The leader node carrying our pending data watch, if any. */
  private watchedPath?: string;
  /** Identifies the pending watch on the directory, if any. */
  private directoryWatch?: object;
  private stateSubscription?: Subscription;
  private retryTimer?: NodeJS.Timeout;
  private readonly refresh = new SerialRunner(
    () => this.refreshOnce(),
    (error) => this.retryLater(error),
  );

  constructor(
    private readonly queue: SequentialQueue,
    private readonly logger: LoggerService,
  ) {}

  /** Replays the leader once known, then each change; `undefined` while nobody is a candidate. */
  readonly leader$ = new Observable<LeaderInfo | undefined>((subscriber) => {
    if (this.known) subscriber.next(this.current);
    const inner = this.changes.subscribe(subscriber);
    if (this.observers++ === 0) this.activate();
    return () => {
      inner.unsubscribe();
      if (--this.observers === 0) this.deactivate();
    };
  });

  /** Re-reads now (the election calls it when its own view of the queue changes). */
  poke(): void {
    if (this.observers > 0) this.refresh.kick();
  }

  close(): void {
    this.deactivate();
    this.changes.complete();
  }

  private activate(): void {
    // A new session loses the watches; RECONNECTED retries a read that failed while suspended.
    this.stateSubscription = this.queue.connection.state$.subscribe((state) => {
      if (state === ConnectionState.CONNECTED || state === ConnectionState.RECONNECTED)
        this.refresh.kick();
    });
  }

  private deactivate(): void {
    this.stateSubscription?.unsubscribe();
    this.stateSubscription = undefined;
    clearTimeout(this.retryTimer);
    // What we saw goes stale without watchers to tell us: never replay it later.
    this.known = false;
  }

  private async refreshOnce(): Promise<void> {
    if (this.observers === 0) return;
    const [leader] = await this.queue.contenders();
    if (!leader) {
      await this.watchDirectory();
      return this.publish(undefined);
    }
    if (this.known && this.watchedPath === leader.path) return;
    const alreadyWatched = this.watchedPath === leader.path;
    try {
      const { data } = await this.queue.connection.get(
        leader.path,
        alreadyWatched ? {} : { watch: () => this.onLeaderEvent(leader.path) },
      );
      this.watchedPath = leader.path;
      this.publish({ id: data.toString('utf8'), nodeName: leader.name });
    } catch (error) {
      if (!(error instanceof NoNodeError)) throw error;
      this.refresh.kick();
    }
  }

  private onLeaderEvent(path: string): void {
    if (this.watchedPath === path) this.watchedPath = undefined;
    this.poke();
  }

  /** With no candidate, only a change of the directory's children can bring a leader. */
  private async watchDirectory(): Promise<void> {
    if (this.directoryWatch) return;
    const { connection, basePath } = this.queue;
    const token = {};
    const watch = () => {
      if (this.directoryWatch === token) this.directoryWatch = undefined;
      this.poke();
    };
    try {
      const children = await connection.getChildren(basePath, { watch });
      this.directoryWatch = token;
      if (children.length > 0) this.refresh.kick();
    } catch (error) {
      if (!(error instanceof NoNodeError)) throw error;
      // No directory yet: exists() leaves a watch that fires when it is created. If it appeared
      // meanwhile, that watch cannot report children: read again for a child watch.
      if (await connection.exists(basePath, { watch })) this.refresh.kick();
      else this.directoryWatch = token;
    }
  }

  private publish(leader: LeaderInfo | undefined): void {
    const changed = !this.known || leader?.nodeName !== this.current?.nodeName;
    this.current = leader;
    this.known = true;
    if (changed) this.changes.next(leader);
  }

  private retryLater(error: unknown): void {
    if (this.observers === 0) return;
    this.logger.debug?.(`reading the leader of ${this.queue.basePath} failed: ${String(error)}`);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.poke(), RETRY_DELAY_MS);
  }
}
