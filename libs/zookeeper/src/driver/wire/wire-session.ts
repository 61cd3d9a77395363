import { FrameTooLargeError, ProtocolError } from '../../errors/driver-errors.js';
import { DriverFailure } from '../driver-failure.js';
import {
  DriverSession,
  DriverSessionConfig,
  DriverSessionListener,
  PersistentWatchMode,
} from '../driver-session.interface.js';
import { WatchEventType } from '../driver-types.js';
import { MultiFailure } from '../multi.js';
import { HostList, parseConnectString, ParsedConnectString } from './host-list.js';
import { hex64, JuteReader, parseHex64 } from './jute/jute-reader.js';
import { AUTH_FAILED_CLOSE_CODE, Op, Rc, resultText, Xid } from './op-codes.js';
import { PendingRequest, Register, ReplyKind, RequestQueue } from './pending-queue.js';
import { decodeReply } from './records/replies.js';
import * as encode from './records/requests.js';
import { ConnectResponse, decodeWatcherEvent } from './records/responses.js';
import { encodeSetWatches, WatchLists } from './records/set-watches.js';
import { SessionLink } from './session-link.js';
import { WatchRegistry } from './watch-registry.js';
import { WireOperations } from './wire-operations.js';

/**
 * Default frame limit: the servers' default jute.maxbuffer (0xfffff = 1,048,575 bytes, which
 * bounds a request there) plus 1 KiB for the reply header, stat and path around a value of that
 * size. Applies to the payload after the 4-byte length prefix, in both directions.
 */
