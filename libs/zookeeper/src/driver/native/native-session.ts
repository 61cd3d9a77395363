import type ZooKeeper from 'zookeeper';
import { DriverFailure } from '../driver-failure.js';
import {
  DriverSession,
  DriverSessionConfig,
  DriverSessionListener,
} from '../driver-session.interface.js';
import { Acl, Stat, WatchEventType } from '../driver-types.js';
import { AclReader } from './acl-reader.js';

/** The `zookeeper` package's client class, loaded only when the native driver is chosen. */
export type ZooKeeperClass = typeof ZooKeeper;

// The native handle of the driver: calling it directly skips the JS wrapper, which formats every
// argument with util.inspect on each call even when logging is off.
interface NativeHandle {
  a_create(path: string, data: Buffer, flags: number, cb: Callback): number;
  a_create_ttl(path: string, data: Buffer, flags: number, ttl: number, cb: Callback): number;
  a_exists(path: string, watch: boolean, cb: Callback): number;
  a_get(path: string, watch: boolean, cb: Callback): number;
  a_get_children2(path: string, watch: boolean, cb: Callback): number;
  a_set(path: string, data: Buffer, version: number, cb: Callback): number;
  a_delete_(path: string, version: number, cb: Callback): number;
  a_set_acl(path: string, version: number, acl: DriverAcl[], cb: Callback): number;
  add_auth(scheme: string, auth: string, cb: Callback): number;
  a_sync(path: string, cb: Callback): number;
  readonly client_id: string;
  readonly client_password: string;
  readonly timeout: number;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the driver's callback results are untyped
type Callback = (rc: number, message: string, ...results: any[]) => void;
interface DriverAcl {
  perm?: number;
  perms?: number;
  scheme: string;
  auth: string;
}

const ZOK = 0;
const CONNECTION_LOSS = -4;
const RESPONSE_COUNTER_LIMIT = 1_000_000;
// Returned synchronously by the driver when its handle is gone (ZINVALIDSTATE).
const INVALID_STATE = -9;

const WATCH_EVENTS: ReadonlyArray<[string, WatchEventType]> = [
  ['created', WatchEventType.CREATED],
  ['deleted', WatchEventType.DELETED],
  ['changed', WatchEventType.CHANGED],
  ['child', WatchEventType.CHILDREN],
];

/**
 * One ZooKeeper session of the `zookeeper` driver, used once: after `close()` or a 'close' event
 * the instance is never touched again (the driver can crash the process when a closed instance is
 * used), and the connection opens a new session instead. Watches are registered with the
 * session's default watcher (boolean `watch`), which the driver reports as path events; the
 * driver's per-call watcher variant allocates a native callback that is never freed.
 */
export class NativeSession implements DriverSession {
  private readonly client: ZooKeeper;
  private readonly native: NativeHandle;
  private ended = false;
  private linkUp = false;
  /** getAcl never goes through the addon (see AclReader for why). */
  private readonly acls: AclReader;

  constructor(
    ZooKeeperClient: ZooKeeperClass,
    config: DriverSessionConfig,
    private readonly listener: DriverSessionListener,
  ) {
    this.client = new ZooKeeperClient({
      connect: config.connectString,
      timeout: config.sessionTimeoutMs,
      debug_level: config.logLevel,
      host_order_deterministic: false,
      // The driver declares the session expired after this many socket wake-ups that complete no
      // reply; receiving one large (~1 MB) reply takes more than its default of 10.
      response_counter_limit: RESPONSE_COUNTER_LIMIT,
      ...(config.session
        ? { client_id: config.session.id, client_password: config.session.password }
        : {}),
    });
    this.native = this.client.native as NativeHandle;
    this.acls = new AclReader(config);
    this.client.on('connect', () => {
      this.linkUp = true;
      if (!this.ended) this.listener.connected();
    });
    this.client.on('connecting', () => {
      this.linkUp = false;
      if (!this.ended) this.listener.connecting();
    });
    this.client.on('close', (_client: unknown, code: number) => this.onClose(code));
    for (const [event, type] of WATCH_EVENTS) {
      this.client.on(
        event,
        (_client: unknown, path: string) => this.ended || this.listener.watch(type, path),
      );
    }
  }

