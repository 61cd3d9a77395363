import ZooKeeper from 'zookeeper';
import { filter, firstValueFrom, skip } from 'rxjs';
import { ConnectionState } from '../connection/connection-state.enum.js';
import { ZookeeperConnection } from '../connection/zookeeper-connection.js';

export interface ExpireSessionOptions {
  /** Ensemble to reach the session through (default: the connection's own connect string). */
  connectString?: string;
  /** Give up after this long (default 15000 ms). */
  timeoutMs?: number;
}

/**
 * Expires the live session of `connection` the way Curator's KillSession and kazoo's test harness
 * do: a second client attaches to the same session id and password and closes it, so the server
 * ends the session as if it had timed out. Resolves once `connection` has reported EXPIRED.
 */
export async function expireSession(
  connection: ZookeeperConnection,
  options: ExpireSessionOptions = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const { id, password, timeoutMs: sessionTimeoutMs } = connection.session;
  const expired = firstValueFrom(
    connection.state$.pipe(
      skip(1),
      filter((state) => state === ConnectionState.EXPIRED),
    ),
  );
  const intruder = new ZooKeeper({
    connect: options.connectString ?? connection.connectString,
    timeout: sessionTimeoutMs,
    debug_level: 0,
    client_id: id,
    client_password: password,
  });
  await withTimeout(
    new Promise<void>((resolve) => {
      intruder.once('connect', () => resolve());
      intruder.init({});
    }),
    timeoutMs,
    `could not attach to session ${id} to expire it`,
  ).catch((error) => {
    intruder.close();
    throw error;
  });
  intruder.close();
  await withTimeout(
    expired,
    timeoutMs,
    `session ${id} was closed but the connection did not report EXPIRED`,
  );
}

async function withTimeout<T>(promise: Promise<T>, timeoutMs: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`expireSession: ${message} within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