export const DEFAULT_MAX_FRAME_BYTES = 0xfffff + 1024;

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
  private readonly maxFrameBytes: number;
  private readonly link: SessionLink;
  private readonly sent = new RequestQueue();
  private queued: PendingRequest[] = [];
  private readonly authEntries: AuthEntry[] = [];
  private authInFlight: AuthEntry[] = [];
  private readonly watches = new WatchRegistry();
  private readonly reader = new JuteReader(Buffer.alloc(0));
  private state: 'idle' | 'connecting' | 'connected' | 'ended' = 'idle';
  private closingXid = 0;
  private sessionHigh = 0;
  private sessionLow = 0;
  private password: Buffer = Buffer.alloc(16);
  private negotiated = 0;
  private zxidHigh = 0;
  private zxidLow = 0;
  private startError?: Error;

  constructor(
    private readonly config: DriverSessionConfig,
    private readonly listener: DriverSessionListener,
  ) {
    super();
    this.maxFrameBytes = config.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    let parsed: ParsedConnectString = { hosts: [], chroot: '' };
    try {
      parsed = parseConnectString(config.connectString);
      if (config.session) this.useSession(config.session);
    } catch (error) {
      // Reported by open(), as the connection expects of a driver that cannot start.
      this.startError = error as Error;
    }
    this.hosts = new HostList(parsed.hosts);
    this.chroot = parsed.chroot;
    this.link = new SessionLink(this.hosts, config, this.maxFrameBytes, {
      connectRequest: () => this.connectRequest(),
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
    return this.state === 'ended';
  }

  get credentials(): { id: string; password: string; timeoutMs: number } {
    return {
      id: hex64(this.sessionHigh >>> 0, this.sessionLow >>> 0),
      password: this.password.toString('hex').toUpperCase(),
      timeoutMs: this.negotiated,
    };
  }

  get negotiatedTimeoutMs(): number {
    return this.negotiated;
  }

  close(): void {
    if (this.state === 'ended') return;
    const connected = this.state === 'connected';
    this.state = 'ended';
    this.failAll(new DriverFailure(Rc.CLOSING, resultText(Rc.CLOSING)));
    if (connected) {
      this.closingXid = this.nextXid();
      this.link.closeAfter(
        encode.encodeHeaderOnly(this.closingXid, Op.CLOSE_SESSION),
        CLOSE_WAIT_MS,
      );
    } else {
      this.link.shutdown();
    }
  }

  addAuth(scheme: string, credentials: string): Promise<void> {
    if (this.state === 'ended') return Promise.reject(this.invalidState());
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

  private useSession(session: { id: string; password: string }): void {
    const id = parseHex64(session.id);
    if (!/^[0-9a-fA-F]{32}$/.test(session.password)) {
      throw new Error('the session password must be 32 hex digits');
    }
    this.sessionHigh = id.high;
    this.sessionLow = id.low;
    this.password = Buffer.from(session.password, 'hex');
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
    if (this.state === 'ended') return Promise.reject(this.invalidState());
    if (frame.length - 4 > this.maxFrameBytes) {
      return Promise.reject(
        new FrameTooLargeError(frame.length - 4, this.maxFrameBytes, 'request'),
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
    const xid = buf.readInt32BE(start);
    if (this.state === 'ended') {
      if (xid === this.closingXid) this.link.shutdown();
      return;
    }
    const err = buf.readInt32BE(start + 12);
    const reader = this.reader.reset(buf, start + 16, end);
    if (xid < 0) {
      this.onSpecialReply(xid, err, reader);
      return;
    }
    const zxidHigh = buf.readInt32BE(start + 4);
    const zxidLow = buf.readUInt32BE(start + 8);
    if (zxidHigh > 0 || (zxidHigh === 0 && zxidLow > 0)) {
      this.zxidHigh = zxidHigh;
      this.zxidLow = zxidLow;
    }
    const request = this.sent.shift();
    if (request === undefined || request.xid !== xid) {
      throw new ProtocolError(`reply xid ${xid} where ${request?.xid ?? 'none'} was expected`);
    }
    if (err !== 0 && (request.kind !== ReplyKind.MULTI || reader.remaining === 0)) {
      if (err === Rc.NO_NODE && request.register === Register.EXISTS) {
        this.watches.exist.add(request.path);
      } else if (request.register === Register.REMOVE_PERSISTENT) {
        this.watches.removePersistent(request.path);
      }
      request.reject(new DriverFailure(err, resultText(err)));
      return;
    }
    let value: unknown;
    try {
      value = decodeReply(request.kind, reader, request.opCount, (path) => this.clientPath(path));
    } catch (error) {
      request.reject(error);
      throw error;
    }
    if (value instanceof MultiFailure) {
      request.reject(value);
      return;
    }
    if (request.register !== Register.NONE) this.registered(request);
    request.resolve(value);
  }

  private registered(request: PendingRequest): void {
    const path = request.path;
    switch (request.register) {
      case Register.EXISTS:
      case Register.DATA:
        this.watches.data.add(path);
        break;
      case Register.CHILD:
        this.watches.child.add(path);
        break;
      case Register.PERSISTENT:
        this.watches.addPersistent(path, PersistentWatchMode.PERSISTENT);
        break;
      case Register.PERSISTENT_RECURSIVE:
        this.watches.addPersistent(path, PersistentWatchMode.PERSISTENT_RECURSIVE);
        break;
      case Register.REMOVE_PERSISTENT:
        this.watches.removePersistent(path);
        this.setWatches(this.watches.oneShotOf(path));
        break;
    }
  }

  private onSpecialReply(xid: number, err: number, reader: JuteReader): void {
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
      default:
        // Pings (-2) and SetWatches (-8) carry nothing to act on.
        return;
    }
  }

  private onOversized(bytes: number, xid: number): void {
    if (this.state === 'ended' || xid < 0) return;
    const request = this.sent.shift();
    if (request === undefined || request.xid !== xid) {
      throw new ProtocolError(`oversized reply xid ${xid} where ${request?.xid} was expected`);
    }
    request.reject(new FrameTooLargeError(bytes, this.maxFrameBytes, 'reply'));
  }

  // ---- connection lifecycle ----

  private connectRequest(): encode.ConnectRequest {
    return {
      lastZxidHigh: this.zxidHigh,
      lastZxidLow: this.zxidLow,
      timeoutMs: this.config.sessionTimeoutMs,
      sessionIdHigh: this.sessionHigh,
      sessionIdLow: this.sessionLow,
      password: this.password,
    };
  }

  private onEstablished(response: ConnectResponse): void {
    if (this.state === 'ended') return;
    if (response.timeoutMs <= 0) {
      this.end(Rc.SESSION_EXPIRED, new DriverFailure(Rc.SESSION_EXPIRED, resultText(-112)));
      return;
    }
    const reattached = this.sessionHigh !== 0 || this.sessionLow !== 0;
    this.sessionHigh = response.sessionIdHigh;
    this.sessionLow = response.sessionIdLow;
    this.password = response.password;
    this.negotiated = response.timeoutMs;
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
    for (const packet of encodeSetWatches(this.zxidHigh, this.zxidLow, lists)) {
      this.link.send(packet);
    }
  }

  /** The session is over (expired, authentication failed): fail everything, report `code`. */
  private end(code: number, failure: DriverFailure): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    this.link.shutdown();
    this.failAll(failure);
    this.report(() => this.listener.closed(code));
  }

  private failAll(failure: DriverFailure): void {
    for (const request of this.sent.drain()) request.reject(failure);
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
