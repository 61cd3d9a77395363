import { Serializer } from '../codec/serializers.js';

/** Options of a ZookeeperStorage. */
export interface ZookeeperStorageOptions {
  /** Node under which keys live (relative to the connection's namespace). Default '/storage'. */
  root?: string;
  /** Values to and from bytes. Default: JSON (raw bytes need BufferSerializer). */
  serializer?: Serializer;
  /**
   * Values above this many bytes are split into chunk znodes. Default 1,000,000: a little below
   * ZooKeeper's default jute.maxbuffer (1 MiB), which bounds a whole request.
   */
  maxNodeBytes?: number;
  /** Store values above `maxNodeBytes` as chunks (true, default) or refuse them (ValueTooLargeError). */
  chunking?: boolean;
  /** Re-create `ephemeral: true` keys after a session expiry (like Curator's PersistentNode). Default true. */
  recreateEphemeralsOnExpiry?: boolean;
  /** Attempts of `update` / `increment` before UpdateConflictError. Default 100. */
  updateRetries?: number;
}

/** Options of `set`. */
export interface SetOptions {
  /** Compare-and-set: write only if the entry is still at this version (BadVersionError otherwise). */
  expectedVersion?: number;
  /** Create the key as a TTL node: removed by the server when unchanged and childless this long. */
  ttlMs?: number;
  /** Create the key as an ephemeral node, living as long as the session (see recreateEphemeralsOnExpiry). */
  ephemeral?: boolean;
}

/** Options of `delete`. */
export interface StorageDeleteOptions {
  /** Delete only if the entry is still at this version. */
  expectedVersion?: number;
  /** Also delete child keys (not atomic: a concurrent writer can add children meanwhile). */
  recursive?: boolean;
}
