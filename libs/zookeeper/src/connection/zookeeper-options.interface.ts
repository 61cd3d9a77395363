import { LoggerService } from '@nestjs/common';
import { DriverName, DriverTlsOptions } from '../driver/driver-session.interface.js';
import { RetryPolicyOptions } from './retry-policy.js';
import { Acl, AuthInfo } from './zookeeper-types.js';

/** Log level of the ZooKeeper C client inside the driver (it writes to stderr). */
export type DriverLogLevel = 'off' | 'error' | 'warn' | 'info' | 'debug';

/** Options of one ZooKeeper connection (one session at a time). */
export interface ZookeeperOptions {
  /** Ensemble, e.g. 'zk1:2181,zk2:2181,zk3:2181' (a '/chroot' suffix is passed to the client). */
  connectString: string;
  /** Requested session timeout; the server clamps it to [2, 20] x its tickTime by default. Default 30000. */
  sessionTimeoutMs?: number;
  /** How long connect() waits for the first session before failing. Default 15000. */
  connectTimeoutMs?: number;
  /**
   * Every path is relative to this node (like Curator's namespace); it is created on connect.
   * Example: 'orders-service'.
   */
  namespace?: string;
  /** Credentials added to every session, e.g. [{ scheme: 'digest', credentials: 'app:secret' }]. */
  auth?: AuthInfo[];
  /** ACL applied to nodes this connection creates when the create call gives none. */
  defaultAcl?: readonly Acl[];
  /** Retries of idempotent operations after a connection loss. */
  retry?: RetryPolicyOptions;
  /** Where the connection logs its state changes. Default: Nest's Logger with the connection name. */
  logger?: LoggerService;
  /** Name of the connection (for logs and named connections in the module). Default 'default'. */
  name?: string;
  /**
   * The client under the connection: 'wire' (the library's own TypeScript client: transactions,
   * ACLs in the create request, persistent watches, TLS) or 'native' (the optional `zookeeper`
   * package over the C client). Default: the ZOOKEEPER_DRIVER environment variable, else 'wire'.
   */
  driver?: DriverName;
  /** Wire driver only: connect over TLS (CA, client certificate and key, server name). */
  tls?: DriverTlsOptions;
  /**
   * Wire driver only: the servers' jute.maxbuffer, in bytes. A larger request is refused unsent
   * with FrameTooLargeError (a server drops the connection on one); replies may be up to 1024
   * bytes larger (header and stat around a value of that size). Default 0xfffff (1,048,575).
   */
  maxFrameBytes?: number;
  /** Native driver only: C client log level (process-wide). Default 'off'. */
  driverLogLevel?: DriverLogLevel;
}

export const DRIVER_LOG_LEVELS: Record<DriverLogLevel, number> = {
  off: 0,
  error: 1,
  warn: 2,
  info: 3,
  debug: 4,
};
