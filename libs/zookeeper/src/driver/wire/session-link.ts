import { DriverSessionConfig } from '../driver-session.interface.js';
import { HostList } from './host-list.js';
import { Op, Xid } from './op-codes.js';
import { ConnectRequest, encodeConnect, encodeHeaderOnly } from './records/requests.js';
import { ConnectResponse } from './records/responses.js';
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

/**
 * The links of one session, one after another: tries the servers in turn (at once while servers
 * accept, a short growing pause after each round of failures), pings an idle link every third of
 * the negotiated timeout, and drops a link that received nothing for two thirds of it.
 */
export class SessionLink {
  private current?: WireLink;
  private retryTimer?: NodeJS.Timeout;
  private pingTimer?: NodeJS.Timeout;
  private closeTimer?: NodeJS.Timeout;
  private negotiatedMs = 0;
  private shut = false;

  constructor(
    private readonly hosts: HostList,
    private readonly config: DriverSessionConfig,
    private readonly maxFrameBytes: number,
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

  /** Sends `frame` (closeSession), then ends the link at the latest after `waitMs`. */
  closeAfter(frame: Buffer, waitMs: number): void {
    this.stopTimers();
    const link = this.current;
    if (!link?.isOpen) {
      this.shutdown();
      return;
    }
    this.shut = true;
    link.send(frame);
    this.closeTimer = setTimeout(() => this.shutdown(), waitMs);
  }

  /** Ends the current link and every timer; nothing is reported afterwards. */
  shutdown(): void {
    this.shut = true;
    this.stopTimers();
    clearTimeout(this.closeTimer);
    this.closeTimer = undefined;
    this.current?.destroy();
    this.current = undefined;
  }

  private attempt(address: { host: string; port: number }): void {
    if (this.shut) return;
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
        maxFrameBytes: this.maxFrameBytes,
      },
      {
        established: (response) => {
          this.hosts.success();
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
    this.current = link;
  }

  private onFailed(link: WireLink, error: Error, established: boolean): void {
    if (link !== this.current) return;
    this.current = undefined;
    this.stopTimers();
    if (this.shut) {
      this.shutdown();
      return;
    }
    if (established) this.handlers.lost();
    else this.handlers.attemptFailed(error);
    this.connect();
  }

  private startPings(link: WireLink): void {
    this.stopTimers();
    const timeout = this.negotiatedMs;
    const pingAfter = Math.floor(timeout / 3);
    const readTimeout = Math.floor((timeout * 2) / 3);
    this.pingTimer = setInterval(
      () => {
        const now = Date.now();
        if (now - link.lastReceived >= readTimeout) {
          link.fail(new Error(`nothing received for ${now - link.lastReceived} ms (read timeout)`));
        } else if (now - link.lastSent >= pingAfter) {
          link.send(PING_FRAME);
        }
      },
      Math.max(10, Math.floor(timeout / 10)),
    );
  }

  private stopTimers(): void {
    clearInterval(this.pingTimer);
    this.pingTimer = undefined;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }
}
