import { FrameTooLargeError, ProtocolError } from '../../errors/driver-errors.js';
import { DriverFailure } from '../driver-failure.js';
import {
  DriverSession,
  DriverSessionConfig,
  DriverSessionListener,
} from '../driver-session.interface.js';
import { WatchEventType } from '../driver-types.js';
import { MultiFailure } from '../multi.js';
import { HostList, parseConnectString, ParsedConnectString } from './host-list.js';
import { JuteReader } from './jute/jute-reader.js';
import { AUTH_FAILED_CLOSE_CODE, Op, Rc, resultText, Xid } from './op-codes.js';
import { PendingRequest, Register, ReplyKind, RequestQueue } from './pending-queue.js';
import { decodeReply } from './records/replies.js';
import * as encode from './records/requests.js';
import { ConnectResponse, decodeWatcherEvent } from './records/responses.js';
import { encodeSetWatches, WatchLists } from './records/set-watches.js';
import { SessionIdentity } from './session-identity.js';
import { SessionLink } from './session-link.js';
import { WatchRegistry } from './watch-registry.js';
import { WireOperations } from './wire-operations.js';

/**
 * Default of `maxFrameBytes`, the largest request: the servers' default jute.maxbuffer
 * (0xfffff = 1,048,575 bytes; a server drops a connection sending a larger frame). Sizes are of
 * the payload after the 4-byte length prefix.
 */
export const DEFAULT_MAX_FRAME_BYTES = 0xfffff;
/** Replies may exceed the request limit by this much: header, stat and path around a value. */
export const REPLY_HEADROOM_BYTES = 1024;

interface AuthEntry {
  scheme: string;
  auth: Buffer;
  /** The caller of addAuth, until the server's first answer. */
  waiter?: { resolve: () => void; reject: (failure: DriverFailure) => void };
}

/** Listener event types by WatcherEvent type code (1 created … 4 children changed). */
const EVENT_TYPES: ReadonlyArray<WatchEventType | undefined> = [
  undefined,
  WatchEventType.CREATED,
  WatchEventType.DELETED,
  WatchEventType.CHANGED,
  WatchEventType.CHILDREN,
];
const CLOSE_WAIT_MS = 1000;

/**
 * A ZooKeeper session spoken in the wire protocol (see README.md in this folder). Requests are
 * pipelined: each is one buffer, written with the others of its tick; replies come in order and
 * settle the oldest request. While no server is connected, requests wait in a queue.
 */
export class WireSession extends WireOperations implements DriverSession {
  private readonly hosts: HostList;
  private readonly maxRequestBytes: number;
  private readonly maxReplyBytes: number;
  private readonly link: SessionLink;
  private readonly sent = new RequestQueue();
  private queued: PendingRequest[] = [];
  private readonly authEntries: AuthEntry[] = [];
  private authInFlight: AuthEntry[] = [];
  private readonly watches = new WatchRegistry();
  private readonly reader = new JuteReader(Buffer.alloc(0));
  /** closing: closeSession is on its way; requests sent before it still get their replies. */
  private state: 'idle' | 'connecting' | 'connected' | 'closing' | 'ended' = 'idle';
  private closingXid = 0;
  /** Settles once a close ended (see `close`). */
  private closing?: Promise<void>;
  private readonly identity = new SessionIdentity();
  private startError?: Error;
  private readonly toClientPath = (path: string): string => this.clientPath(path);

  constructor(
    private readonly config: DriverSessionConfig,
    private readonly listener: DriverSessionListener,
  ) {
    super();
    this.maxRequestBytes = config.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.maxReplyBytes = this.maxRequestBytes + REPLY_HEADROOM_BYTES;
    let parsed: ParsedConnectString = { hosts: [], chroot: '' };
    try {
      parsed = parseConnectString(config.connectString);
      if (config.session) this.identity.use(config.session);
    } catch (error) {
      // Reported by open(), as the connection expects of a driver that cannot start.
      this.startError = error as Error;
    }
    this.hosts = new HostList(parsed.hosts);
    this.chroot = parsed.chroot;
    this.link = new SessionLink(this.hosts, config, this.maxReplyBytes, {
      connectRequest: () => this.identity.connectRequest(this.config.sessionTimeoutMs),
      established: (response) => this.onEstablished(response),
      frame: (buf, start, end) => this.onFrame(buf, start, end),
      oversized: (bytes, xid) => this.onOversized(bytes, xid),
      lost: () => this.onLost(),
      attemptFailed: (error) => this.report(() => this.listener.attemptFailed?.(error)),
    });
  }

  /** Starts connecting; throws for a connect string without a usable host or a bad session. */
  open(): void {
    if (this.startError) throw this.startError;
    if (this.state !== 'idle') return;
    this.state = 'connecting';
    this.link.connect();
  }

  get isEnded(): boolean {
    return this.state === 'ended' || this.state === 'closing';
  }

