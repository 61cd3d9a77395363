import { DriverSessionConfig } from '../driver-session.interface.js';
import { HostList } from './host-list.js';
import { Op, Xid } from './op-codes.js';
import { ConnectRequest, encodeConnect, encodeHeaderOnly } from './records/requests.js';
import { ConnectResponse } from './records/responses.js';
import { tlsOptionsFailure } from './tls-failure.js';
import { WireLink } from './wire-link.js';

export interface SessionLinkHandlers {
  /** The ConnectRequest of the next attempt (current session id, password, last zxid). */
  connectRequest(): ConnectRequest;
  established(response: ConnectResponse): void;
  frame(buf: Buffer, start: number, end: number): void;
  oversized(bytes: number, xid: number): void;
  /** An established link dropped; the next attempt is under way. */
  lost(): void;
  /** An attempt failed; the next one is under way. */
  attemptFailed(error: Error): void;
}

const PING_FRAME = encodeHeaderOnly(Xid.PING, Op.PING);
const MAX_ATTEMPT_MS = 10_000;
const MIN_ATTEMPT_MS = 500;
const MAX_BACKOFF_MS = 1000;
/** Longest idle time before a ping, whatever the session timeout (as the Java client). */
const MAX_PING_INTERVAL_MS = 10_000;
/** A link up this long (or a ping interval, when shorter) resets the reconnect backoff. */
const STABLE_LINK_MS = 2000;

/**
 * The links of one session, one after another: tries the servers in turn (at once while servers
 * accept, a short growing pause after each round of failures, and after links that dropped right
 * after the handshake), drops a link that received nothing for two thirds of the negotiated
 * timeout (the read timeout), and pings a link that sent nothing for half the read timeout, or
 * 10 s when shorter.
 */
export class SessionLink {
  private current?: WireLink;
  private retryTimer?: NodeJS.Timeout;
  private pingTimer?: NodeJS.Timeout;
  private closeTimer?: NodeJS.Timeout;
  private closeDone?: () => void;
  private negotiatedMs = 0;
  private establishedAt = 0;
  private shut = false;

  constructor(
    private readonly hosts: HostList,
    private readonly config: DriverSessionConfig,
    private readonly maxReplyBytes: number,
    private readonly handlers: SessionLinkHandlers,
  ) {}

  connect(): void {
    if (this.shut) return;
    const { address, roundFailed } = this.hosts.next();
    if (!roundFailed) {
      this.attempt(address);
      return;
    }
    const rounds = this.hosts.failedRounds;
    const delay =
      Math.min(MAX_BACKOFF_MS, 50 * 2 ** Math.min(rounds, 5)) * (0.5 + Math.random() / 2);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.attempt(address);
    }, delay);
  }

  send(frame: Buffer): void {
    this.current?.send(frame);
  }

  /**
   * Sends `frame` (closeSession) after the frames already sent, then ends the link at the latest
   * after `waitMs`; `done` is called once the link is gone (shutdown, link failure or timer).
   */
  closeAfter(frame: Buffer, waitMs: number, done: () => void): void {
    this.stopTimers();
    this.closeDone = done;
    const link = this.current;
    if (!link?.isOpen) {
      this.shutdown();
      return;
    }
    this.shut = true;
    link.send(frame);
    this.closeTimer = setTimeout(() => this.shutdown(), waitMs);
    this.closeTimer.unref();
  }

  /** Ends the current link and every timer; nothing is reported afterwards but `closeAfter`'s. */
  shutdown(): void {
    this.shut = true;
    this.stopTimers();
    clearTimeout(this.closeTimer);
    this.closeTimer = undefined;
    this.current?.destroy();
    this.current = undefined;
    const done = this.closeDone;
    this.closeDone = undefined;
    done?.();
  }

  private attempt(address: { host: string; port: number }): void {
    if (this.shut) return;
    try {
      this.current = this.newLink(address);
    } catch (error) {
      // tls.connect throws at once for options it cannot use: a failed attempt like the others
      // (reported, then the next one after the usual pause), never an exception out of a timer.
      const failure = this.config.tls
        ? tlsOptionsFailure(`${address.host}:${address.port}`, error)
        : (error as Error);
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        if (this.shut) return;
        this.handlers.attemptFailed(failure);
        this.connect();
      }, 0);
    }
  }

  private newLink(address: { host: string; port: number }): WireLink {
    const base = this.negotiatedMs > 0 ? this.negotiatedMs : this.config.sessionTimeoutMs;
    const attemptTimeoutMs = Math.min(
      MAX_ATTEMPT_MS,
      Math.max(MIN_ATTEMPT_MS, Math.floor(base / this.hosts.size)),
    );
    const link: WireLink = new WireLink(
      {
        address,
        tls: this.config.tls,
        connectRequest: encodeConnect(this.handlers.connectRequest()),
        attemptTimeoutMs,
        maxReplyBytes: this.maxReplyBytes,
      },
      {
        established: (response) => {
          this.establishedAt = Date.now();
          if (response.timeoutMs > 0) {
            this.negotiatedMs = response.timeoutMs;
            this.startPings(link);
          }
          this.handlers.established(response);
        },
        frame: (buf, start, end) => this.handlers.frame(buf, start, end),
        oversized: (bytes, xid) => this.handlers.oversized(bytes, xid),
        failed: (error, established) => this.onFailed(link, error, established),
      },
    );
    return link;
  }

  private onFailed(link: WireLink, error: Error, established: boolean): void {
    if (link !== this.current) return;
    this.current = undefined;
    this.stopTimers();
    if (this.shut) {
      this.shutdown();
      return;
    }
    if (established && Date.now() - this.establishedAt >= this.stableMs()) {
      // Only a link that lasted resets the backoff: a server that accepts and drops at once
      // must not make a tight reconnect loop.
      this.hosts.success();
    }
    if (established) this.handlers.lost();
    else this.handlers.attemptFailed(error);
    this.connect();
  }

  private readTimeoutMs(): number {
    return Math.floor((this.negotiatedMs * 2) / 3);
  }

  private pingIntervalMs(): number {
    return Math.min(MAX_PING_INTERVAL_MS, Math.floor(this.readTimeoutMs() / 2));
  }

  private stableMs(): number {
    return Math.min(STABLE_LINK_MS, this.pingIntervalMs());
  }

  /** Checks the link when the next ping or the read timeout is due, no earlier. */
  private startPings(link: WireLink): void {
    this.stopTimers();
    const readTimeout = this.readTimeoutMs();
    const pingAfter = this.pingIntervalMs();
    const check = (): void => {
      this.pingTimer = undefined;
      const now = Date.now();
      const silent = now - link.lastReceived;
      if (silent >= readTimeout) {
        link.fail(new Error(`nothing received for ${silent} ms (read timeout)`));
        return;
      }
      let idle = now - link.lastSent;
      if (idle >= pingAfter) {
        link.send(PING_FRAME);
        idle = 0;
      }
      const wait = Math.min(readTimeout - silent, pingAfter - idle);
      this.pingTimer = setTimeout(check, Math.max(10, wait));
    };
    this.pingTimer = setTimeout(check, pingAfter);
  }

  private stopTimers(): void {
    clearTimeout(this.pingTimer);
    this.pingTimer = undefined;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }
}
