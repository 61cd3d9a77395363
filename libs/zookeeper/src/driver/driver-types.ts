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

/** What a watch reports. */
export enum WatchEventType {
  CREATED = 'created',
  DELETED = 'deleted',
  CHANGED = 'changed',
  CHILDREN = 'children',
  /** The session that held the watch is gone (expired or closed): the watch will never fire. */
  SESSION_LOST = 'session-lost',
}
