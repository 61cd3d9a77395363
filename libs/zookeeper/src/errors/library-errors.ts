import { ZookeeperError, ZookeeperErrorContext } from './zookeeper.error.js';

/** Codes for errors the library detects itself, kept apart from ZooKeeper's own result codes. */
export enum LibraryErrorCode {
  INVALID_PATH = -1001,
  CONNECT_TIMEOUT = -1002,
  CONNECTION_CLOSED = -1003,
  RETRIES_EXHAUSTED = -1004,
  INVALID_OPTIONS = -1005,
}

/** A path was rejected before it reached the server; `reason` says which rule it broke. */
export class InvalidPathError extends ZookeeperError {
  readonly reason: string;

  constructor(path: string, reason: string, context: ZookeeperErrorContext = {}) {
    super(LibraryErrorCode.INVALID_PATH, `invalid ZooKeeper path: ${reason}`, { ...context, path });
    this.reason = reason;
  }
}

/** No server of the ensemble could be reached before the connect deadline. */
export class ConnectTimeoutError extends ZookeeperError {
  readonly connectString: string;
  readonly timeoutMs: number;

  constructor(connectString: string, timeoutMs: number) {
    super(
      LibraryErrorCode.CONNECT_TIMEOUT,
      `could not connect to ZooKeeper at '${connectString}' within ${timeoutMs} ms: ` +
        'check that the ensemble is running and reachable, or raise connectTimeoutMs',
      { operation: 'connect' },
    );
    this.connectString = connectString;
    this.timeoutMs = timeoutMs;
  }
}

/** The connection was closed by the application; it cannot be used again. */
export class ConnectionClosedError extends ZookeeperError {
  constructor(context?: ZookeeperErrorContext) {
    super(
      LibraryErrorCode.CONNECTION_CLOSED,
      'the connection is closed (application shutdown or close() was called)',
      context,
    );
  }
}

/** Options given to the connection or module are invalid; the message names the option. */
export class InvalidOptionsError extends ZookeeperError {
  constructor(message: string) {
    super(LibraryErrorCode.INVALID_OPTIONS, `invalid ZooKeeper options: ${message}`);
  }
}