  /** Starts connecting; throws when the C client cannot start (e.g. no host name resolves). */
  open(): void {
    // The driver's init() drops the native result, which is an Error when zookeeper_init failed.
    const result: unknown = (this.client.native as { init(config: object): unknown }).init(
      this.client.config,
    );
    if (result instanceof Error) throw result;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  get credentials(): { id: string; password: string; timeoutMs: number } {
    return {
      id: this.native.client_id,
      password: this.native.client_password,
      timeoutMs: this.native.timeout,
    };
  }

  /** The session timeout the server granted (it clamps the requested one to its limits). */
  get negotiatedTimeoutMs(): number {
    return this.native.timeout;
  }

  /**
   * Closes the session for good; no event of this instance reaches the listener afterwards. The
   * C client's close waits for the server's answer (or its own timeout) before it returns.
   */
  close(): Promise<void> {
    if (this.ended) return Promise.resolve();
    this.ended = true;
    const sideSession = this.acls.close();
    this.client.close();
    return sideSession;
  }

  /** No `acl` here: the driver creates with the open ACL, the connection sets it afterwards. */
  create(path: string, data: Buffer, flags: number, ttlMs?: number): Promise<string> {
    return this.call((cb) =>
      ttlMs === undefined
        ? this.native.a_create(path, data, flags, cb)
        : this.native.a_create_ttl(path, data, flags, ttlMs, cb),
    );
  }

  exists(path: string, watch: boolean): Promise<Stat> {
    return this.call((cb) => this.native.a_exists(path, watch, cb));
  }

  async get(path: string, watch: boolean): Promise<{ data: Buffer; stat: Stat }> {
    const [stat, data] = await this.call<[Stat, Buffer | null]>(
      (cb) => this.native.a_get(path, watch, cb),
      (stat, data) => [stat, data],
    );
    return { data: data ?? Buffer.alloc(0), stat };
  }

  async getChildren(path: string, watch: boolean): Promise<{ children: string[]; stat: Stat }> {
    const [children, stat] = await this.call<[string[], Stat]>(
      (cb) => this.native.a_get_children2(path, watch, cb),
      (children, stat) => [children ?? [], stat],
    );
    return { children, stat };
  }

  set(path: string, data: Buffer, version: number): Promise<Stat> {
    return this.call((cb) => this.native.a_set(path, data, version, cb));
  }

  delete(path: string, version: number): Promise<void> {
    return this.call((cb) => this.native.a_delete_(path, version, cb));
  }

  /**
   * Over a side session of the wire driver, never the addon's `a_get_acl`: the addon crashes the
   * process on any failed getAcl reply, which a node deleted concurrently or a connection lost
   * mid-call produces (see AclReader).
   */
  getAcl(path: string): Promise<{ acl: Acl[]; stat: Stat }> {
    if (this.ended) return Promise.reject(new DriverFailure(INVALID_STATE, 'session closed'));
    if (!this.linkUp) return Promise.reject(new DriverFailure(CONNECTION_LOSS, 'not connected'));
    return this.acls.getAcl(path);
  }

  setAcl(path: string, acl: readonly Acl[], version: number): Promise<void> {
    const driverAcl = acl.map((entry) => ({
      perm: entry.perms,
      scheme: entry.scheme,
      auth: entry.id,
    }));
    return this.call((cb) => this.native.a_set_acl(path, version, driverAcl, cb));
  }

  async addAuth(scheme: string, credentials: string): Promise<void> {
    await this.call((cb) => this.native.add_auth(scheme, credentials, cb));
    this.acls.addAuth(scheme, credentials);
  }

  sync(path: string): Promise<void> {
    return this.call((cb) => this.native.a_sync(path, cb));
  }

  private call<T>(
    invoke: (cb: Callback) => number,
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- see Callback
    pick: (...results: any[]) => T = (first) => first,
  ): Promise<T> {
    if (this.ended) return Promise.reject(new DriverFailure(INVALID_STATE, 'session closed'));
    return new Promise<T>((resolve, reject) => {
      const rc = invoke((code, message, ...results) => {
        if (code === ZOK) resolve(pick(...results));
        else reject(new DriverFailure(code, message));
      });
      // A non-zero return means the request was never queued and its callback will not run.
      if (rc !== ZOK) reject(new DriverFailure(rc, 'request refused by the client'));
    });
  }

  private onClose(code: number): void {
    // The driver emits 'close' more than once on expiry; only the first one means anything.
    if (this.ended) return;
    this.ended = true;
    this.acls.close();
    this.listener.closed(code);
  }
}
