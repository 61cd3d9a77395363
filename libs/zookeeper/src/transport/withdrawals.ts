import { Subscription } from 'rxjs';
import { CreateMode } from '../connection/create-mode.enum.js';
import { joinPath } from '../connection/paths.js';
import { ZookeeperConnection } from '../connection/zookeeper-connection.js';
import { watchChildren } from '../watch/children-watch.js';
import { TransportPaths } from './transport-paths.js';

/**
 * Requests a client gave up on (unsubscribed, or timed out) before a server took them: an
 * ephemeral marker `<clientId>.<packetId>` under the transport's `withdrawn` folder, which the
 * servers follow so they skip the request instead of running it for a reply nobody reads.
 *
 * Best effort: a server that takes the request before the marker is in still runs it.
 */
export class Withdrawals {
  private readonly names = new Set<string>();

  /** The client side: marks a request withdrawn until its deadline (`timeoutMs`) has passed. */
  static mark(
    connection: ZookeeperConnection,
    paths: TransportPaths,
    clientId: string,
    id: string,
    timeoutMs: number,
  ): void {
    const marker = joinPath(paths.withdrawn, `${clientId}.${id}`);
    void connection
      .create(marker, '', { mode: CreateMode.EPHEMERAL, createParents: true })
      .then(() => {
        setTimeout(() => void connection.delete(marker).catch(() => undefined), timeoutMs).unref();
      })
      .catch(() => undefined);
  }

  /** The server side: follows the markers from now on. */
  follow(
    connection: ZookeeperConnection,
    paths: TransportPaths,
    failed: (error: unknown) => void,
  ): Subscription {
    return watchChildren(connection, paths.withdrawn).subscribe({
      next: (names) => {
        this.names.clear();
        for (const name of names) this.names.add(name);
      },
      error: failed,
    });
  }

  has(clientId: string, id: string): boolean {
    return this.names.has(`${clientId}.${id}`);
  }
}
