import { EventEmitter } from 'node:events';
import { Observer, Subscription } from 'rxjs';
import { ConnectionState } from '../connection/connection-state.enum.js';
import { ZookeeperConnection } from '../connection/zookeeper-connection.js';
import { ZookeeperEvents, ZookeeperStatus } from './zookeeper.events.js';

const STATUS_OF: Partial<Record<ConnectionState, ZookeeperStatus>> = {
  [ConnectionState.CONNECTED]: ZookeeperStatus.CONNECTED,
  [ConnectionState.RECONNECTED]: ZookeeperStatus.CONNECTED,
  [ConnectionState.SUSPENDED]: ZookeeperStatus.RECONNECTING,
  [ConnectionState.EXPIRED]: ZookeeperStatus.SESSION_LOST,
  [ConnectionState.CLOSED]: ZookeeperStatus.DISCONNECTED,
  [ConnectionState.AUTH_FAILED]: ZookeeperStatus.DISCONNECTED,
};

/**
 * Turns a connection's states into a transport's `status` values and `on(event)` callbacks:
 * CONNECTED/RECONNECTED → connected, SUSPENDED → reconnecting (the client reconnects by itself),
 * EXPIRED → session-lost (a new session follows), CLOSED → disconnected.
 */
export class TransportStatus {
  private readonly events = new EventEmitter();
  private link?: Subscription;

  constructor(private readonly status$: Observer<ZookeeperStatus>) {
    // An 'error' event with no listener would throw: errors are reported by the owner's logger.
    this.events.on('error', () => undefined);
  }

  follow(connection: ZookeeperConnection, onState?: (state: ConnectionState) => void): void {
    this.link?.unsubscribe();
    this.link = connection.state$.subscribe((state) => {
      onState?.(state);
      const status = STATUS_OF[state];
      if (status === undefined) return;
      this.status$.next(status);
      this.events.emit(status);
    });
  }

  on<K extends keyof ZookeeperEvents>(event: K, callback: ZookeeperEvents[K]): void {
    this.events.on(event, callback as (...args: unknown[]) => void);
  }

  error(error: Error): void {
    this.events.emit('error', error);
  }

  stop(): void {
    this.link?.unsubscribe();
    this.status$.next(ZookeeperStatus.DISCONNECTED);
    this.events.emit(ZookeeperStatus.DISCONNECTED);
  }
}
