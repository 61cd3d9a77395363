import { ZookeeperError, ZookeeperErrorContext } from './zookeeper.error.js';

/**
 * Codes of the errors the library detects itself, below -1000, kept apart from ZooKeeper's own
 * result codes: one list, so no two layers ever use the same code.
 */
export enum LibraryErrorCode {
  INVALID_PATH = -1001,
  CONNECT_TIMEOUT = -1002,
  CONNECTION_CLOSED = -1003,
  INVALID_OPTIONS = -1005,
  LOCK_STATE = -1006,
  INVALID_COUNTER_VALUE = -1007,
  INVALID_SERVICE_INSTANCE = -1008,
  REGISTRATION_CONFLICT = -1009,
  INSTALLATION = -1010,
  SERVER_START = -1011,
  TESTING = -1012,
  WATCH_LIMIT = -1013,
  OPTIONAL_DEPENDENCY_MISSING = -1014,
  // storage
  INVALID_KEY = -1101,
  VALUE_TOO_LARGE = -1102,
  UPDATE_CONFLICT = -1104,
  CORRUPT_VALUE = -1105,
  INVALID_VALUE = -1106,
  STALE_GENERATION = -1107,
  INTERRUPTED_GENERATION = -1108,
  // codec
  SERIALIZATION = -1103,
  // messaging
  MESSAGE_TOO_LARGE = -1201,
  CORRUPT_BATCH = -1202,
  MESSAGING_CLOSED = -1203,
  DELIVERY_RELEASED = -1204,
  CORRUPT_OFFSET = -1205,
  PUBLISH_BUFFER_FULL = -1206,
  SEQUENCE_EXHAUSTED = -1207,
  NOT_APPENDED = -1208,
  APPEND_OUTCOME_UNKNOWN = -1209,
  // transport
  INVALID_PACKET = -1301,
  REQUEST_TIMEOUT = -1302,
  REQUEST_SESSION_LOST = -1303,
  TRANSPORT_CLOSED = -1304,
  TRANSPORT_STATE = -1305,
  // driver
  DRIVER_UNAVAILABLE = -1401,
  PROTOCOL = -1402,
  FRAME_TOO_LARGE = -1403,
  TLS = -1404,
  CAPABILITY_MISSING = -1405,
  // config
  CONFIG_INVALID = -1501,
  CONFIG_UNAVAILABLE = -1502,
  CONFIG_DOCUMENT = -1503,
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

  /** `lastFailure`: why the last attempt failed, when the driver said (e.g. a TlsError). */
  constructor(
    connectString: string,
    timeoutMs: number,
    readonly lastFailure?: Error,
  ) {
    super(
      LibraryErrorCode.CONNECT_TIMEOUT,
      `could not connect to ZooKeeper at '${connectString}' within ${timeoutMs} ms` +
        (lastFailure ? ` (last attempt: ${lastFailure.message})` : '') +
        ': check that the ensemble is running and reachable, or raise connectTimeoutMs',
      lastFailure ? { operation: 'connect', cause: lastFailure } : { operation: 'connect' },
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

/**
 * A queue, topic or registry was asked for again with options that differ from the ones it was
 * first created with. Options are declared once per path: ask again without options (or with the
 * same ones), or use another path.
 */
export class RegistrationConflictError extends ZookeeperError {
  constructor(
    readonly kind: string,
    readonly key: string,
  ) {
    super(
      LibraryErrorCode.REGISTRATION_CONFLICT,
      `${kind} '${key}' already exists with other options: options are declared once per ` +
        `path; ask for it again without options, or pass the same ones`,
      { path: key },
    );
  }
}

/**
 * A feature needs an optional peer dependency that is not installed (js-yaml for YAML documents,
 * say). The message names the feature, the package and the command that installs it.
 */
export class OptionalDependencyMissingError extends ZookeeperError {
  constructor(
    readonly packageName: string,
    feature: string,
  ) {
    super(
      LibraryErrorCode.OPTIONAL_DEPENDENCY_MISSING,
      `${feature} needs the optional package '${packageName}', which is not installed: ` +
        `npm install ${packageName}`,
    );
  }
}

/** A testing helper (server, cluster, expireSession) could not do what was asked; says why. */
export class ZookeeperTestingError extends ZookeeperError {
  constructor(message: string, cause?: unknown) {
    super(LibraryErrorCode.TESTING, message, cause === undefined ? {} : { cause });
  }
}

/**
 * A new watch would make the session's watches too many to register again after a reconnect:
 * the native driver sends them all in one SetWatches packet, and a packet above the server's
 * frame limit (`jute.maxbuffer`) makes every reconnect fail, so the session could never recover.
 */
export class WatchLimitError extends ZookeeperError {
  constructor(
    path: string,
    readonly watchedBytes: number,
    readonly limitBytes: number,
  ) {
    super(
      LibraryErrorCode.WATCH_LIMIT,
      `cannot watch ${path}: the session's watched paths would take ${watchedBytes} bytes in the ` +
        `SetWatches packet the native driver sends on every reconnect, above its limit of ` +
        `${limitBytes} (maxFrameBytes, the servers' jute.maxbuffer). Watch fewer nodes, raise ` +
        'jute.maxbuffer on the servers and maxFrameBytes here, or use the wire driver, which ' +
        'splits SetWatches',
      { path },
    );
  }
}
