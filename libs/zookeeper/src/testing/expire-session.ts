import { filter, firstValueFrom, skip } from 'rxjs';
import { ConnectionState } from '../connection/connection-state.enum.js';
import { validateConnectString } from '../connection/request-checks.js';
import { ZookeeperConnection } from '../connection/zookeeper-connection.js';
import { DriverSession, ZookeeperDriver } from '../driver/driver-session.interface.js';
import { loadDriver } from '../driver/load-driver.js';
import { settledWithin } from '../internal/sleep.js';
import { ZookeeperTestingError } from '../errors/library-errors.js';

export interface ExpireSessionOptions {
  /**
   * Ensemble to reach the session through (default: the connection's own connect string);
   * InvalidOptionsError when it is not one.
   */
  connectString?: string;
  /** Give up after this long (default 15000 ms). */
  timeoutMs?: number;
}

/**
 * Expires the live session of `connection` the way Curator's KillSession and kazoo's test harness
 * do: a second client attaches to the same session id and password and closes it, so the server
 * ends the session as if it had timed out. Resolves once `connection` has reported EXPIRED.
 *
 * Attaching moves the session to the intruder and drops the owner's socket; if the owner
 * reconnects before the intruder's close arrives, the session moves back and survives. That race
 * is retried (with the same session) until the owner reports EXPIRED or the deadline passes.
 */
export async function expireSession(
  connection: ZookeeperConnection,
  options: ExpireSessionOptions = {},
): Promise<void> {
  if (options.connectString !== undefined) validateConnectString(options.connectString);
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  const { id, password, timeoutMs: sessionTimeoutMs } = connection.session;
  const expired = firstValueFrom(
    connection.state$.pipe(
      skip(1),
      filter((state) => state === ConnectionState.EXPIRED),
    ),
  );
  let isExpired = false;
  void expired.then(() => (isExpired = true));
  for (let attempt = 1; !isExpired; attempt++) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      throw new ZookeeperTestingError(
        `expireSession: session ${id} did not expire after ${attempt - 1} attempts`,
      );
    }
    const outcome = await attachAndClose(
      await loadDriver(connection.driver),
      options.connectString ?? connection.connectString,
      id,
      password,
      sessionTimeoutMs,
      remaining,
    );
    // Give the owner time to learn of the expiry (it reconnects and is told, or its own timer
    // fires); a session the server already calls expired needs no second attempt, only time.
    const wait = outcome === 'already-expired' ? deadline - Date.now() : sessionTimeoutMs + 1000;
    // Bounded without a timer left behind once the expiry came (it kept test workers alive).
    await settledWithin(expired, Math.max(0, Math.min(deadline - Date.now(), wait)));
  }
}

async function attachAndClose(
  driver: ZookeeperDriver,
  connectString: string,
  id: string,
  password: string,
  sessionTimeoutMs: number,
  timeoutMs: number,
): Promise<'closed' | 'already-expired'> {
  let timer: NodeJS.Timeout | undefined;
  let intruder: DriverSession | undefined;
  try {
    return await new Promise<'closed' | 'already-expired'>((resolve, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new ZookeeperTestingError(
              `expireSession: could not attach to session ${id} within ${timeoutMs} ms`,
            ),
          ),
        timeoutMs,
      );
      intruder = driver.createSession(
        { connectString, sessionTimeoutMs, logLevel: 0, session: { id, password } },
        {
          connected: () => resolve('closed'),
          connecting: () => undefined,
          // The server refuses to attach to a session it has already ended.
          closed: () => resolve('already-expired'),
          watch: () => undefined,
        },
      );
      intruder.open();
    });
  } finally {
    clearTimeout(timer);
    // Closing the attached intruder ends the session; an ended one is left alone.
    if (intruder && !intruder.isEnded) intruder.close();
  }
}
