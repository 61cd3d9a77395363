import { LoggerService } from '@nestjs/common';
import { BehaviorSubject, filter, firstValueFrom, Observable, take } from 'rxjs';
import { ConnectTimeoutError, ConnectionClosedError } from '../errors/library-errors.js';
import { ZookeeperErrorCode as Code } from '../errors/zookeeper-error-code.enum.js';
import { AuthFailedError } from '../errors/zookeeper-errors.js';
import { ConnectionState, isConnectedState } from './connection-state.enum.js';
import { DriverFailure } from '../driver/driver-failure.js';
import {
  DriverName,
  DriverSession,
  DriverSessionConfig,
  ZookeeperDriver,
} from '../driver/driver-session.interface.js';
import { WatchEventType } from '../driver/driver-types.js';
import { loadDriver } from '../driver/load-driver.js';

const AUTH_FAILED_CLOSE_CODE = -113;
const REOPEN_DELAY_MS = 1000;

export interface SessionLifecycleHooks {
  /** Runs on every new session before CONNECTED is announced (auth, namespace). */
  prepareSession(session: DriverSession): Promise<void>;
  /** A session is gone for good: its watches will never fire. */
  sessionLost(): void;
  watchEvent(type: WatchEventType, serverPath: string): void;
}

/**
 * Owns the driver sessions of one connection and turns driver events into Curator-like states.
 * The driver only says 'connecting' when the link drops; like Curator, a connection SUSPENDED for
 * longer than the negotiated session timeout is declared EXPIRED without waiting for the server to
 * say so (it cannot while unreachable), the old session is discarded and a new one is opened.
 */
export class SessionLifecycle {
  private readonly stateSubject = new BehaviorSubject<ConnectionState>(ConnectionState.CONNECTING);
  private current?: DriverSession;
  private suspendedTimer?: NodeJS.Timeout;
  private closed = false;
  private reopenTimer?: NodeJS.Timeout;
  private driver?: ZookeeperDriver;
  private lastAttemptFailure?: Error;
  /** The driver's close of the last session (resolved when there was none). */
  private closing: Promise<void> = Promise.resolve();
  /** Sessions not prepared yet, with what releases the requests waiting for them. */
  private readonly preparing = new Map<DriverSession, { promise: Promise<void>; done(): void }>();

  constructor(
    private readonly driverName: DriverName,
    private readonly config: DriverSessionConfig,
    private readonly hooks: SessionLifecycleHooks,
    private readonly logger: LoggerService,
  ) {}

  get state$(): Observable<ConnectionState> {
    return this.stateSubject.asObservable();
  }

