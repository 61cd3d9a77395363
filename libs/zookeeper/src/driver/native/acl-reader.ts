import { DriverFailure } from '../driver-failure.js';
import { DriverSession, DriverSessionConfig } from '../driver-session.interface.js';
import { Acl, Stat } from '../driver-types.js';
import { WireSession } from '../wire/wire-session.js';

const CONNECTION_LOSS = -4;
/**
 * Result codes about the side session, not the node (invalid state, session expired, auth
 * failed, closing, session moved): the native session is fine, so they become ConnectionLoss.
 */
const SIDE_SESSION_CODES = new Set([-9, -112, -115, -116, -118]);

interface Side {
  session: DriverSession;
  /** Settles once the side session is connected, or failed (lost, closed, not in time). */
  ready: Promise<void>;
  fail(failure: DriverFailure): void;
}

/**
 * `getAcl` of the native driver, read over a session of the wire driver.
 *
 * Why: the `zookeeper` addon (7.3.0) crashes the process on every failed getAcl reply: its
 * `acl_completion` calls `deallocate_ACL_vector(NULL)` when the C client reports a failure (NoNode,
 * NoAuth, ConnectionLoss, SessionExpired, and Closing for a request in flight at close). Reading
 * the node first only narrows that window: a node deleted by another client between the read and
 * the getAcl, or a connection lost with the getAcl in flight, still ends the process (SIGSEGV),
 * which no JavaScript can catch. So the native session never calls `a_get_acl`: ACLs come from a
 * second session of the library's own client, opened on the first getAcl with the same connect
 * string and credentials, and closed with the native session.
 *
 * Consistency: a `sync` goes before each getAcl on the side session (pipelined: the server runs a
 * session's requests in order), so its server has applied every write the native session saw
 * acknowledged, e.g. a `setAcl` just before. Failures of the side session itself (expired, closed,
 * never connected within the session timeout) come back as ConnectionLoss, which the connection
 * retries; they must not read as the expiry of the native session.
 */
export class AclReader {
  private side?: Side;
  private readonly auth: Array<{ scheme: string; credentials: string }> = [];
  private closed = false;

  constructor(private readonly config: DriverSessionConfig) {}

  /** Credentials of the native session, replayed on the side session (now and when it opens). */
  addAuth(scheme: string, credentials: string): void {
    this.auth.push({ scheme, credentials });
    this.side?.session.addAuth(scheme, credentials).catch(() => undefined);
  }

  async getAcl(path: string): Promise<{ acl: Acl[]; stat: Stat }> {
    const session = await this.connected();
    try {
      const [, result] = await Promise.all([session.sync(path), session.getAcl(path)]);
      return result;
    } catch (error) {
      throw this.asOwnFailure(error, session);
    }
  }

  /** Closes the side session, if one was opened; resolves once it is closed. */
  close(): Promise<void> {
    this.closed = true;
    return this.drop();
  }

  private async connected(): Promise<DriverSession> {
    if (this.closed) throw new DriverFailure(CONNECTION_LOSS, 'session closed');
    const side = this.side ?? this.open();
    await side.ready;
    return side.session;
  }

  private open(): Side {
    let settle!: (failure?: DriverFailure) => void;
    const ready = new Promise<void>((resolve, reject) => {
      settle = (failure) => (failure ? reject(failure) : resolve());
    });
    const lost = (text: string) => {
      if (this.side?.session === session) void this.drop();
      settle(new DriverFailure(CONNECTION_LOSS, `ACL reader session ${text}`));
    };
    const session: DriverSession = new WireSession(
      {
        connectString: this.config.connectString,
        sessionTimeoutMs: this.config.sessionTimeoutMs,
        logLevel: 0,
      },
      {
        connected: () => settle(),
        connecting: () => undefined,
        closed: (code) => lost(`ended (${code})`),
        watch: () => undefined,
      },
    );
    const side: Side = { session, ready, fail: settle };
    this.side = side;
    const timer = setTimeout(() => lost('did not connect in time'), this.config.sessionTimeoutMs);
    timer.unref();
    ready.then(
      () => clearTimeout(timer),
      () => clearTimeout(timer),
    );
    try {
      session.open();
    } catch (error) {
      lost(`could not start: ${String(error)}`);
    }
    for (const { scheme, credentials } of this.auth) {
      session.addAuth(scheme, credentials).catch(() => undefined);
    }
    return side;
  }

  /** Failures about the node stay; those of the side session become ConnectionLoss. */
  private asOwnFailure(error: unknown, session: DriverSession): unknown {
    if (!(error instanceof DriverFailure)) return error;
    if (!SIDE_SESSION_CODES.has(error.rc) && !session.isEnded) return error;
    if (this.side?.session === session) void this.drop();
    return new DriverFailure(CONNECTION_LOSS, `ACL reader session lost (${error.rc})`);
  }

  private drop(): Promise<void> {
    const side = this.side;
    this.side = undefined;
    // A closed session reports nothing more: a getAcl waiting for it to connect is failed here.
    side?.fail(new DriverFailure(CONNECTION_LOSS, 'ACL reader session closed'));
    return side?.session.close() ?? Promise.resolve();
  }
}
