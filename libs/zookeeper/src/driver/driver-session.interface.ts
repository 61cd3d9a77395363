import { Acl, Stat, WatchEventType } from './driver-types.js';
import { MultiOp, MultiResult } from './multi.js';

/** The drivers a connection can run on. */
export type DriverName = 'wire' | 'native';

/** What a driver can do beyond the operations every driver has. */
export interface DriverCapabilities {
  /** `multi`: several operations applied atomically (all or none). */
  multi: boolean;
  /** `create` applies the ACL in the create request itself (no window with the default ACL). */
  createWithAcl: boolean;
  /** `addWatch` / `removeWatches`: persistent and persistent-recursive watches (ZooKeeper 3.6+). */
  persistentWatches: boolean;
  /** The `tls` option. */
  tls: boolean;
}

/** How `addWatch` watches a path (ZooKeeper's AddWatchMode). */
export enum PersistentWatchMode {
  /** Data and child events of the path itself, until removed. */
  PERSISTENT = 0,
  /** Created, changed and deleted events of the path and every node below it, until removed. */
  PERSISTENT_RECURSIVE = 1,
}

/** TLS settings of the wire driver (PEM strings or Buffers, as node:tls takes them). */
export interface DriverTlsOptions {
  ca?: string | Buffer | Array<string | Buffer>;
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Name checked against the server certificate; default: the host of the connect string. */
  servername?: string;
  /** Default true: refuse a server whose certificate the CA does not vouch for. */
  rejectUnauthorized?: boolean;
}

export interface DriverSessionConfig {
  /** 'host:port,host:port[/chroot]'. */
  connectString: string;
  sessionTimeoutMs: number;
  /** Native driver: C client log level, 0 off … 4 debug (process-wide in the C client). */
  logLevel: number;
  /** Reattach to an existing session (used by expireSession). */
  session?: { id: string; password: string };
  /** Wire driver: connect over TLS. */
  tls?: DriverTlsOptions;
  /** Wire driver: the largest request; replies up to 1024 bytes more (ZooKeeper's jute.maxbuffer). */
  maxFrameBytes?: number;
}

/** How a driver session reports what happens to it. Nothing is reported after `close()`. */
export interface DriverSessionListener {
  /** The session is (again) usable: after the first connect and after every reconnect. */
  connected(): void;
  /** The link dropped; the driver is reconnecting and queues requests meanwhile. */
  connecting(): void;
  /** The session is gone for good: -112 expired, -113 authentication failed, other: closed. */
  closed(code: number): void;
  /** A watch fired on `serverPath` (a one-shot watch of this session, or a persistent one). */
  watch(type: WatchEventType, serverPath: string): void;
  /**
   * Optional: why a connection attempt failed (refused, TLS, protocol, timeout); the driver goes on
   * trying the next server. The connection names the last reason when connect() times out.
   */
  attemptFailed?(reason: Error): void;
}

/**
 * One ZooKeeper session, used once: after `close()` or `closed` it is never used again and the
 * connection opens a new one. Every failure rejects with a `DriverFailure`; `exists` of a missing
 * node rejects with NO_NODE (-101), its watch still set when asked for. Paths are server paths
 * (below the chroot, if any). Watches are the session's: events go to the listener.
 */
export interface DriverSession {
  /** Starts connecting; throws when the driver cannot even start (e.g. no host resolves). */
  open(): void;
  readonly isEnded: boolean;
  /** Session id and password (hex) and the negotiated timeout. */
  readonly credentials: { id: string; password: string; timeoutMs: number };
  /** The session timeout the server granted (0 before the first connect). */
  readonly negotiatedTimeoutMs: number;
  /**
   * Ends the session; resolves once the server answered (its ephemeral nodes are gone) or the
   * close gave up waiting (no connection, or the driver's close timeout).
   */
  close(): Promise<void>;

  /** Resolves to the created path; `acl` given only when the driver has `createWithAcl`. */
  create(
    path: string,
    data: Buffer,
    flags: number,
    ttlMs?: number,
    acl?: readonly Acl[],
  ): Promise<string>;
  exists(path: string, watch: boolean): Promise<Stat>;
  get(path: string, watch: boolean): Promise<{ data: Buffer; stat: Stat }>;
  getChildren(path: string, watch: boolean): Promise<{ children: string[]; stat: Stat }>;
  set(path: string, data: Buffer, version: number): Promise<Stat>;
  delete(path: string, version: number): Promise<void>;
  getAcl(path: string): Promise<{ acl: Acl[]; stat: Stat }>;
  setAcl(path: string, acl: readonly Acl[], version: number): Promise<void>;
  addAuth(scheme: string, credentials: string): Promise<void>;
  sync(path: string): Promise<void>;

  /** Only with the `multi` capability: all ops or none; rejects with a `MultiFailure`. */
  multi?(ops: readonly MultiOp[]): Promise<MultiResult[]>;
  /** Only with `persistentWatches`: re-registered after every reconnect until removed. */
  addWatch?(path: string, mode: PersistentWatchMode): Promise<void>;
  /** Only with `persistentWatches`: removes this session's persistent watch of `path`. */
  removePersistentWatch?(path: string): Promise<void>;
}

/** A driver: its capabilities and a factory of sessions. */
export interface ZookeeperDriver {
  readonly name: DriverName;
  readonly capabilities: DriverCapabilities;
  createSession(config: DriverSessionConfig, listener: DriverSessionListener): DriverSession;
}
