export type { Acl, Stat } from '../driver/driver-types.js';
export { WatchEventType } from '../driver/driver-types.js';
import { WatchEventType } from '../driver/driver-types.js';

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

export interface WatchEvent {
  type: WatchEventType;
  /** The watched path, as the caller wrote it (without namespace). */
  path: string;
}

export type Watcher = (event: WatchEvent) => void;