  get credentials(): { id: string; password: string; timeoutMs: number } {
    return this.identity.credentials;
  }

  get negotiatedTimeoutMs(): number {
    return this.identity.negotiatedMs;
  }

  /**
   * Ends the session. Requests never sent fail CLOSING (-116); those already handed to the link
   * go out before closeSession and settle from their replies, or fail CONNECTION_LOSS (-4: applied
   * or not, unknown) when the link ends first (the server's answer to closeSession, a dead link,
   * or CLOSE_WAIT_MS). Resolves once the link ended: after the server's answer its ephemeral
   * nodes are gone.
   */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    if (this.isEnded) return Promise.resolve();
    const connected = this.state === 'connected';
    this.state = connected ? 'closing' : 'ended';
    this.failUnsent(new DriverFailure(Rc.CLOSING, resultText(Rc.CLOSING)));
    if (!connected) {
      this.link.shutdown();
      return Promise.resolve();
    }
    this.closingXid = this.nextXid();
    this.closing = new Promise<void>((resolve) =>
      this.link.closeAfter(
        encode.encodeHeaderOnly(this.closingXid, Op.CLOSE_SESSION),
        CLOSE_WAIT_MS,
        () => {
          this.onCloseEnded();
          resolve();
        },
      ),
    );
    return this.closing;
  }

  addAuth(scheme: string, credentials: string): Promise<void> {
    if (this.isEnded) return Promise.reject(this.invalidState());
    return new Promise<void>((resolve, reject) => {
      const entry: AuthEntry = {
        scheme,
        auth: Buffer.from(credentials),
        waiter: { resolve, reject },
      };
      this.authEntries.push(entry);
      if (this.state === 'connected') this.sendAuth(entry);
    });
  }

  // ---- requests and replies ----

  protected request<T>(
    xid: number,
    frame: Buffer,
    kind: number,
    path: string,
    register: number,
    opCount = 0,
  ): Promise<T> {
    if (this.isEnded) return Promise.reject(this.invalidState());
    if (frame.length - 4 > this.maxRequestBytes) {
      return Promise.reject(
        new FrameTooLargeError(frame.length - 4, this.maxRequestBytes, 'request'),
      );
    }
    return new Promise<T>((resolve, reject) => {
      const request = new PendingRequest(
        xid,
        kind,
        path,
        register,
        opCount,
        frame,
        resolve as (value: unknown) => void,
        reject,
      );
      if (this.state === 'connected') {
        request.frame = null;
        this.sent.push(request);
        this.link.send(frame);
      } else {
        this.queued.push(request);
      }
    });
  }

  private onFrame(buf: Buffer, start: number, end: number): void {
    if (end - start < 16) throw new ProtocolError(`a ${end - start}-byte reply has no header`);
    if (this.state === 'ended') return;
    const xid = buf.readInt32BE(start);
    if (this.state === 'closing') {
      // Requests sent before closeSession are answered before it; nothing else matters now.
      if (xid === this.closingXid) this.link.shutdown();
      if (xid === this.closingXid || xid < 0) return;
    }
    const err = buf.readInt32BE(start + 12);
    const reader = this.reader.reset(buf, start + 16, end);
    if (xid < 0) {
      this.onSpecialReply(xid, err, reader, buf, start);
      return;
    }
    this.identity.seeZxid(buf, start + 4);
    const request = this.answered(xid, 'reply');
    const watching = request.register !== Register.NONE && this.state === 'connected';
    if (err !== 0 && (request.kind !== ReplyKind.MULTI || reader.remaining === 0)) {
      if (watching && err === Rc.NO_NODE && request.register === Register.EXISTS) {
        this.watches.exist.add(request.path);
      } else if (watching && request.register === Register.REMOVE_PERSISTENT) {
        this.watches.removePersistent(request.path);
      }
      request.reject(new DriverFailure(err, resultText(err)));
      return;
    }
    let value: unknown;
    try {
      value = decodeReply(request.kind, reader, request.opCount, this.toClientPath);
    } catch (error) {
      request.reject(error);
      throw error;
    }
    if (value instanceof MultiFailure) {
      request.reject(value);
      return;
    }
    if (watching) {
      const again = this.watches.registered(request.register, request.path);
      if (again) this.setWatches(again);
    }
    request.resolve(value);
  }

  /**
   * The oldest request sent, which the reply `xid` must answer. Otherwise the stream is out of
   * step: what became of that request is unknown, so it fails CONNECTION_LOSS (as in ZooKeeper's
   * Java client), and the ProtocolError thrown drops the link, failing the others the same way.
   */
  private answered(xid: number, what: string): PendingRequest {
    const request = this.sent.shift();
    if (request !== undefined && request.xid === xid) return request;
    request?.reject(new DriverFailure(Rc.CONNECTION_LOSS, resultText(Rc.CONNECTION_LOSS)));
    throw new ProtocolError(`${what} xid ${xid} where ${request?.xid ?? 'none'} was expected`);
  }

  private onSpecialReply(
    xid: number,
    err: number,
    reader: JuteReader,
    buf: Buffer,
    start: number,
  ): void {
    switch (xid) {
      case Xid.NOTIFICATION: {
        const event = decodeWatcherEvent(reader);
        const type = EVENT_TYPES[event.type];
        if (type === undefined) return;
        this.watches.fired(event.type, event.path);
        this.report(() => this.listener.watch(type, this.clientPath(event.path)));
        return;
      }
      case Xid.AUTH: {
        const entry = this.authInFlight.shift();
        if (err === 0) {
          entry?.waiter?.resolve();
          if (entry) entry.waiter = undefined;
          return;
        }
        const failure = new DriverFailure(Rc.AUTH_FAILED, resultText(Rc.AUTH_FAILED));
        entry?.waiter?.reject(failure);
        if (entry) entry.waiter = undefined;
        this.end(AUTH_FAILED_CLOSE_CODE, failure);
        return;
      }
      case Xid.SET_WATCHES:
        // Its zxid counts as seen (as in the Java client); a refusal means watches are lost.
        this.identity.seeZxid(buf, start + 4);
        if (err !== 0) {
          process.emitWarning(
            `ZooKeeper refused to set the session's watches again after a reconnect ` +
              `(SetWatches: ${err}, ${resultText(err)}): watch events may be missed`,
          );
        }
        return;
      default:
        // Pings (-2) carry nothing to act on.
        return;
    }
  }

  private onOversized(bytes: number, xid: number): void {
    if (this.state === 'ended' || xid < 0) return;
    if (this.state === 'closing' && xid === this.closingXid) return;
    const request = this.answered(xid, 'oversized reply');
    request.reject(new FrameTooLargeError(bytes, this.maxReplyBytes, 'reply'));
  }

  // ---- connection lifecycle ----

  private onEstablished(response: ConnectResponse): void {
    if (this.isEnded) return;
    if (response.timeoutMs <= 0 || !this.identity.continues(response)) {
      // Expired; or another session than the one re-attached, whose ephemerals are gone.
      this.end(Rc.SESSION_EXPIRED, new DriverFailure(Rc.SESSION_EXPIRED, resultText(-112)));
      return;
    }
    const reattached = this.identity.hasSession;
    this.identity.adopt(response);
    this.state = 'connected';
    for (const entry of this.authEntries) this.sendAuth(entry);
    if (reattached && this.watches.size > 0) this.setWatches(this.watches.lists());
    const queued = this.queued;
    this.queued = [];
    for (const request of queued) {
      const frame = request.frame!;
      request.frame = null;
      this.sent.push(request);
      this.link.send(frame);
    }
    this.report(() => this.listener.connected());
  }

  private onLost(): void {
    if (this.state !== 'connected') return;
    this.state = 'connecting';
    this.authInFlight = [];
    const loss = new DriverFailure(Rc.CONNECTION_LOSS, resultText(Rc.CONNECTION_LOSS));
    for (const request of this.sent.drain()) request.reject(loss);
    this.report(() => this.listener.connecting());
  }

  private sendAuth(entry: AuthEntry): void {
    this.authInFlight.push(entry);
    this.link.send(encode.encodeAuth(entry.scheme, entry.auth));
  }

  private setWatches(lists: WatchLists): void {
    const zxid = this.identity.lastZxid;
    for (const packet of encodeSetWatches(zxid.high, zxid.low, lists)) {
      this.link.send(packet);
    }
  }

  /** The session is over (expired, authentication failed): fail everything, report `code`. */
  private end(code: number, failure: DriverFailure): void {
    if (this.isEnded) return;
    this.state = 'ended';
    this.link.shutdown();
    for (const request of this.sent.drain()) request.reject(failure);
    this.failUnsent(failure);
    this.report(() => this.listener.closed(code));
  }

  /** The link of a closing session ended: what it did not answer may or may not be applied. */
  private onCloseEnded(): void {
    this.state = 'ended';
    const loss = new DriverFailure(Rc.CONNECTION_LOSS, resultText(Rc.CONNECTION_LOSS));
    for (const request of this.sent.drain()) request.reject(loss);
  }

  /** Fails the requests waiting for a link, and the auth entries; forgets the watches. */
  private failUnsent(failure: DriverFailure): void {
    const queued = this.queued;
    this.queued = [];
    for (const request of queued) request.reject(failure);
    for (const entry of this.authEntries) entry.waiter?.reject(failure);
    this.authEntries.length = 0;
    this.authInFlight = [];
    this.watches.clear();
  }

  /** Calls the listener; its exceptions are not the driver's and must not break the link. */
  private report(call: () => void): void {
    try {
      call();
    } catch (error) {
      process.emitWarning(`a ZooKeeper session listener threw: ${String(error)}`);
    }
  }

  private invalidState(): DriverFailure {
    return new DriverFailure(Rc.INVALID_STATE, 'session closed');
  }
}
