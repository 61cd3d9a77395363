/** Metadata of a znode, as ZooKeeper reports it. */
export interface Stat {
  czxid: number;
  mzxid: number;
  pzxid: number;
  ctime: Date;
  mtime: Date;
  /** Data version: the value to pass as `version` for compare-and-set. */
  version: number;
  /** Children version. */
  cversion: number;
  /** ACL version. */
  aversion: number;
  /** Session id (hex) owning this ephemeral node, or '0' for non-ephemeral nodes. */
  ephemeralOwner: string;
  dataLength: number;
  numChildren: number;
}

/** One ACL entry: permissions (bitmask of {@link Permission}) granted to an identity. */
export interface Acl {
  perms: number;
  scheme: string;
  id: string;
}

/** Permission bits of an ACL entry. */
export const Permission = {
  READ: 1,
  WRITE: 2,
  CREATE: 4,
  DELETE: 8,
  ADMIN: 16,
  ALL: 31,
} as const;

/** Credentials added to the session (e.g. `{ scheme: 'digest', credentials: 'user:password' }`). */
export interface AuthInfo {
  scheme: string;
  credentials: string;
}

/** The id and password of a live session: enough to reattach to it (see `expireSession`). */
export interface SessionCredentials {
  id: string;
  password: string;
  timeoutMs: number;
}

/** What a one-shot watch reports. */
export enum WatchEventType {
  CREATED = 'created',
  DELETED = 'deleted',
  CHANGED = 'changed',
  CHILDREN = 'children',
  /** The session that held the watch is gone (expired or closed): the watch will never fire. */
  SESSION_LOST = 'session-lost',
}

export interface WatchEvent {
  type: WatchEventType;
  /** The watched path, as the caller wrote it (without namespace). */
  path: string;
}

export type Watcher = (event: WatchEvent) => void;