  get state(): ConnectionState {
    return this.stateSubject.value;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** What the driver can do (known once `start` has loaded it). */
  get capabilities(): ZookeeperDriver['capabilities'] {
    if (!this.driver) throw new ConnectionClosedError({ operation: 'capabilities' });
    return this.driver.capabilities;
  }

  /** The session requests go to; while reconnecting, the driver queues them. */
  session(): DriverSession {
    if (this.closed || !this.current) throw new ConnectionClosedError();
    return this.current;
  }

  /**
   * The current session once it is prepared (credentials added, namespace made): a request made
   * while a new session connects waits for that, else the driver would send it before the
   * credentials and a protected node would answer NoAuth. A session that ends unprepared lets its
   * waiters go on (to its failure, or to the next session).
   */
  async preparedSession(): Promise<DriverSession> {
    for (;;) {
      const session = this.session();
      const preparing = this.preparing.get(session);
      if (!preparing) return session;
      await preparing.promise;
      if (this.current === session) return this.session();
    }
  }

  /** Opens the first session and resolves once it is connected, or fails at the deadline. */
  async start(connectTimeoutMs: number): Promise<void> {
    if (this.closed) throw new ConnectionClosedError({ operation: 'connect' });
    this.driver ??= await loadDriver(this.driverName);
    if (this.closed) throw new ConnectionClosedError({ operation: 'connect' });
    if (!this.current) this.openSession();
    const outcome = firstValueFrom(
      this.state$.pipe(
        filter((state) => state !== ConnectionState.CONNECTING),
        take(1),
      ),
    );
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>(
      (resolve) => (timer = setTimeout(() => resolve('timeout'), connectTimeoutMs)),
    );
    const result = await Promise.race([outcome, deadline]).finally(() => clearTimeout(timer));
    if (result === 'timeout') {
      void this.close();
      throw new ConnectTimeoutError(
        this.config.connectString,
        connectTimeoutMs,
        this.lastAttemptFailure,
      );
    }
    if (result === ConnectionState.AUTH_FAILED) throw new AuthFailedError({ operation: 'connect' });
    if (result === ConnectionState.CLOSED)
      throw new ConnectionClosedError({ operation: 'connect' });
  }

  /** Resolves when the session is usable (CONNECTED or RECONNECTED); rejects once closed. */
  async whenConnected(): Promise<void> {
    if (this.closed) throw new ConnectionClosedError();
    const state = await firstValueFrom(
      this.state$.pipe(
        filter(
          (s) =>
            isConnectedState(s) ||
            s === ConnectionState.CLOSED ||
            s === ConnectionState.AUTH_FAILED,
        ),
      ),
    );
    if (!isConnectedState(state)) throw new ConnectionClosedError();
  }

  /** Ends for good (CLOSED at once); resolves once the driver closed the session (see `close`). */
  close(): Promise<void> {
    if (this.closed) return this.closing;
    this.closed = true;
    this.clearSuspendedTimer();
    clearTimeout(this.reopenTimer);
    this.closing = this.current?.close() ?? Promise.resolve();
    for (const session of [...this.preparing.keys()]) this.prepared(session);
    this.hooks.sessionLost();
    this.transition(ConnectionState.CLOSED);
    this.stateSubject.complete();
    return this.closing;
  }

  private openSession(): void {
    const session = this.driver!.createSession(this.config, {
      connected: () => void this.onConnected(session),
      connecting: () => this.onConnecting(session),
      closed: (code) => this.onSessionClosed(session, code),
      watch: (type, path) => this.hooks.watchEvent(type, path),
      attemptFailed: (reason) => {
        if (session !== this.current) return;
        this.lastAttemptFailure = reason;
        this.logger.debug?.(`connection attempt failed: ${reason.message}`);
      },
    });
    let done!: () => void;
    const promise = new Promise<void>((resolve) => (done = resolve));
    this.preparing.set(session, { promise, done });
    this.current = session;
    try {
      session.open();
    } catch (error) {
      // The C client could not even start (e.g. no server name resolves): try again shortly,
      // rather than leaving the connection without a session for good.
      this.logger.warn(`could not open a session: ${(error as Error).message}; retrying`);
      void session.close();
      this.prepared(session);
      this.reopenTimer = setTimeout(() => {
        this.reopenTimer = undefined;
        if (!this.closed && this.current === session) this.openSession();
      }, REOPEN_DELAY_MS);
    }
  }

  private connectedOnce = new WeakSet<DriverSession>();

  private async onConnected(session: DriverSession): Promise<void> {
    if (session !== this.current || this.closed) return;
    this.clearSuspendedTimer();
    if (this.connectedOnce.has(session)) {
      this.transition(ConnectionState.RECONNECTED);
      return;
    }
    this.connectedOnce.add(session);
    try {
      await this.hooks.prepareSession(session);
    } catch (error) {
      // A rejected auth entry: the server closes the session, and its close event (just behind
      // this reply) announces AUTH_FAILED, which fails connect(). Never announce it CONNECTED.
      if (session.isEnded || (error instanceof DriverFailure && error.rc === Code.AUTH_FAILED)) {
        return;
      }
      this.logger.error(`could not prepare the new session: ${(error as Error).message}`);
    } finally {
      this.prepared(session);
    }
    if (session === this.current && !this.closed) this.transition(ConnectionState.CONNECTED);
  }

  private onConnecting(session: DriverSession): void {
    if (session !== this.current || this.closed || !isConnectedState(this.state)) return;
    this.transition(ConnectionState.SUSPENDED);
    const timeoutMs =
      session.negotiatedTimeoutMs > 0 ? session.negotiatedTimeoutMs : this.config.sessionTimeoutMs;
    this.suspendedTimer = setTimeout(() => {
      this.logger.warn(
        `no reconnect within the session timeout (${timeoutMs} ms): treating the session as expired`,
      );
      this.replaceSession(session);
    }, timeoutMs);
  }

  private onSessionClosed(session: DriverSession, code: number): void {
    if (session !== this.current || this.closed) return;
    if (code === AUTH_FAILED_CLOSE_CODE) {
      this.prepared(session);
      this.clearSuspendedTimer();
      this.hooks.sessionLost();
      this.transition(ConnectionState.AUTH_FAILED);
      return;
    }
    this.replaceSession(session);
  }

  private prepared(session: DriverSession): void {
    this.preparing.get(session)?.done();
    this.preparing.delete(session);
  }

  private replaceSession(session: DriverSession): void {
    this.clearSuspendedTimer();
    void session.close();
    this.prepared(session);
    this.hooks.sessionLost();
    this.transition(ConnectionState.EXPIRED);
    if (!this.closed) this.openSession();
  }

  private transition(state: ConnectionState): void {
    if (this.stateSubject.value === state && state !== ConnectionState.CONNECTED) return;
    const log =
      state === ConnectionState.SUSPENDED ||
      state === ConnectionState.EXPIRED ||
      state === ConnectionState.AUTH_FAILED
        ? 'warn'
        : 'log';
    this.logger[log](`${state} (${this.config.connectString})`);
    this.stateSubject.next(state);
  }

  private clearSuspendedTimer(): void {
    if (this.suspendedTimer) clearTimeout(this.suspendedTimer);
    this.suspendedTimer = undefined;
  }
}
